//! The plugin author's side: plain Rust traits for each slot, the [`Components`] an `init` returns, and the
//! adapters that turn them into guarded ABI objects. Authors never see `extern`, `FfiFuture` or `catch_unwind`.

use std::future::Future;

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RSlice, RString, RVec},
};

use crate::{
    abi::{
        FfiGitService, FfiGitServiceDecorator, FfiGitServiceDecorator_TO, FfiGitService_TO, FfiMiddleware,
        FfiMiddleware_TO, FfiResult, FfiRoutes, FfiRoutes_TO, FfiServerConfig, FfiServerConfigDecorator,
        FfiServerConfigDecorator_TO, FfiServerConfig_TO, FfiUserAuth, FfiUserAuthDecorator, FfiUserAuthDecorator_TO,
        FfiUserAuth_TO, GitRequest, GitServiceObject, HeaderChange, Identity, IdentityView, MiddlewareAction,
        MiddlewareObject, PluginInstance, RequestView, Response, ResponseView, RouteSpec, RoutesObject,
        ServerConfigObject, UserAuthObject, DEFAULT_MIDDLEWARE_ORDER,
    },
    guard::{guard_call, guard_future},
    PluginError,
};

/// The `middleware` slot: runs around every request.
pub trait Middleware: Send + Sync + 'static {
    /// Position in the chain, ascending; ties are broken by plugin name.
    fn order(&self) -> i32 {
        DEFAULT_MIDDLEWARE_ORDER
    }

    /// Decide about a request: continue (maybe adding response headers or an identity) or answer it. The
    /// default continues, for middleware that only changes responses.
    fn on_request(
        &self,
        _request: &RequestView<'_>,
    ) -> impl Future<Output = Result<MiddlewareAction, PluginError>> + Send {
        async { Ok(MiddlewareAction::next()) }
    }

    /// See the final response and change its headers (e.g. re-issue a cookie, record an audit entry). Runs for
    /// every request whose `on_request` ran, with the identity the chain established. The default does nothing.
    fn on_response(
        &self,
        _request: &RequestView<'_>,
        _response: &ResponseView<'_>,
    ) -> impl Future<Output = Result<Vec<HeaderChange>, PluginError>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// The `routes` slot: extra exact-path routes.
pub trait Routes: Send + Sync + 'static {
    /// The routes served; a collision with the host or another plugin is a startup error.
    fn routes(&self) -> Vec<RouteSpec>;

    /// Answer a request for one of [`Routes::routes`].
    fn handle(
        &self,
        request: &RequestView<'_>,
        body: &[u8],
    ) -> impl Future<Output = Result<Response, PluginError>> + Send;
}

/// The `server_config` slot: the JSON of `GET /api/options/config`.
pub trait ServerConfig: Send + Sync + 'static {
    fn config(&self) -> Result<serde_json::Value, PluginError>;
}

/// The `user_auth` slot: who a request is for; `None` means not authenticated.
pub trait UserAuth: Send + Sync + 'static {
    fn identify(&self, request: &RequestView<'_>)
        -> impl Future<Output = Result<Option<Identity>, PluginError>> + Send;
}

/// The `git_service` slot: git provider data for an identity, as API JSON.
pub trait GitService: Send + Sync + 'static {
    fn call(
        &self,
        identity: &IdentityView<'_>,
        request: &GitRequest<'_>,
    ) -> impl Future<Output = Result<serde_json::Value, PluginError>> + Send;
}

struct Guarded<T>(T);

impl<M: Middleware> FfiMiddleware for Guarded<M> {
    fn order(&self) -> i32 {
        guard_call(|| Ok(self.0.order())).unwrap_or(DEFAULT_MIDDLEWARE_ORDER)
    }

    fn on_request<'a>(&'a self, request: RequestView<'a>) -> FfiResult<'a, MiddlewareAction> {
        guard_future(move || async move { self.0.on_request(&request).await })
    }

