//! Startup errors: everything that stops the host before it serves, composed here at the top from the errors of
//! the layers below (config, registry, store, ...), which never see this type. Each renders as one line naming
//! the file, plugin or key at fault; `main` prints it and exits with status 2.

use std::path::PathBuf;

use crate::{registry::RegistryError, store::StoreError};

/// Why the host refused to start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the host key for secrets at rest: {0}")]
    HostKey(#[from] crate::host_key::HostKeyError),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("cannot open the database in {}: {source}", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("cannot read the user records in {}: {source}", path.display())]
    Records {
        path: PathBuf,
        #[source]
        source: crate::user_records::RecordError,
    },
    #[error("cannot use the PostgreSQL database of host.database_url: {0}")]
    Database(#[source] StoreError),
    #[error("host.secret_key is required with store = \"postgres\": every instance must use the same key")]
    SharedKeyRequired,
    #[error("upgrade: {0}")]
    Upgrade(#[from] crate::live::upgrade::InheritError),
    #[error("cannot register for SIGINT/SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics: {0}")]
    Telemetry(#[from] crate::telemetry::TelemetryError),
    #[error("plugin settings: {0}")]
    PluginSettings(#[from] crate::plugin_settings::SettingsError),
    #[error("admin API: {0}")]
    Admin(#[from] crate::admin_api::AdminStartError),
}
