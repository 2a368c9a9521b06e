//! The registry: which plugins are loaded, and which implementation serves each slot.
//!
//! Built at startup from `plugins.toml` and the libraries in `plugin_dir`, following the loading rules of
//! docs/architecture.md: drop-in discovery ([`discovery`]), `enabled`, `require_listed`, sha256 pins and the
//! interface gate (checked by the loader on the bytes it loads), `${VAR}` interpolation, init ([`instance`]),
//! then slot resolution ([`resolve`]): override conflicts and `[host.overrides]`, decorators, middleware order,
//! route collisions. Every refusal of an enabled plugin is a [`RegistryError`] naming the file and plugin.

mod chain;
mod config_schema;
pub mod discovery;
mod error;
pub mod instance;
pub mod resolve;
pub mod route_table;
mod sandboxed;
mod slots;

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use openhost_plugin_api::{GitServiceObject, PluginModRef, ServerConfigObject, Slot, UserAuthObject};
use serde_json::{Value, json};

pub use chain::{ChainLink, ChainParts, Hooks, LinkObject};
pub use discovery::{PluginRecord, survey};
pub use error::RegistryError;
pub use instance::HostDeps;
pub use route_table::{Route, RouteTarget};
pub use slots::{Active, Owner};

use crate::{
    components::HostComponents,
    config::{Config, PluginTable, plugin_config_json},
    loader,
    origins::{Origins, PublicOrigin},
    registry::{discovery::is_enabled, instance::Instance, route_table::RouteTable},
    signature::Signature,
    telemetry::panics::PanicCounts,
};

/// The resolved slots of one generation: the first is built at startup, each reload builds the next
/// (crate::live).
pub struct Registry {
    /// 1 at startup, one more with each reload.
    pub generation: u64,
    pub plugins: Vec<PluginRecord>,
    pub server_config: Active<ServerConfigObject>,
    pub user_auth: Active<UserAuthObject>,
    pub git_service: Active<GitServiceObject>,
    pub middleware: Vec<ChainLink>,
    pub routes: RouteTable,
    /// The origins this generation trusts (configured, loopback, the plugins' public ones): the cross-site
    /// rule, which the pipeline finishes after the chain (`middleware::cross_site`).
    pub origins: Arc<Origins>,
    modules: Vec<(String, PluginModRef)>,
}

/// What `plugin_dir` holds: plugin libraries and sandboxed modules, by plugin name.
pub struct Found {
    pub libraries: BTreeMap<String, loader::LibraryFile>,
    pub modules: BTreeMap<String, PathBuf>,
}

/// The plugin libraries and sandboxed modules in `plugin_dir`, refusing a config that enables a plugin none
/// declares, a name that both a library and a module claim, and a sandbox's keys on a library. Reads files as
/// data only: a host upgrade checks this before the old process stops accepting for it.
pub fn preflight(config: &Config) -> Result<Found, RegistryError> {
    let libraries = discovery::find_libraries(config)?;
    let modules = discovery::find_modules(config);
    for (name, table) in &config.plugins {
        if table.is_enabled() && !libraries.contains_key(name) && !modules.contains_key(name) {
            return Err(RegistryError::PluginNotFound {
                plugin: name.clone(),
                dir: config.plugin_dir.clone(),
            });
        }
    }
    for (name, path) in &modules {
        if let Some(library) = libraries.get(name).filter(|_| is_enabled(config, name)) {
            return Err(RegistryError::DuplicatePlugin {
                plugin: name.clone(),
                first: library.path.clone(),
                second: path.clone(),
            });
        }
    }
    for name in libraries.keys() {
        if let Some(key) = config.plugins.get(name).and_then(sandboxed::sandbox_only_key) {
            return Err(RegistryError::SandboxOnlyKey {
                plugin: name.clone(),
                key,
            });
        }
    }
    Ok(Found { libraries, modules })
}

