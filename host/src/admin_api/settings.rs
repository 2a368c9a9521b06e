//! The plugin settings an operator edits through the admin API, as saved: the `[plugins.NAME]` tables of
//! `plugins.toml` as written (`${VAR}` placeholders kept), the ETag that names them, so that a change made from
//! a stale read is refused, and a change made to the file's text with its comments and layout kept
//! (`toml_edit`).

use std::path::{Path, PathBuf};

use ring::digest::{SHA256, digest};
use serde::Deserialize;
use serde_json::Value;
use toml_edit::{DocumentMut, Item, TableLike};

use crate::config;

/// Why the saved settings cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid TOML: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Change(String),
}

/// A change to one plugin's settings: the body of `PATCH /admin/api/plugins/NAME`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginChange {
    pub enabled: Option<bool>,
    pub order: Option<i32>,
    /// A JSON object (the `config` table), or a string (a sandboxed plugin's config bytes).
    pub config: Option<Value>,
}

impl PluginChange {
    /// The settings it changes, with their new values as the API shows them.
    pub fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields = Vec::new();
        if let Some(enabled) = self.enabled {
            fields.push(("enabled", Value::Bool(enabled)));
        }
        if let Some(order) = self.order {
            fields.push(("order", Value::from(order)));
        }
        if let Some(config) = &self.config {
            fields.push(("config", config.clone()));
        }
        fields
    }
}

/// The `[plugins]` tables as saved, and their ETag.
pub struct SavedSettings {
    /// The whole file, as read.
    pub text: String,
    /// Plugin name -> its table as written, in JSON.
    pub plugins: serde_json::Map<String, Value>,
    /// A strong ETag (quoted) of `plugins`.
    pub etag: String,
}

impl SavedSettings {
    /// Reads the `[plugins]` tables of the config file at `path`.
    pub fn read(path: &Path) -> Result<SavedSettings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| SettingsError::Parse {
            path: path.to_owned(),
            message: crate::text::one_line(&e.to_string()),
        })?;
        let plugins = match table.get("plugins").and_then(toml::Value::as_table) {
            Some(plugins) => plugins
                .iter()
                .map(|(name, value)| (name.clone(), to_json(value)))
                .collect(),
            None => serde_json::Map::new(),
        };
        Ok(SavedSettings {
            etag: etag_of(&plugins),
            plugins,
            text,
        })
    }

    /// The setting `field` of plugin `name` as the API shows it: `enabled` true when unset, others `null`.
    pub fn field(&self, name: &str, field: &str) -> Value {
        match self.plugins.get(name).and_then(|table| table.get(field)) {
            Some(value) => value.clone(),
            None if field == "enabled" => Value::Bool(true),
            None => Value::Null,
        }
    }

    /// The file's text with `change` made to `[plugins.NAME]` (made if missing); every other byte as it was,
    /// and within the config table, the keys whose value did not change keep their comments.
    pub fn edited(&self, name: &str, change: &PluginChange) -> Result<String, SettingsError> {
        let mut document: DocumentMut = self
            .text
            .parse()
            .map_err(|e: toml_edit::TomlError| SettingsError::Change(crate::text::one_line(&e.to_string())))?;
        let plugins = document
            .entry("plugins")
            .or_insert_with(implicit_table)
            .as_table_like_mut()
            .ok_or_else(|| SettingsError::Change("`plugins` in the config file is not a table".into()))?;
        let table = plugins
            .entry(name)
            .or_insert(toml_edit::table())
            .as_table_like_mut()
            .ok_or_else(|| SettingsError::Change(format!("`plugins.{name}` in the config file is not a table")))?;
        if let Some(enabled) = change.enabled {
            set(table, "enabled", toml_edit::Value::from(enabled));
        }
        if let Some(order) = change.order {
            set(table, "order", toml_edit::Value::from(i64::from(order)));
        }
        match &change.config {
            None => {}
            Some(Value::String(text)) => set(table, "config", toml_edit::Value::from(text.as_str())),
            Some(Value::Object(config)) => {
                if !table.get("config").is_some_and(Item::is_table_like) {
                    table.insert("config", toml_edit::table());
                }
                let Some(into) = table.get_mut("config").and_then(Item::as_table_like_mut) else {
                    return Err(SettingsError::Change("`config` cannot be made a table".into()));
                };
                let stale: Vec<String> = into
                    .iter()
                    .map(|(key, _)| key.to_owned())
                    .filter(|key| !config.contains_key(key))
                    .collect();
                for key in stale {
                    into.remove(&key);
                }
                for (key, value) in config {
                    set(into, key, toml_value(value, key)?);
                }
            }
            Some(_) => {
                return Err(SettingsError::Change(
                    "config must be an object (the plugin's table) or a string (a sandboxed plugin's bytes)".into(),
                ));
            }
        }
        Ok(document.to_string())
    }
}

