//! The registry: which plugins are loaded, and which implementation serves each slot.
//!
//! Built once at startup from `plugins.toml` and the libraries in `plugin_dir`, following the loading rules of
//! DESIGN.md section 4: drop-in discovery, `enabled`, `require_listed`, sha256 pins, the ABI gate, `${VAR}`
//! interpolation, override conflicts and `[host.overrides]`, middleware order, route collisions. Every refusal of
//! an enabled plugin is a [`StartupError`] naming the file and plugin.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use openhost_plugin_api::{
    GitServiceObject, MiddlewareObject, PluginInstance, PluginModRef, RoutesObject, ServerConfigObject, Slot,
    UserAuthObject,
};
use serde_json::{Value, json};

use crate::{
    api::HostRoute,
    components::HostComponents,
    config::{Config, PluginTable, plugin_config_json},
    error::StartupError,
    loader::{self, Declaration, LibraryFile, Probe},
    services::{PluginContext, host_services},
    store::Store,
};

/// Who provides an implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Host,
    Plugin(String),
}

impl Owner {
    pub fn name(&self) -> &str {
        match self {
            Owner::Host => "host",
            Owner::Plugin(name) => name,
        }
    }
}

/// The active implementation of an override slot: the owner's, wrapped by any decorators (innermost first).
pub struct Active<T> {
    pub owner: Owner,
    pub decorators: Vec<String>,
    pub object: T,
}

impl<T> Active<T> {
    fn host(object: T) -> Active<T> {
        Active {
            owner: Owner::Host,
            decorators: Vec::new(),
            object,
        }
    }

    fn map<U>(self, f: impl FnOnce(T) -> U) -> Active<U> {
        Active {
            owner: self.owner,
            decorators: self.decorators,
            object: f(self.object),
        }
    }

    /// Who answers for a failure of the slot: the outermost decorator, else the owner.
    pub fn blame(&self) -> Owner {
        match self.decorators.last() {
            Some(name) => Owner::Plugin(name.clone()),
            None => self.owner.clone(),
        }
    }
}

/// One link of the middleware chain.
pub struct ChainLink {
    pub name: String,
    pub owner: Owner,
    pub order: i32,
    pub object: MiddlewareObject,
}

/// What serves a route.
pub enum RouteTarget {
    Host(HostRoute),
    Plugin { owner: String, handler: Arc<RoutesObject> },
}

/// What `/api/plugins` and `openhost plugins list` say about one library.
#[derive(Debug, Clone)]
pub struct PluginRecord {
    pub name: String,
    pub version: Option<String>,
    pub abi_version: u32,
    pub description: Option<String>,
    pub file: PathBuf,
    pub sha256: String,
    pub enabled: bool,
    pub loaded: bool,
    pub provides: Vec<Slot>,
    pub decorates: Vec<Slot>,
    pub error: Option<String>,
}

/// Looks up an environment variable for `${VAR}` interpolation.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the host lends every plugin it initialises.
pub struct HostDeps {
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
    /// Environment lookup for `${VAR}` (a parameter so tests can supply their own).
    pub env: EnvLookup,
}

/// The resolved slots.
pub struct Registry {
    pub plugins: Vec<PluginRecord>,
    /// Shared so that its synchronous call can run on a blocking thread (see `App::blocking_within_deadline`).
    pub server_config: Active<Arc<ServerConfigObject>>,
    pub user_auth: Active<UserAuthObject>,
    pub git_service: Active<GitServiceObject>,
    pub middleware: Vec<ChainLink>,
    /// Path -> method -> target.
    pub routes: BTreeMap<String, BTreeMap<String, RouteTarget>>,
    panics: HashMap<String, AtomicU64>,
    modules: Vec<(String, PluginModRef)>,
}

/// A plugin whose `init` succeeded.
struct Initialised {
    name: String,
    module: PluginModRef,
    instance: PluginInstance,
}

fn plugin_error(file: &Path, message: impl std::fmt::Display) -> StartupError {
    StartupError::Plugin(format!("{}: {message}", file.display()))
}

