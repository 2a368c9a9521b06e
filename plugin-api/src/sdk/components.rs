//! What a plugin's `init` returns: its implementation of each slot it provides (matching the manifest), handed
//! to the host as one [`PluginObject`].

use std::sync::Mutex;

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RString, RVec},
};

use crate::{
    sdk::{
        adapters::{
            git_service_object, middleware_object, routes_object, server_config_object, user_auth_object, Decorate,
        },
        handles::{GitServiceHandle, ServerConfigHandle, UserAuthHandle},
        GitService, GitServiceDecorator, Middleware, Router, ServerConfig, UserAuth,
    },
    wire::slots::{
        FfiGitServiceDecorator_TO, FfiPlugin, FfiPlugin_TO, FfiServerConfigDecorator_TO, FfiUserAuthDecorator_TO,
        GitServiceDecoratorObject, GitServiceObject, MiddlewareObject, PluginObject, RoutesObject,
        ServerConfigDecoratorObject, ServerConfigObject, UserAuthDecoratorObject, UserAuthObject,
    },
};

/// A plugin's components, built with one call per slot.
///
/// ```ignore
/// Ok(Components::new().middleware(Stamp).routes(Router::new().get("/hello", hello)))
/// ```
#[derive(Default)]
pub struct Components {
    middleware: Option<MiddlewareObject>,
    routes: Option<RoutesObject>,
    server_config: Option<ServerConfigObject>,
    user_auth: Option<UserAuthObject>,
    git_service: Option<GitServiceObject>,
    server_config_decorator: Option<ServerConfigDecoratorObject>,
    user_auth_decorator: Option<UserAuthDecoratorObject>,
    git_service_decorator: Option<GitServiceDecoratorObject>,
    public_origins: Vec<String>,
}

impl Components {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stacks a middleware.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware = Some(middleware_object(middleware));
        self
    }

    /// Adds routes.
    pub fn routes<S: Send + Sync + 'static>(mut self, router: Router<S>) -> Self {
        self.routes = Some(routes_object(router));
        self
    }

    /// Overrides `server_config`.
    pub fn server_config(mut self, config: impl ServerConfig) -> Self {
        self.server_config = Some(server_config_object(config));
        self
    }

    /// Overrides `user_auth`.
    pub fn user_auth(mut self, auth: impl UserAuth) -> Self {
        self.user_auth = Some(user_auth_object(auth));
        self
    }

    /// Overrides `git_service`.
    pub fn git_service(mut self, service: impl GitService) -> Self {
        self.git_service = Some(git_service_object(service));
        self
    }

    /// Decorates the active `server_config`: `wrap` gets the inner implementation and returns this plugin's.
    pub fn decorate_server_config<S: ServerConfig>(
        mut self,
        wrap: impl Fn(ServerConfigHandle) -> S + Send + Sync + 'static,
    ) -> Self {
        self.server_config_decorator = Some(FfiServerConfigDecorator_TO::from_value(Decorate(wrap), TD_Opaque));
        self
    }

    /// Decorates the active `user_auth`.
    pub fn decorate_user_auth<U: UserAuth>(
        mut self,
        wrap: impl Fn(UserAuthHandle) -> U + Send + Sync + 'static,
    ) -> Self {
        self.user_auth_decorator = Some(FfiUserAuthDecorator_TO::from_value(Decorate(wrap), TD_Opaque));
        self
    }

    /// Decorates the active `git_service`: the decorator forwards what it does not change.
    pub fn decorate_git_service<D: GitServiceDecorator>(
        mut self,
        wrap: impl Fn(GitServiceHandle) -> D + Send + Sync + 'static,
    ) -> Self {
        self.git_service_decorator = Some(FfiGitServiceDecorator_TO::from_value(Decorate(wrap), TD_Opaque));
        self
    }

    /// Tells the host that browsers reach it at `origin` (`https://app.example.com`, no path): unsafe requests
    /// from that origin are not cross-site, and its host name is served (interface 1.2).
    pub fn public_origin(mut self, origin: &str) -> Self {
        self.public_origins.push(origin.trim_end_matches('/').to_owned());
        self
    }

    /// The wire form handed back to the host.
    pub fn into_object(self) -> PluginObject {
        FfiPlugin_TO::from_value(Taken(Mutex::new(self)), TD_Opaque)
    }
}

/// The components behind the ABI: each is given out once.
struct Taken(Mutex<Components>);

impl Taken {
    fn take<T>(&self, field: impl FnOnce(&mut Components) -> &mut Option<T>) -> ROption<T> {
        let mut components = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        field(&mut components).take().into()
    }
}

impl FfiPlugin for Taken {
    fn middleware(&self) -> ROption<MiddlewareObject> {
        self.take(|c| &mut c.middleware)
    }

    fn routes(&self) -> ROption<RoutesObject> {
        self.take(|c| &mut c.routes)
    }

    fn server_config(&self) -> ROption<ServerConfigObject> {
        self.take(|c| &mut c.server_config)
    }

    fn user_auth(&self) -> ROption<UserAuthObject> {
        self.take(|c| &mut c.user_auth)
    }

    fn git_service(&self) -> ROption<GitServiceObject> {
        self.take(|c| &mut c.git_service)
    }

    fn server_config_decorator(&self) -> ROption<ServerConfigDecoratorObject> {
        self.take(|c| &mut c.server_config_decorator)
    }

    fn user_auth_decorator(&self) -> ROption<UserAuthDecoratorObject> {
        self.take(|c| &mut c.user_auth_decorator)
    }

    fn git_service_decorator(&self) -> ROption<GitServiceDecoratorObject> {
        self.take(|c| &mut c.git_service_decorator)
    }

    fn public_origins(&self) -> RVec<RString> {
        let components = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        components
            .public_origins
            .iter()
            .map(|o| RString::from(o.as_str()))
            .collect()
    }
}