/// A table that is written only through its sub-tables (`[plugins.NAME]`, never a bare `[plugins]`).
fn implicit_table() -> Item {
    let mut table = toml_edit::Table::new();
    table.set_implicit(true);
    Item::Table(table)
}

/// Sets `key` to `value`, keeping the comments and spacing around a value that was there, and the value itself
/// when it is already that.
fn set(table: &mut dyn TableLike, key: &str, mut value: toml_edit::Value) {
    if let Some(Item::Value(existing)) = table.get_mut(key) {
        let mut bare = existing.clone();
        bare.decor_mut().clear();
        if bare.to_string() == value.to_string() {
            return;
        }
        *value.decor_mut() = existing.decor().clone();
        *existing = value;
        return;
    }
    table.insert(key, Item::Value(value));
}

/// A JSON value as a TOML one; `null` has no TOML form.
fn toml_value(value: &Value, key: &str) -> Result<toml_edit::Value, SettingsError> {
    Ok(match value {
        Value::Null => {
            return Err(SettingsError::Change(format!(
                "config `{key}` is null: TOML has no null; leave the key out"
            )));
        }
        Value::Bool(flag) => toml_edit::Value::from(*flag),
        Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => toml_edit::Value::from(integer),
            (None, Some(float)) => toml_edit::Value::from(float),
            (None, None) => {
                return Err(SettingsError::Change(format!(
                    "config `{key}` is a number TOML cannot hold"
                )));
            }
        },
        Value::String(text) => toml_edit::Value::from(text.as_str()),
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(toml_value(item, key)?);
            }
            toml_edit::Value::Array(array)
        }
        Value::Object(fields) => {
            let mut table = toml_edit::InlineTable::new();
            for (name, item) in fields {
                table.insert(name, toml_value(item, name)?);
            }
            toml_edit::Value::InlineTable(table)
        }
    })
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

    #[test]
    fn the_etag_names_the_plugin_tables_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.toml");
        let etag = |text: &str| {
            std::fs::write(&path, text).unwrap();
            SavedSettings::read(&path).unwrap().etag
        };
        let base = etag("[host]\nlisten = \"127.0.0.1:1\"\n[plugins.a]\nenabled = true\n");
        assert_eq!(
            base,
            etag("# a comment\n[plugins.a]\nenabled = true\n[host]\nlisten = \"127.0.0.1:2\"\n")
        );
        assert_ne!(base, etag("[plugins.a]\nenabled = false\n"));
        let saved = SavedSettings::read(&path).unwrap();
        assert_eq!(saved.plugins["a"]["enabled"], false);
    }

    #[test]
    fn a_change_keeps_every_other_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.toml");
        let text = "# the host\n[host]\nlisten = \"127.0.0.1:1\"\n\n# stamps responses\n[plugins.stamp]\nenabled = true # on\n\n[plugins.stamp.config]\n# the header\nheader = \"x-a\"\nvalue = \"${STAMP}\"\n";
        std::fs::write(&path, text).unwrap();
        let saved = SavedSettings::read(&path).unwrap();
        let change = PluginChange {
            enabled: Some(false),
            order: None,
            config: Some(serde_json::json!({"header": "x-a", "value": "${OTHER}", "paths": ["/a", 2]})),
        };
        let edited = saved.edited("stamp", &change).unwrap();
        assert_eq!(
            edited,
            "# the host\n[host]\nlisten = \"127.0.0.1:1\"\n\n# stamps responses\n[plugins.stamp]\nenabled = false # on\n\n[plugins.stamp.config]\n# the header\nheader = \"x-a\"\nvalue = \"${OTHER}\"\npaths = [\"/a\", 2]\n"
        );
        let added = saved
            .edited(
                "other",
                &PluginChange {
                    enabled: Some(false),
                    ..PluginChange::default()
                },
            )
            .unwrap();
        assert!(
            added.starts_with(text) && added.ends_with("[plugins.other]\nenabled = false\n"),
            "{added}"
        );
        let null = PluginChange {
            config: Some(serde_json::json!({"a": null})),
            ..PluginChange::default()
        };
        assert!(saved.edited("stamp", &null).unwrap_err().to_string().contains("null"));
    }
}
