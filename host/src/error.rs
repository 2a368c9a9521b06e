//! Startup errors: everything that stops the host before it serves. Each renders as one line naming the file,
//! plugin or key at fault; `main` prints it and exits with status 2.

use std::path::PathBuf;

/// Why the host refused to start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot read config {path}: {source}")]
    ConfigRead { path: PathBuf, source: std::io::Error },
    #[error("invalid config {path}: {message}")]
    ConfigInvalid { path: PathBuf, message: String },
    #[error("plugin `{plugin}`: config uses ${{{var}}} but the environment variable {var} is not set")]
    UnsetVariable { plugin: String, var: String },
    #[error("{0}")]
    Plugin(String),
    #[error("cannot open the database in {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("cannot register for SIGINT/SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
}
