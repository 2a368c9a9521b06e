//! Why a registry generation cannot be built: a refusal of an enabled plugin, a slot conflict, a route
//! collision. Each renders as one line naming the file, plugin or key at fault; at startup it stops the host
//! (exit 2), on a reload it keeps the serving generation.

use std::path::PathBuf;

use openhost_plugin_api::{PluginError, Slot};

use crate::{
    config::ConfigError,
    loader::{LoadError, Unopenable},
    origins::NotAnOrigin,
    registry::route_table::RouteRefusal,
    store::StoreError,
    wasm::WasmError,
};

/// Why the plugins cannot be loaded and resolved.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A plugin's config table (a `${VAR}` not set).
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{}: {source}", file.display())]
    Load {
        file: PathBuf,
        #[source]
        source: LoadError,
    },
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
    #[error("{}: plugin `{plugin}`: {source}", file.display())]
    ConfigSchema {
        file: PathBuf,
        plugin: String,
        #[source]
        source: super::config_schema::SchemaError,
    },
    #[error("{}: plugin `{plugin}` failed to initialise: {source}", file.display())]
    Init {
        file: PathBuf,
        plugin: String,
        #[source]
        source: Box<PluginError>,
    },
    #[error("{}: plugin `{plugin}` cannot get its storage namespace: {source}", file.display())]
    Namespace {
        file: PathBuf,
        plugin: String,
        #[source]
        source: StoreError,
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
    #[error("plugin `{plugin}` failed to decorate {slot}: {source}")]
    DecorateFailed {
        plugin: String,
        slot: Slot,
        #[source]
        source: Box<PluginError>,
    },
    #[error("plugin `{plugin}` declares an invalid route `{method} {path}`: {reason}")]
    InvalidRoute {
        plugin: String,
        method: String,
        path: String,
        #[source]
        reason: RouteRefusal,
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
        #[source]
        source: NotAnOrigin,
    },
    #[error("{}: sandboxed plugin `{plugin}` {source}", file.display())]
    Sandbox {
        file: PathBuf,
        plugin: String,
        #[source]
        source: WasmError,
    },
    #[error("{}: sandboxed plugin `{plugin}`: {source}", file.display())]
    ReadModule {
        file: PathBuf,
        plugin: String,
        #[source]
        source: Unopenable,
    },
    #[error("plugins.{plugin}.{key} applies to sandboxed (*.wasm) plugins only")]
    SandboxOnlyKey { plugin: String, key: &'static str },
    /// The built-in request-id middleware could not seed its generator.
    #[error("cannot seed request ids: {0}")]
    Random(#[source] Box<PluginError>),
}