/// Every openhost plugin library found, by declared name. A file named by a table's `file` key is probed even
/// if its name does not end like a library's. Two files declaring one name need a `file` key to pick one.
fn find_libraries(config: &Config) -> Result<BTreeMap<String, (LibraryFile, Declaration)>, StartupError> {
    let mut paths = match loader::discover(&config.plugin_dir) {
        Ok(paths) => paths,
        Err(e) => {
            tracing::warn!(dir = %config.plugin_dir.display(), "plugin_dir cannot be read ({e}); no plugins found");
            Vec::new()
        }
    };
    let explicit: BTreeMap<&str, PathBuf> = config
        .plugins
        .iter()
        .filter_map(|(name, table)| Some((name.as_str(), config.plugin_dir.join(table.file.as_ref()?))))
        .collect();
    for path in explicit.values() {
        if !paths.contains(path) {
            paths.push(path.clone());
        }
    }

    let mut by_name: BTreeMap<String, (LibraryFile, Declaration)> = BTreeMap::new();
    for path in paths {
        let chosen_by = explicit.iter().find(|(_, p)| **p == path).map(|(name, _)| *name);
        match loader::probe(&path) {
            Probe::NotAPlugin { path, reason } => {
                if let Some(name) = chosen_by {
                    if config.plugins.get(name).is_some_and(PluginTable::is_enabled) {
                        return Err(plugin_error(&path, format!("plugins.{name}.file: {reason}")));
                    }
                }
                tracing::warn!(file = %path.display(), "skipping: {reason}");
            }
            Probe::Plugin { file, declaration } => {
                if let Some(name) = chosen_by {
                    if name != declaration.name {
                        return Err(plugin_error(
                            &file.path,
                            format!(
                                "plugins.{name}.file names a library that declares plugin `{}`",
                                declaration.name
                            ),
                        ));
                    }
                }
                match by_name.get(&declaration.name) {
                    Some((earlier, _)) if explicit.get(declaration.name.as_str()) == Some(&earlier.path) => {}
                    Some((earlier, _)) if chosen_by.is_none() => {
                        return Err(StartupError::Plugin(format!(
                            "{} and {} both declare plugin `{}`; remove one or pick one with plugins.{}.file",
                            earlier.path.display(),
                            file.path.display(),
                            declaration.name,
                            declaration.name
                        )));
                    }
                    _ => {
                        by_name.insert(declaration.name.clone(), (file, declaration));
                    }
                }
            }
        }
    }
    Ok(by_name)
}

/// Reads what every library says about itself, loading none: `openhost plugins list`.
pub fn survey(config: &Config) -> Result<Vec<PluginRecord>, StartupError> {
    let mut records = Vec::new();
    for (name, (file, declaration)) in find_libraries(config)? {
        let enabled = is_enabled(config, &name);
        let mut record = PluginRecord::new(&file, &declaration, enabled);
        match loader::open(&file, &declaration) {
            Ok(opened) => record.fill_from(&opened.manifest),
            Err(e) => record.error = Some(e.to_string()),
        }
        if let Some(error) = pin_error(config.plugins.get(&name), &file) {
            record.error = Some(error);
        }
        records.push(record);
    }
    Ok(records)
}

fn is_enabled(config: &Config, name: &str) -> bool {
    match config.plugins.get(name) {
        Some(table) => table.is_enabled(),
        None => !config.require_listed,
    }
}

fn pin_error(table: Option<&PluginTable>, file: &LibraryFile) -> Option<String> {
    let pin = table?.sha256.as_ref()?;
    (!pin.eq_ignore_ascii_case(&file.sha256)).then(|| {
        format!(
            "sha256 mismatch: the file is {}, plugins.toml pins {}; refusing to load it",
            file.sha256, pin
        )
    })
}

impl PluginRecord {
    fn new(file: &LibraryFile, declaration: &Declaration, enabled: bool) -> Self {
        PluginRecord {
            name: declaration.name.clone(),
            version: None,
            abi_version: declaration.abi_version,
            description: None,
            file: file.path.clone(),
            sha256: file.sha256.clone(),
            enabled,
            loaded: false,
            provides: Vec::new(),
            decorates: Vec::new(),
            error: None,
        }
    }

    fn fill_from(&mut self, manifest: &openhost_plugin_api::PluginManifest) {
        self.version = Some(manifest.version.to_string());
        self.description = Some(manifest.description.to_string());
        self.provides = manifest.provides.to_vec();
        self.decorates = manifest.decorates.to_vec();
    }

