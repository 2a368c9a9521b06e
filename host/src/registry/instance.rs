//! Initialising one plugin: its host services, its `init`, and the components it hands back, checked against
//! what its manifest declares.

use std::{path::Path, sync::Arc};

use openhost_plugin_api::{
    GitServiceObject, MiddlewareObject, PluginModRef, RoutesObject, ServerConfigObject, Slot, UserAuthObject,
    wire::slots::{GitServiceDecoratorObject, ServerConfigDecoratorObject, UserAuthDecoratorObject},
};
use serde_json::Value;

use crate::{
    lease::Leases,
    registry::RegistryError,
    services::{PluginContext, host_services},
    store::Store,
};

/// Looks up an environment variable for `${VAR}` interpolation.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the host lends every plugin it initialises.
pub struct HostDeps {
    pub store: Arc<dyn Store>,
    /// The lease service plugins share (on the store's lease backend).
    pub leases: Arc<Leases>,
    /// Whether plugins' metrics are kept (`metrics_listen` is set).
    pub metrics_enabled: bool,
    pub http: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
    /// Environment lookup for `${VAR}` (a parameter so tests can supply their own).
    pub env: EnvLookup,
    /// Where sandboxed plugins' compiled code is kept between starts and reloads.
    pub code_cache: crate::wasm::CodeCache,
}

/// The components an initialised plugin handed over, each taken once from its plugin object.
pub struct Instance {
    pub name: String,
    pub module: PluginModRef,
    pub middleware: Option<MiddlewareObject>,
    pub routes: Option<RoutesObject>,
    pub server_config: Option<ServerConfigObject>,
    pub user_auth: Option<UserAuthObject>,
    pub git_service: Option<GitServiceObject>,
    pub server_config_decorator: Option<ServerConfigDecoratorObject>,
    pub user_auth_decorator: Option<UserAuthDecoratorObject>,
    pub git_service_decorator: Option<GitServiceDecoratorObject>,
    /// Where browsers reach the host through this plugin (interface 1.2; none from older plugins).
    pub public_origins: Vec<String>,
}

impl Instance {
    /// Calls the plugin's `init` with its services and config, and takes its components.
    pub fn init(
        file: &Path,
        name: &str,
        module: PluginModRef,
        config_json: &Value,
        deps: &HostDeps,
    ) -> Result<Instance, RegistryError> {
        let context = PluginContext::new(
            name,
            &*deps.store,
            deps.http.clone(),
            deps.runtime.clone(),
            std::sync::Arc::clone(&deps.leases),
            deps.metrics_enabled,
        )
        .map_err(|source| RegistryError::Namespace {
            file: file.to_owned(),
            plugin: name.to_owned(),
            source,
        })?;
        let services = host_services(context);
        let object = module.init()(services, config_json.to_string().into())
            .into_result()
            .map_err(|source| RegistryError::Init {
                file: file.to_owned(),
                plugin: name.to_owned(),
                source: Box::new(source),
            })?;
        Ok(Instance {
            name: name.to_owned(),
            module,
            middleware: object.middleware().into_option(),
            routes: object.routes().into_option(),
            server_config: object.server_config().into_option(),
            user_auth: object.user_auth().into_option(),
            git_service: object.git_service().into_option(),
            server_config_decorator: object.server_config_decorator().into_option(),
            user_auth_decorator: object.user_auth_decorator().into_option(),
            git_service_decorator: object.git_service_decorator().into_option(),
            public_origins: object.public_origins().into_iter().map(String::from).collect(),
        })
    }

    /// The slots this instance fills.
    pub fn provided_slots(&self) -> Vec<Slot> {
        [
            (self.middleware.is_some(), Slot::Middleware),
            (self.routes.is_some(), Slot::Routes),
            (self.server_config.is_some(), Slot::ServerConfig),
            (self.user_auth.is_some(), Slot::UserAuth),
            (self.git_service.is_some(), Slot::GitService),
        ]
        .into_iter()
        .filter_map(|(present, slot)| present.then_some(slot))
        .collect()
    }

    /// The override slots this instance decorates.
    pub fn decorated_slots(&self) -> Vec<Slot> {
        [
            (self.server_config_decorator.is_some(), Slot::ServerConfig),
            (self.user_auth_decorator.is_some(), Slot::UserAuth),
            (self.git_service_decorator.is_some(), Slot::GitService),
        ]
        .into_iter()
        .filter_map(|(present, slot)| present.then_some(slot))
        .collect()
    }

    /// Refuses an instance whose components differ from what its manifest declares.
    pub fn check_against(&self, file: &Path, provides: &[Slot], decorates: &[Slot]) -> Result<(), RegistryError> {
        let list = |slots: &[Slot]| slots.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        let mismatch = |what, what_done, declared: &[Slot], found: &[Slot]| RegistryError::SlotsMismatch {
            file: file.to_owned(),
            plugin: self.name.clone(),
            mismatch: format!("{what} [{}] but its init {what_done} [{}]", list(declared), list(found)),
        };
        let provided = self.provided_slots();
        if provides != provided.as_slice() {
            return Err(mismatch("provides", "provided", provides, &provided));
        }
        let decorated = self.decorated_slots();
        if decorates != decorated.as_slice() {
            return Err(mismatch("decorates", "decorated", decorates, &decorated));
        }
        Ok(())
    }
}
