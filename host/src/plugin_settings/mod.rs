//! Where plugin settings are saved, and how a change to them is made (docs/operating.md, "Admin API"): the
//! `[plugins.NAME]` tables of `plugins.toml` as written (`${VAR}` placeholders kept), and, with PostgreSQL, the
//! changes made through the admin API stored in the database over it ([`stored`]), so that every instance runs
//! the same settings. The settings in force are the file's text with the stored changes made to it ([`edit`]);
//! their ETag names them, so that a change made from a stale read is refused.

mod edit;
mod error;
mod stored;

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use ring::digest::{SHA256, digest};
use serde_json::Value;

use self::stored::{Changes, StoredChanges};
pub use self::{
    edit::PluginChange,
    error::{SaveError, SettingsError},
};
use crate::{
    config::{self, Config, ConfigError, Overrides},
    replace_file::replace_file,
    store::{Store, StoreError},
};

/// The settings in force, as read.
pub struct Saved {
    /// The config file's text with the stored changes made to it: what a config is parsed from.
    pub text: String,
    /// The `[plugins]` tables of `text`, as written, in JSON.
    pub plugins: serde_json::Map<String, Value>,
    /// A strong ETag (quoted) of `plugins`.
    pub etag: String,
    /// The version of the stored changes (0 without any).
    pub version: u64,
    file_text: String,
    stored: Option<stored::Read>,
}

impl Saved {
    /// The setting `field` of plugin `name` as the API shows it: `enabled` true when unset, others `null`.
    pub fn field(&self, name: &str, field: &str) -> Value {
        match self.plugins.get(name).and_then(|table| table.get(field)) {
            Some(value) => value.clone(),
            None if field == "enabled" => Value::Bool(true),
            None => Value::Null,
        }
    }
}

/// A change made to the settings read, not saved yet.
pub struct Pending {
    /// The settings in force once it is saved.
    pub text: String,
    save: Save,
}

enum Save {
    /// The config file's new text.
    File(String),
    /// The stored changes' next version, over the document read.
    Stored { read: stored::Read, next: Changes },
}

/// Where this instance's plugin settings are saved.
pub struct PluginSettings {
    path: PathBuf,
    overrides: Overrides,
    stored: Option<StoredChanges>,
    /// The version of the stored changes this instance last built a generation from.
    applied: AtomicU64,
}

impl PluginSettings {
    /// The settings of the config file `path`; with `shared` (a store several instances use), changes are kept
    /// in it.
    pub fn new(path: &Path, overrides: Overrides, shared: Option<&dyn Store>) -> Result<PluginSettings, StoreError> {
        let stored = match shared {
            Some(store) => Some(StoredChanges::new(store.namespace(stored::NAMESPACE)?)),
            None => None,
        };
        Ok(PluginSettings {
            path: path.to_owned(),
            overrides,
            stored,
            applied: AtomicU64::new(0),
        })
    }

    /// Reads the settings in force.
    pub async fn read(&self) -> Result<Saved, SettingsError> {
        let file_text = std::fs::read_to_string(&self.path).map_err(|source| SettingsError::Read {
            path: self.path.clone(),
            source,
        })?;
        let stored = match &self.stored {
            Some(stored) => Some(stored.read().await?),
            None => None,
        };
        let mut text = file_text.clone();
        for (name, change) in stored.iter().flat_map(|read| &read.changes.plugins) {
            text = edit::edit(&text, name, change)?;
        }
        let plugins = self.tables(&text)?;
        Ok(Saved {
            etag: etag_of(&plugins),
            version: stored.as_ref().map_or(0, |read| read.changes.version),
            plugins,
            text,
            file_text,
            stored,
        })
    }

    /// The config in force per `saved`, as a reload builds from it.
    pub fn config(&self, saved: &Saved) -> Result<Config, ConfigError> {
        self.parse(&saved.text)
    }

    /// The config of a config file's `text` (the settings a change would put in force), as read from this
    /// instance's file with its command line.
    pub fn parse(&self, text: &str) -> Result<Config, ConfigError> {
        Config::parse(&self.path, text, &self.overrides)
    }

    /// `change` made to plugin `name` of `saved`, to be built and then saved.
    pub fn change(&self, saved: &Saved, name: &str, change: &PluginChange) -> Result<Pending, SettingsError> {
        let text = edit::edit(&saved.text, name, change)?;
        let save = match &saved.stored {
            None => Save::File(edit::edit(&saved.file_text, name, change)?),
            Some(read) => {
                let mut next = read.changes.clone();
                next.version += 1;
                next.plugins.entry(name.to_owned()).or_default().merge(change);
                Save::Stored {
                    read: read.clone(),
                    next,
                }
            }
        };
        Ok(Pending { text, save })
    }

