//! Startup errors: everything that stops the host before it serves. Each renders as one line naming the file,
//! plugin or key at fault; `main` prints it and exits with status 2.

use std::path::PathBuf;

use openhost_plugin_api::Slot;

use crate::loader::LoadError;

/// Why the host refused to start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot read config {path}: {source}")]
    ConfigRead { path: PathBuf, source: std::io::Error },
    #[error("invalid config {path}: {message}")]
    ConfigInvalid { path: PathBuf, message: String },
    /// `owner` reads "plugin `x`" or "host.secret_key".
    #[error("{owner}: config uses ${{{var}}} but the environment variable {var} is not set")]
    UnsetVariable { owner: String, var: String },
    #[error("the host key for secrets at rest: {0}")]
    HostKey(#[from] crate::host_key::HostKeyError),
    #[error("{}: {source}", file.display())]
    Load { file: PathBuf, source: LoadError },
    #[error("{}: plugins.{table}.file: {reason}", file.display())]
    ListedFileNotAPlugin {
        file: PathBuf,
        table: String,
        reason: String,
    },
    #[error("{}: plugins.{table}.file names a library that declares plugin `{declared}`", file.display())]
    ListedFileMismatch {
        file: PathBuf,
        table: String,
        declared: String,
    },
    #[error(
        "{} and {} both declare plugin `{plugin}`; remove one or pick one with plugins.{plugin}.file",
        first.display(), second.display()
    )]
    DuplicatePlugin {
        plugin: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("plugins.toml enables plugin `{plugin}`, but no library in {} declares it", dir.display())]
    PluginNotFound { plugin: String, dir: PathBuf },
    #[error("{}: plugin `{plugin}` failed to initialise: {message}", file.display())]
    Init {
        file: PathBuf,
        plugin: String,
        message: String,
    },
    #[error("{}: plugin `{plugin}` cannot get its storage namespace: {message}", file.display())]
    Namespace {
        file: PathBuf,
        plugin: String,
        message: String,
    },
    /// `mismatch` reads "provides [a, b] but its init provided [a]".
    #[error("{}: plugin `{plugin}` declares that it {mismatch}", file.display())]
    SlotsMismatch {
        file: PathBuf,
        plugin: String,
        mismatch: String,
    },
    #[error(
        "plugins `{first}` and `{second}` both override {slot}; choose one in plugins.toml with [host.overrides] \
         {slot} = \"{first}\""
    )]
    OverrideConflict { slot: Slot, first: String, second: String },
    #[error("host.overrides.{slot} = \"{chosen}\", but no enabled plugin named `{chosen}` provides {slot}")]
    OverrideUnknown { slot: Slot, chosen: String },
    #[error("plugin `{plugin}` both overrides and decorates {slot}; it must do one or the other")]
    OverrideAndDecorate { plugin: String, slot: Slot },
    #[error("plugin `{plugin}` failed to decorate {slot}: {message}")]
    DecorateFailed {
        plugin: String,
        slot: Slot,
        message: String,
    },
    #[error("plugin `{plugin}` declares an invalid route `{method} {path}`: {reason}")]
    InvalidRoute {
        plugin: String,
        method: String,
        path: String,
        #[source]
        reason: crate::registry::route_table::RouteRefusal,
    },
    #[error("the host's own route `{path}` is not a route path: {reason}")]
    HostRoute {
        path: &'static str,
        #[source]
        reason: openhost_plugin_api::route_path::PathError,
    },
    #[error("route {method} {path} of plugin `{plugin}` collides with the same route of {owner}")]
    RouteCollision {
        method: String,
        path: String,
        plugin: String,
        owner: String,
    },
    #[error("plugin `{plugin}` declares a public origin that is not one: {source}")]
    PublicOrigin {
        plugin: String,
        source: crate::origins::NotAnOrigin,
    },
    #[error("cannot seed request ids: {0}")]
    Random(String),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    #[error("cannot open the database in {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("cannot use the PostgreSQL database of host.database_url: {0}")]
    Database(String),
    #[error("host.secret_key is required with store = \"postgres\": every instance must use the same key")]
    SharedKeyRequired,
    #[error("upgrade: {0}")]
    Upgrade(#[from] crate::live::upgrade::InheritError),
    #[error("cannot register for SIGINT/SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("metrics: {0}")]
    Telemetry(#[from] crate::telemetry::TelemetryError),
}