    fn on_response<'a>(
        &'a self,
        request: RequestView<'a>,
        response: ResponseView<'a>,
    ) -> FfiResult<'a, RVec<HeaderChange>> {
        guard_future(move || async move { self.0.on_response(&request, &response).await.map(RVec::from) })
    }
}

impl<R: Routes> FfiRoutes for Guarded<R> {
    fn routes(&self) -> RVec<RouteSpec> {
        guard_call(|| Ok(self.0.routes())).map(RVec::from).unwrap_or_default()
    }

    fn handle<'a>(&'a self, request: RequestView<'a>, body: RSlice<'a, u8>) -> FfiResult<'a, Response> {
        guard_future(move || async move { self.0.handle(&request, body.as_slice()).await })
    }
}

impl<S: ServerConfig> FfiServerConfig for Guarded<S> {
    fn config_json(&self) -> RResult<RString, PluginError> {
        guard_call(|| self.0.config().map(|json| RString::from(json.to_string())))
    }
}

impl<U: UserAuth> FfiUserAuth for Guarded<U> {
    fn identify<'a>(&'a self, request: RequestView<'a>) -> FfiResult<'a, ROption<Identity>> {
        guard_future(move || async move { self.0.identify(&request).await.map(ROption::from) })
    }
}

impl<G: GitService> FfiGitService for Guarded<G> {
    fn call<'a>(&'a self, identity: IdentityView<'a>, request: GitRequest<'a>) -> FfiResult<'a, RString> {
        guard_future(move || async move {
            let json = self.0.call(&identity, &request).await?;
            Ok(RString::from(json.to_string()))
        })
    }
}

/// Wraps a [`Middleware`] as a guarded ABI object. The host builds its own built-ins this way too, so they run
/// through exactly the mechanism plugins use.
pub fn middleware_object(middleware: impl Middleware) -> MiddlewareObject {
    FfiMiddleware_TO::from_value(Guarded(middleware), TD_Opaque)
}

/// Wraps [`Routes`] as a guarded ABI object.
pub fn routes_object(routes: impl Routes) -> RoutesObject {
    FfiRoutes_TO::from_value(Guarded(routes), TD_Opaque)
}

/// Wraps a [`ServerConfig`] as a guarded ABI object.
pub fn server_config_object(config: impl ServerConfig) -> ServerConfigObject {
    FfiServerConfig_TO::from_value(Guarded(config), TD_Opaque)
}

/// Wraps a [`UserAuth`] as a guarded ABI object.
pub fn user_auth_object(auth: impl UserAuth) -> UserAuthObject {
    FfiUserAuth_TO::from_value(Guarded(auth), TD_Opaque)
}

/// Wraps a [`GitService`] as a guarded ABI object.
pub fn git_service_object(service: impl GitService) -> GitServiceObject {
    FfiGitService_TO::from_value(Guarded(service), TD_Opaque)
}

/// The implementation a decorator wraps: the host's, an override's, or a lower decorator's `server_config`.
pub struct ServerConfigHandle(ServerConfigObject);

impl ServerConfigHandle {
    pub fn config(&self) -> Result<serde_json::Value, PluginError> {
        let text = self.0.config_json().into_result()?;
        serde_json::from_str(&text).map_err(|e| PluginError::other(format!("inner server_config sent bad JSON: {e}")))
    }
}

/// The `user_auth` a decorator wraps.
pub struct UserAuthHandle(UserAuthObject);

impl UserAuthHandle {
    pub async fn identify(&self, request: &RequestView<'_>) -> Result<Option<Identity>, PluginError> {
        Ok(self.0.identify(*request).await.into_result()?.into_option())
    }
}

/// The `git_service` a decorator wraps.
pub struct GitServiceHandle(GitServiceObject);

impl GitServiceHandle {
    pub async fn call(
        &self,
        identity: &IdentityView<'_>,
        request: &GitRequest<'_>,
    ) -> Result<serde_json::Value, PluginError> {
        let text = self.0.call(*identity, *request).await.into_result()?;
        serde_json::from_str(&text).map_err(|e| PluginError::other(format!("inner git_service sent bad JSON: {e}")))
    }
}