    /// Saves `pending`: the file replaced atomically, or the stored changes swapped for their next version
    /// ([`SaveError::Changed`] if another instance swapped them first).
    pub async fn save(&self, pending: &Pending) -> Result<(), SaveError> {
        match &pending.save {
            Save::File(text) => replace_file(&self.path, text.as_bytes(), 0o600).map_err(|source| SaveError::Write {
                path: self.path.clone(),
                source,
            }),
            Save::Stored { read, next } => {
                let stored = self.stored.as_ref().ok_or(SaveError::Changed)?;
                if !stored.replace(read, next).await? {
                    return Err(SaveError::Changed);
                }
                self.applied.store(next.version, Ordering::Release);
                Ok(())
            }
        }
    }

    /// Notes that the generation serving now was built from `saved`.
    pub fn applied(&self, saved: &Saved) {
        self.applied.store(saved.version, Ordering::Release);
    }

    /// Whether another instance changed the stored settings since this one last built from them (always
    /// `false` without stored changes).
    pub async fn changed_elsewhere(&self) -> Result<bool, SettingsError> {
        let Some(stored) = &self.stored else {
            return Ok(false);
        };
        let version = stored.read().await?.changes.version;
        Ok(version != self.applied.load(Ordering::Acquire))
    }

    /// Whether a change heard from the store ([`crate::store::Store::changes`]) may be of the stored settings.
    pub fn touched_by(change: &crate::store::KeyChange) -> bool {
        change.may_be(stored::NAMESPACE, stored::KEY)
    }

    /// Whether changes are kept in a store several instances share.
    pub fn shared(&self) -> bool {
        self.stored.is_some()
    }

    /// The `[plugins]` tables of a config file's `text`, as written.
    fn tables(&self, text: &str) -> Result<serde_json::Map<String, Value>, SettingsError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| SettingsError::Parse {
            path: self.path.clone(),
            message: crate::text::one_line(&e.to_string()),
        })?;
        Ok(match table.get("plugins").and_then(toml::Value::as_table) {
            Some(plugins) => plugins
                .iter()
                .map(|(name, value)| (name.clone(), to_json(value)))
                .collect(),
            None => serde_json::Map::new(),
        })
    }
}

/// The ETag of a set of plugin tables: a digest of their JSON (keys in order, so equal settings name alike).
fn etag_of(plugins: &serde_json::Map<String, Value>) -> String {
    let canonical = Value::Object(plugins.clone()).to_string();
    let hash = digest(&SHA256, canonical.as_bytes());
    format!("\"{}\"", hex::encode(&hash.as_ref()[..16]))
}

/// A TOML value as JSON, as written: `${VAR}` placeholders stay placeholders.
fn to_json(value: &toml::Value) -> Value {
    config::toml_to_json(value, &|text| Ok(text.to_owned())).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_etag_names_the_plugin_tables_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.toml");
        let settings = PluginSettings::new(&path, Overrides::default(), None).unwrap();
        let etag = async |text: &str| {
            std::fs::write(&path, text).unwrap();
            settings.read().await.unwrap().etag
        };
        let base = etag("[host]\nlisten = \"127.0.0.1:1\"\n[plugins.a]\nenabled = true\n").await;
        assert_eq!(
            base,
            etag("# a comment\n[plugins.a]\nenabled = true\n[host]\nlisten = \"127.0.0.1:2\"\n").await
        );
        assert_ne!(base, etag("[plugins.a]\nenabled = false\n").await);
        let saved = settings.read().await.unwrap();
        assert_eq!(saved.plugins["a"]["enabled"], false);
    }

    #[tokio::test]
    async fn stored_changes_go_over_the_file_and_one_of_two_at_once_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.toml");
        std::fs::write(&path, "[plugins.a]\nenabled = true\n").unwrap();
        let store = crate::store::SledStore::open(&dir.path().join("data")).unwrap();
        let one = PluginSettings::new(&path, Overrides::default(), Some(&store)).unwrap();
        let two = PluginSettings::new(&path, Overrides::default(), Some(&store)).unwrap();
        let (read_one, read_two) = (one.read().await.unwrap(), two.read().await.unwrap());
        let off = PluginChange {
            enabled: Some(false),
            ..PluginChange::default()
        };
        let ordered = PluginChange {
            order: Some(7),
            ..PluginChange::default()
        };
        let first = one.change(&read_one, "a", &off).unwrap();
        let second = two.change(&read_two, "a", &ordered).unwrap();
        one.save(&first).await.unwrap();
        assert!(matches!(two.save(&second).await, Err(SaveError::Changed)));
        // The file is the base, untouched; both instances read the change over it.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[plugins.a]\nenabled = true\n");
        let now = two.read().await.unwrap();
        assert_eq!((now.version, &now.plugins["a"]["enabled"]), (1, &Value::Bool(false)));
        assert!(two.changed_elsewhere().await.unwrap());
        assert!(!one.changed_elsewhere().await.unwrap());
    }
}