    /// The `/api/plugins` form.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "version": self.version,
            "abi": self.abi_version,
            "description": self.description,
            "file": self.file.file_name().map(|n| n.to_string_lossy().into_owned()),
            "sha256": self.sha256,
            "enabled": self.enabled,
            "loaded": self.loaded,
            "provides": self.provides.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "decorates": self.decorates.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "error": self.error,
        })
    }
}

impl Registry {
    /// Discovers, checks and initialises the plugins, then resolves every slot against the host's own
    /// components and built-in middleware.
    pub fn build(
        config: &Config,
        deps: &HostDeps,
        defaults: HostComponents,
        builtins: Vec<ChainLink>,
    ) -> Result<Registry, StartupError> {
        let libraries = find_libraries(config)?;
        for (name, table) in &config.plugins {
            if table.is_enabled() && !libraries.contains_key(name) {
                return Err(StartupError::Plugin(format!(
                    "plugins.toml enables plugin `{name}`, but no library in {} declares it",
                    config.plugin_dir.display()
                )));
            }
        }

        let mut records = Vec::new();
        let mut initialised = Vec::new();
        for (name, (file, declaration)) in libraries {
            let table = config.plugins.get(&name);
            let enabled = is_enabled(config, &name);
            let mut record = PluginRecord::new(&file, &declaration, enabled);
            if !enabled {
                if table.is_none() {
                    record.error = Some("not listed in plugins.toml and host.require_listed is true".into());
                    tracing::warn!(plugin = %name, file = %file.path.display(), "refused: not listed in plugins.toml (require_listed)");
                } else {
                    tracing::info!(plugin = %name, "disabled in plugins.toml");
                }
                if let Ok(opened) = loader::open(&file, &declaration) {
                    record.fill_from(&opened.manifest);
                }
                records.push(record);
                continue;
            }
            if let Some(error) = pin_error(table, &file) {
                return Err(plugin_error(&file.path, format!("plugin `{name}`: {error}")));
            }
            let opened = loader::open(&file, &declaration).map_err(|e| plugin_error(&file.path, e))?;
            record.fill_from(&opened.manifest);
            let config_json = plugin_config_json(&name, table.and_then(|t| t.config.as_ref()), &*deps.env)?;
            let instance = init_plugin(&name, &opened.module, config_json, deps)
                .map_err(|message| plugin_error(&file.path, format!("plugin `{name}` {message}")))?;
            let mut declared = record.provides.clone();
            declared.sort();
            declared.dedup();
            let provided = instance.provided_slots();
            if declared != provided {
                return Err(plugin_error(
                    &file.path,
                    format!(
                        "plugin `{name}` declares slots [{}] but its init provided [{}]",
                        slot_list(&declared),
                        slot_list(&provided)
                    ),
                ));
            }
            let mut declared_decorations = record.decorates.clone();
            declared_decorations.sort();
            declared_decorations.dedup();
            let decorated = instance.decorated_slots();
            if declared_decorations != decorated {
                return Err(plugin_error(
                    &file.path,
                    format!(
                        "plugin `{name}` declares that it decorates [{}] but its init decorated [{}]",
                        slot_list(&declared_decorations),
                        slot_list(&decorated)
                    ),
                ));
            }
            record.loaded = true;
            tracing::info!(
                plugin = %name,
                version = record.version.as_deref().unwrap_or("?"),
                file = %file.path.display(),
                provides = %slot_list(&provided),
                "plugin loaded"
            );
            records.push(record);
            initialised.push(Initialised {
                name,
                module: opened.module,
                instance,
            });
        }
        Registry::resolve(config, records, initialised, defaults, builtins)
    }