impl Registry {
    /// Discovers, checks and initialises the plugins, then resolves every slot against the host's own
    /// components and built-in middleware. Every plugin is loaded from a fresh private copy of its library and
    /// initialised anew: a plugin's statics start empty in each generation. `previous` (the generation this one
    /// replaces) tells which libraries are new builds: a plugin's own `generation` is the first one that loaded
    /// its library's current bytes.
    pub fn build(
        config: &Config,
        deps: &HostDeps,
        defaults: HostComponents,
        generation: u64,
        previous: Option<&Registry>,
    ) -> Result<Registry, RegistryError> {
        let Found { libraries, modules } = preflight(config)?;

        let mut records = Vec::new();
        let mut instances = Vec::new();
        for (name, file) in libraries {
            let table = config.plugins.get(&name);
            let mut record = PluginRecord::new(&file, is_enabled(config, &name));
            if !record.enabled {
                if table.is_none() {
                    record.error = Some("not listed in plugins.toml and host.require_listed is true".into());
                    tracing::warn!(plugin = %name, file = %file.path.display(), "refused: not listed in plugins.toml (require_listed)");
                } else {
                    tracing::info!(plugin = %name, "disabled in plugins.toml");
                }
                records.push(record);
                continue;
            }
            let load_error = |source| RegistryError::Load {
                file: file.path.clone(),
                source,
            };
            // Before the library is mapped: a config that cannot be made, or that does not fit the schema the
            // plugin declares, maps nothing.
            let config_json = plugin_config_json(&name, table.and_then(PluginTable::config_table), &*deps.env)?;
            if let Some(schema) = &file.manifest.config_schema {
                config_schema::check(schema, &config_json).map_err(|source| RegistryError::ConfigSchema {
                    file: file.path.clone(),
                    plugin: name.clone(),
                    source,
                })?;
            }
            let pin = table.and_then(|t| t.sha256.as_deref());
            let opened = loader::open(&file, pin, config.signing_for(&name)).map_err(load_error)?;
            let instance = Instance::init(&file.path, &name, opened.module, &config_json, deps)?;
            instance.check_against(&file.path, &record.provides, &record.decorates)?;
            record.loaded = true;
            // The bytes loaded, which discovery's read may predate.
            record.sha256 = opened.sha256;
            record.signature = Some(opened.signature);
            record.generation = previous
                .and_then(|previous| previous.plugins.iter().find(|p| p.name == name && p.loaded))
                .filter(|earlier| earlier.sha256 == record.sha256)
                .map_or(generation, |earlier| earlier.generation);
            tracing::info!(
                plugin = %name,
                version = %record.version,
                interface = %record.interface,
                file = %file.path.display(),
                provides = %record.provides.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                "plugin loaded"
            );
            records.push(record);
            instances.push(instance);
        }
        let mut public_origins = Vec::new();
        for instance in &instances {
            for origin in &instance.public_origins {
                public_origins.push(
                    PublicOrigin::parse(origin).map_err(|source| RegistryError::PublicOrigin {
                        plugin: instance.name.clone(),
                        source,
                    })?,
                );
            }
        }
        let origins = Origins::new(
            config.listen,
            config.cors_origins.clone(),
            config.allowed_hosts.clone(),
            public_origins,
        );
        if !origins.checks_host_names() {
            tracing::warn!(
                listen = %config.listen,
                "listening beyond loopback without host.allowed_hosts: Host names are not checked"
            );
        }
        let origins = Arc::new(origins);
        let builtins = crate::middleware::builtins(config, &origins).map_err(|e| RegistryError::Random(Box::new(e)))?;
        let mut links: Vec<ChainLink> = builtins
            .responses
            .into_iter()
            .map(|(name, object)| ChainLink::host(name, object, Vec::new()))
            .collect();
        links.extend(sandboxed::load(
            config,
            &modules,
            deps,
            generation,
            previous,
            &mut records,
        )?);
        let chain = ChainParts {
            requests: builtins.requests,
            links,
        };
        Registry::resolve(config, generation, records, instances, defaults, chain, origins)
    }

