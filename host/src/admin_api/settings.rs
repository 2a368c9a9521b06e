//! The plugin settings an operator edits through the admin API, as saved: the `[plugins.NAME]` tables of
//! `plugins.toml` as written (`${VAR}` placeholders kept), and the ETag that names them, so that a change made
//! from a stale read is refused.

use std::path::{Path, PathBuf};

use ring::digest::{SHA256, digest};
use serde_json::Value;

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
}

/// The `[plugins]` tables as saved, and their ETag.
pub struct SavedSettings {
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
}
