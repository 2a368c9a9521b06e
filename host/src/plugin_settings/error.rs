//! Why plugin settings cannot be read, changed or saved.

use std::path::PathBuf;

use crate::store::StoreError;

/// Why the settings cannot be read or changed.
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
    #[error("the plugin settings stored in the database: {0}")]
    Store(#[source] StoreError),
    #[error("the plugin settings stored in the database do not read: {0}")]
    Stored(String),
}

/// Why a change that built was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the plugin settings changed meanwhile (on another instance)")]
    Changed,
    #[error(transparent)]
    Settings(#[from] SettingsError),
}