    fn resolve(
        config: &Config,
        generation: u64,
        plugins: Vec<PluginRecord>,
        mut instances: Vec<Instance>,
        defaults: HostComponents,
        // The host's built-ins and the sandboxed plugins: made before resolution.
        chain: ChainParts,
        origins: Arc<Origins>,
    ) -> Result<Registry, RegistryError> {
        use resolve::slot;
        let server_config = slot(
            config,
            Slot::ServerConfig,
            &mut instances,
            defaults.server_config,
            |i| i.server_config.take(),
            |i| i.server_config_decorator.take(),
            |decorator, inner| decorator.wrap(inner),
        )?;
        let user_auth = slot(
            config,
            Slot::UserAuth,
            &mut instances,
            defaults.user_auth,
            |i| i.user_auth.take(),
            |i| i.user_auth_decorator.take(),
            |decorator, inner| decorator.wrap(inner),
        )?;
        let git_service = slot(
            config,
            Slot::GitService,
            &mut instances,
            defaults.git_service,
            |i| i.git_service.take(),
            |i| i.git_service_decorator.take(),
            |decorator, inner| decorator.wrap(inner),
        )?;
        let middleware = resolve::middleware_chain(chain, &mut instances);
        let routes = resolve::route_table(&mut instances)?;

        Ok(Registry {
            generation,
            plugins,
            server_config,
            user_auth,
            git_service,
            middleware,
            routes,
            origins,
            modules: instances.into_iter().map(|i| (i.name, i.module)).collect(),
        })
    }

    /// The route for a method and path: `Ok(route)`, or `Err` with the methods the path allows (empty: no
    /// such path). See [`route_table`].
    pub fn route(&self, method: &str, path: &str) -> Result<&Route, Vec<&str>> {
        self.routes.find(method, path)
    }

    /// `GET /api/plugins`: `panics` counts since the process started, whatever generation caught them.
    pub fn describe(&self, panics: &PanicCounts) -> Value {
        let plugins: Vec<Value> = self
            .plugins
            .iter()
            .map(|record| {
                let mut json = record.to_json();
                json["panics"] = json!(panics.of(&record.name));
                json
            })
            .collect();
        let routes: Vec<Value> = self
            .routes
            .iter()
            .map(|(path, method, route)| {
                let owner = match &route.target {
                    RouteTarget::Host(_) => "host",
                    RouteTarget::Plugin { owner, .. } => owner.as_str(),
                };
                json!({"method": method, "path": path, "owner": owner, "public": route.public})
            })
            .collect();
        json!({
            "interface": loader::HOST_INTERFACE.to_string(),
            "generation": self.generation,
            "retained_libraries": loader::retained_libraries(),
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
                "middleware": self.middleware.iter().flat_map(|link| link.listed().map(|(name, order)| json!({
                    "name": name, "owner": link.owner.name(), "order": order,
                }))).collect::<Vec<_>>(),
                "routes": routes,
            }
        })
    }

    /// Sets `openhost_plugin_info` for each plugin this generation loaded: 1 while it serves, 0 once retired.
    pub fn report_plugins(&self, telemetry: &crate::telemetry::Telemetry, serving: bool) {
        for plugin in self.plugins.iter().filter(|plugin| plugin.loaded) {
            telemetry.plugin_info(
                &plugin.name,
                &plugin.version,
                &plugin.interface_name(),
                plugin
                    .signature
                    .as_ref()
                    .is_some_and(|s| matches!(s, Signature::Verified { .. })),
                self.generation,
                serving,
            );
        }
    }

    /// Calls every initialised plugin's `shutdown`, in reverse load order.
    pub fn shutdown(&self) {
        for (name, module) in self.modules.iter().rev() {
            tracing::info!(plugin = %name, generation = self.generation, "shutting down plugin");
            module.shutdown()();
        }
    }
}