    fn resolve(
        config: &Config,
        plugins: Vec<PluginRecord>,
        mut initialised: Vec<Initialised>,
        defaults: HostComponents,
        builtins: Vec<ChainLink>,
    ) -> Result<Registry, StartupError> {
        let server_config = resolve_override(config, Slot::ServerConfig, &mut initialised, |i| i.server_config.take())?
            .unwrap_or_else(|| Active::host(defaults.server_config));
        let server_config = decorate(
            server_config,
            Slot::ServerConfig,
            &mut initialised,
            |i| i.decorate_server_config.take(),
            |decorator, inner| decorator.wrap(inner),
        )?
        .map(Arc::new);
        let user_auth = resolve_override(config, Slot::UserAuth, &mut initialised, |i| i.user_auth.take())?
            .unwrap_or_else(|| Active::host(defaults.user_auth));
        let user_auth = decorate(
            user_auth,
            Slot::UserAuth,
            &mut initialised,
            |i| i.decorate_user_auth.take(),
            |decorator, inner| decorator.wrap(inner),
        )?;
        let git_service = resolve_override(config, Slot::GitService, &mut initialised, |i| i.git_service.take())?
            .unwrap_or_else(|| Active::host(defaults.git_service));
        let git_service = decorate(
            git_service,
            Slot::GitService,
            &mut initialised,
            |i| i.decorate_git_service.take(),
            |decorator, inner| decorator.wrap(inner),
        )?;

        let mut middleware: Vec<ChainLink> = builtins;
        let mut routes: BTreeMap<String, BTreeMap<String, RouteTarget>> = BTreeMap::new();
        for (method, path, route) in HostRoute::ALL {
            routes
                .entry(path.to_string())
                .or_default()
                .insert(method.to_string(), RouteTarget::Host(*route));
        }
        for plugin in &mut initialised {
            if let Some(object) = plugin.instance.middleware.take().into_option() {
                middleware.push(ChainLink {
                    name: plugin.name.clone(),
                    owner: Owner::Plugin(plugin.name.clone()),
                    order: object.order(),
                    object,
                });
            }
            if let Some(handler) = plugin.instance.routes.take().into_option() {
                let handler = Arc::new(handler);
                for spec in handler.routes() {
                    let method = spec.method.as_str().to_owned();
                    let path = spec.path.as_str().to_owned();
                    if !path.starts_with('/') || method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(StartupError::Plugin(format!(
                            "plugin `{}` declares an invalid route `{method} {path}` (need an upper-case method and a path starting with /)",
                            plugin.name
                        )));
                    }
                    let methods = routes.entry(path.clone()).or_default();
                    if let Some(existing) = methods.get(&method) {
                        let owner = match existing {
                            RouteTarget::Host(_) => "the host".to_owned(),
                            RouteTarget::Plugin { owner, .. } => format!("plugin `{owner}`"),
                        };
                        return Err(StartupError::Plugin(format!(
                            "route {method} {path} of plugin `{}` collides with the same route of {owner}",
                            plugin.name
                        )));
                    }
                    methods.insert(
                        method,
                        RouteTarget::Plugin {
                            owner: plugin.name.clone(),
                            handler: Arc::clone(&handler),
                        },
                    );
                }
            }
        }
        middleware.sort_by(|a, b| (a.order, &a.name).cmp(&(b.order, &b.name)));

        Ok(Registry {
            panics: plugins.iter().map(|p| (p.name.clone(), AtomicU64::new(0))).collect(),
            plugins,
            server_config,
            user_auth,
            git_service,
            middleware,
            routes,
            modules: initialised.into_iter().map(|i| (i.name, i.module)).collect(),
        })
    }

    /// Counts a caught panic of a plugin.
    pub fn record_panic(&self, plugin: &str) {
        if let Some(counter) = self.panics.get(plugin) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `GET /api/plugins`.
    pub fn describe(&self) -> Value {
        let plugins: Vec<Value> = self
            .plugins
            .iter()
            .map(|record| {
                let mut json = record.to_json();
                json["panics"] = json!(self.panics.get(&record.name).map_or(0, |c| c.load(Ordering::Relaxed)));
                json
            })
            .collect();
        let routes: Vec<Value> = self
            .routes
            .iter()
            .flat_map(|(path, methods)| methods.iter().map(move |(method, target)| (method, path, target)))
            .map(|(method, path, target)| {
                let owner = match target {
                    RouteTarget::Host(_) => "host",
                    RouteTarget::Plugin { owner, .. } => owner.as_str(),
                };
                json!({"method": method, "path": path, "owner": owner})
            })
            .collect();
        json!({
            "plugins": plugins,
            "slots": {
                "server_config": self.server_config.owner.name(),
                "user_auth": self.user_auth.owner.name(),
                "git_service": self.git_service.owner.name(),
                "decorators": {
                    "server_config": self.server_config.decorators,
                    "user_auth": self.user_auth.decorators,
                    "git_service": self.git_service.decorators,
                },
                "middleware": self.middleware.iter().map(|link| json!({
                    "name": link.name, "owner": link.owner.name(), "order": link.order,
                })).collect::<Vec<_>>(),
                "routes": routes,
            }
        })
    }

    /// Calls every initialised plugin's `shutdown`, in reverse load order.
    pub fn shutdown(&self) {
        for (name, module) in self.modules.iter().rev() {
            tracing::info!(plugin = %name, "shutting down plugin");
            module.shutdown()();
        }
    }
}