/// A decorator: builds this plugin's implementation around the inner one, once, at startup.
struct Decorate<F>(F);

impl<S: ServerConfig, F: Fn(ServerConfigHandle) -> S + Send + Sync + 'static> FfiServerConfigDecorator for Decorate<F> {
    fn wrap(&self, inner: ServerConfigObject) -> RResult<ServerConfigObject, PluginError> {
        guard_call(|| Ok(server_config_object((self.0)(ServerConfigHandle(inner)))))
    }
}

impl<U: UserAuth, F: Fn(UserAuthHandle) -> U + Send + Sync + 'static> FfiUserAuthDecorator for Decorate<F> {
    fn wrap(&self, inner: UserAuthObject) -> RResult<UserAuthObject, PluginError> {
        guard_call(|| Ok(user_auth_object((self.0)(UserAuthHandle(inner)))))
    }
}

impl<G: GitService, F: Fn(GitServiceHandle) -> G + Send + Sync + 'static> FfiGitServiceDecorator for Decorate<F> {
    fn wrap(&self, inner: GitServiceObject) -> RResult<GitServiceObject, PluginError> {
        guard_call(|| Ok(git_service_object((self.0)(GitServiceHandle(inner)))))
    }
}

/// What a plugin's `init` returns: its implementation of each slot it provides (must match the manifest).
#[derive(Default)]
pub struct Components {
    instance: PluginInstance,
}

impl Default for PluginInstance {
    fn default() -> Self {
        PluginInstance {
            middleware: ROption::RNone,
            routes: ROption::RNone,
            server_config: ROption::RNone,
            user_auth: ROption::RNone,
            git_service: ROption::RNone,
            decorate_server_config: ROption::RNone,
            decorate_user_auth: ROption::RNone,
            decorate_git_service: ROption::RNone,
        }
    }
}

impl Components {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.instance.middleware = ROption::RSome(middleware_object(middleware));
        self
    }

    pub fn routes(mut self, routes: impl Routes) -> Self {
        self.instance.routes = ROption::RSome(routes_object(routes));
        self
    }

    pub fn server_config(mut self, config: impl ServerConfig) -> Self {
        self.instance.server_config = ROption::RSome(server_config_object(config));
        self
    }

    pub fn user_auth(mut self, auth: impl UserAuth) -> Self {
        self.instance.user_auth = ROption::RSome(user_auth_object(auth));
        self
    }

    pub fn git_service(mut self, service: impl GitService) -> Self {
        self.instance.git_service = ROption::RSome(git_service_object(service));
        self
    }

    /// Decorates the active `server_config`: `wrap` gets the inner implementation and returns this plugin's.
    pub fn decorate_server_config<S: ServerConfig>(
        mut self,
        wrap: impl Fn(ServerConfigHandle) -> S + Send + Sync + 'static,
    ) -> Self {
        self.instance.decorate_server_config =
            ROption::RSome(FfiServerConfigDecorator_TO::from_value(Decorate(wrap), TD_Opaque));
        self
    }

    /// Decorates the active `user_auth`.
    pub fn decorate_user_auth<U: UserAuth>(
        mut self,
        wrap: impl Fn(UserAuthHandle) -> U + Send + Sync + 'static,
    ) -> Self {
        self.instance.decorate_user_auth =
            ROption::RSome(FfiUserAuthDecorator_TO::from_value(Decorate(wrap), TD_Opaque));
        self
    }

    /// Decorates the active `git_service`.
    pub fn decorate_git_service<G: GitService>(
        mut self,
        wrap: impl Fn(GitServiceHandle) -> G + Send + Sync + 'static,
    ) -> Self {
        self.instance.decorate_git_service =
            ROption::RSome(FfiGitServiceDecorator_TO::from_value(Decorate(wrap), TD_Opaque));
        self
    }

    /// The wire form handed back to the host.
    pub fn into_instance(self) -> PluginInstance {
        self.instance
    }
}
