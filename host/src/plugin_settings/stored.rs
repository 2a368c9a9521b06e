//! With PostgreSQL, the plugin settings changed through the admin API are kept in the database, over
//! `plugins.toml` (which stays the base every instance reads): one document in the store's `plugin_settings`
//! namespace, `{"version": N, "plugins": {NAME: {enabled, order, config}}}`, replaced only by a compare-and-swap
//! on the document read, so that of two changes made at once on two instances one wins and the other is told.

use std::{collections::BTreeMap, sync::Arc};

use serde::{Deserialize, Serialize};

use super::{edit::PluginChange, error::SettingsError};
use crate::store::Namespace;

/// The store namespace of the document.
pub const NAMESPACE: &str = "plugin_settings";
/// The key of the document.
pub const KEY: &[u8] = b"changes";

/// The changes made over `plugins.toml`, by plugin.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// Bumped by every change: what instances compare to see whether they run the latest.
    pub version: u64,
    pub plugins: BTreeMap<String, PluginChange>,
}

/// The changes as read: the document's bytes (what a change swaps against) and what they say.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub raw: Option<Vec<u8>>,
    pub changes: Changes,
}

/// The document in the store.
#[derive(Clone)]
pub struct StoredChanges {
    namespace: Arc<dyn Namespace>,
}

impl StoredChanges {
    pub fn new(namespace: Arc<dyn Namespace>) -> StoredChanges {
        StoredChanges { namespace }
    }

    pub async fn read(&self) -> Result<Read, SettingsError> {
        let raw = self.namespace.get(KEY).await.map_err(SettingsError::Store)?;
        let changes = match &raw {
            Some(bytes) => serde_json::from_slice(bytes).map_err(|e| SettingsError::Stored(e.to_string()))?,
            None => Changes::default(),
        };
        Ok(Read { raw, changes })
    }

    /// Replaces the document `read` was read from with `changes`; `false` if another change replaced it first.
    pub async fn replace(&self, read: &Read, changes: &Changes) -> Result<bool, SettingsError> {
        let bytes = serde_json::to_vec(changes).map_err(|e| SettingsError::Stored(e.to_string()))?;
        let swapped = self
            .namespace
            .compare_and_swap(KEY, read.raw.as_deref(), Some(&bytes))
            .await
            .map_err(SettingsError::Store)?;
        if swapped {
            self.namespace.flush().await.map_err(SettingsError::Store)?;
        }
        Ok(swapped)
    }
}