fn slot_list(slots: &[Slot]) -> String {
    slots.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

fn init_plugin(
    name: &str,
    module: &PluginModRef,
    config_json: Value,
    deps: &HostDeps,
) -> Result<PluginInstance, String> {
    let kv = deps
        .store
        .namespace(&format!("plugin/{name}"))
        .map_err(|e| format!("cannot get its storage namespace: {e}"))?;
    let services = host_services(PluginContext {
        name: name.to_owned(),
        kv,
        http: deps.http.clone(),
        runtime: deps.runtime.clone(),
    });
    module.init()(services, config_json.to_string().into())
        .into_result()
        .map_err(|e| format!("failed to initialise: {e}"))
}

/// Wraps the active implementation of `slot` in each decorating plugin's, in plugin-name order (the first name
/// innermost). A plugin may not decorate a slot it also won as the override.
fn decorate<T, D>(
    mut active: Active<T>,
    slot: Slot,
    initialised: &mut [Initialised],
    take: impl Fn(&mut PluginInstance) -> openhost_plugin_api::types::ROption<D>,
    wrap: impl Fn(&D, T) -> openhost_plugin_api::types::RResult<T, openhost_plugin_api::PluginError>,
) -> Result<Active<T>, StartupError> {
    for plugin in initialised.iter_mut() {
        let Some(decorator) = take(&mut plugin.instance).into_option() else {
            continue;
        };
        if active.owner == Owner::Plugin(plugin.name.clone()) {
            return Err(StartupError::Plugin(format!(
                "plugin `{}` both overrides and decorates {slot}; it must do one or the other",
                plugin.name
            )));
        }
        active.object = wrap(&decorator, active.object)
            .into_result()
            .map_err(|e| StartupError::Plugin(format!("plugin `{}` failed to decorate {slot}: {e}", plugin.name)))?;
        active.decorators.push(plugin.name.clone());
        tracing::info!(plugin = %plugin.name, slot = %slot, "decorating");
    }
    Ok(active)
}

/// Picks the winner of an override slot among the initialised plugins that provide it.
fn resolve_override<T>(
    config: &Config,
    slot: Slot,
    initialised: &mut [Initialised],
    take: impl Fn(&mut PluginInstance) -> openhost_plugin_api::types::ROption<T>,
) -> Result<Option<Active<T>>, StartupError> {
    let providers: Vec<usize> = (0..initialised.len())
        .filter(|&i| initialised[i].instance.provided_slots().contains(&slot))
        .collect();
    let winner = match config.overrides.get(slot.as_str()).map(String::as_str) {
        Some("host") => None,
        Some(chosen) => Some(
            providers
                .iter()
                .copied()
                .find(|&i| initialised[i].name == chosen)
                .ok_or_else(|| {
                    StartupError::Plugin(format!(
                        "host.overrides.{slot} = \"{chosen}\", but no enabled plugin named `{chosen}` provides {slot}"
                    ))
                })?,
        ),
        None => match providers.as_slice() {
            [] => None,
            [only] => Some(*only),
            [first, second, ..] => {
                return Err(StartupError::Plugin(format!(
                    "plugins `{}` and `{}` both override {slot}; choose one in plugins.toml with [host.overrides] {slot} = \"{}\"",
                    initialised[*first].name, initialised[*second].name, initialised[*first].name
                )));
            }
        },
    };
    Ok(winner.and_then(|i| {
        let plugin = &mut initialised[i];
        take(&mut plugin.instance).into_option().map(|object| Active {
            owner: Owner::Plugin(plugin.name.clone()),
            decorators: Vec::new(),
            object,
        })
    }))
}
