//! The SDK traits turned into ABI objects: every call into plugin code runs under the panic guard
//! (`crate::guard`), and every future crosses as a context-free `FfiFuture`.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RSlice, RString, RVec},
};

use crate::{
    guard::{guard_call, guard_future},
    sdk::{
        handles::{GitServiceHandle, ServerConfigHandle, UserAuthHandle},
        order, GitService, GitServiceDecorator, Middleware, Router, ServerConfig, UserAuth,
    },
    wire::{
        git::{
            BranchPage, BranchQuery, BranchSearch, GitUser, InstallationPage, InstallationRepositoryQuery, PageRequest,
            RepositoryPage, RepositoryQuery, SearchQuery, SuggestedTask,
        },
        http::{Decision, HeaderChange, MiddlewareAction, RequestView, Response, ResponseView, RouteSpec},
        identity::{Identity, IdentityView},
        slots::{
            FfiGitService, FfiGitServiceDecorator, FfiGitService_TO, FfiMiddleware, FfiMiddleware_TO, FfiResult,
            FfiRoutes, FfiRoutes_TO, FfiServerConfig, FfiServerConfigDecorator, FfiServerConfig_TO, FfiUserAuth,
            FfiUserAuthDecorator, FfiUserAuth_TO, GitServiceObject, MiddlewareHooks, MiddlewareObject, RoutesObject,
            ServerConfigObject, UserAuthObject,
        },
    },
    PluginError,
};

/// An SDK implementation behind the guard.
pub(crate) struct Guarded<T>(pub(crate) T);

impl<M: Middleware> FfiMiddleware for Guarded<M> {
    fn order(&self) -> i32 {
        guard_call(|| Ok(self.0.order())).unwrap_or(order::DEFAULT)
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

    fn reads_body(&self) -> bool {
        guard_call(|| Ok(self.0.reads_body())).unwrap_or(false)
    }

    fn decide<'a>(&'a self, request: RequestView<'a>, body: RSlice<'a, u8>) -> FfiResult<'a, Decision> {
        guard_future(move || async move { self.0.decide(&request, body.as_slice()).await })
    }

    fn hooks(&self) -> MiddlewareHooks {
        M::HOOKS
    }
}

impl<S: Send + Sync + 'static> FfiRoutes for Guarded<Router<S>> {
    fn routes(&self) -> RVec<RouteSpec> {
        self.0.specs().into()
    }

    fn handle<'a>(&'a self, route: u32, request: RequestView<'a>, body: RSlice<'a, u8>) -> FfiResult<'a, Response> {
        guard_future(move || self.0.dispatch(route, &request, body.as_slice()))
    }
}

impl<S: ServerConfig> FfiServerConfig for Guarded<S> {
    fn config_json(&self) -> FfiResult<'_, RString> {
        guard_future(move || async move {
            // `to_string` would go through `fmt::Display`, several times slower than serde's own writer.
            let text = serde_json::to_string(&self.0.config().await?)
                .map_err(|e| PluginError::other(format!("the server config cannot be written as JSON: {e}")))?;
            Ok(RString::from(text))
        })
    }
}

impl<U: UserAuth> FfiUserAuth for Guarded<U> {
    fn identify<'a>(&'a self, request: RequestView<'a>) -> FfiResult<'a, ROption<Identity>> {
        guard_future(move || async move { self.0.identify(&request).await.map(ROption::from) })
    }

    fn sign_out<'a>(
        &'a self,
        request: RequestView<'a>,
        identity: IdentityView<'a>,
    ) -> FfiResult<'a, RVec<HeaderChange>> {
        guard_future(move || async move { self.0.sign_out(&request, &identity).await.map(RVec::from) })
    }
}

impl<G: GitService> FfiGitService for Guarded<G> {
    fn manages_tokens(&self) -> bool {
        guard_call(|| Ok(self.0.manages_tokens())).unwrap_or(false)
    }

    fn providers(&self) -> RVec<RString> {
        guard_call(|| Ok(self.0.providers().into_iter().map(RString::from).collect())).unwrap_or_default()
    }

    fn user_info<'a>(&'a self, identity: IdentityView<'a>) -> FfiResult<'a, GitUser> {
        guard_future(move || async move { self.0.user_info(&identity).await })
    }

    fn repositories<'a>(
        &'a self,
        identity: IdentityView<'a>,
        query: RepositoryQuery<'a>,
    ) -> FfiResult<'a, RepositoryPage> {
        guard_future(move || async move { self.0.repositories(&identity, &query).await })
    }

    fn search_repositories<'a>(
        &'a self,
        identity: IdentityView<'a>,
        query: SearchQuery<'a>,
    ) -> FfiResult<'a, RepositoryPage> {
        guard_future(move || async move { self.0.search_repositories(&identity, &query).await })
    }

    fn branches<'a>(&'a self, identity: IdentityView<'a>, query: BranchQuery<'a>) -> FfiResult<'a, BranchPage> {
        guard_future(move || async move { self.0.branches(&identity, &query).await })
    }

    fn search_branches<'a>(&'a self, identity: IdentityView<'a>, query: BranchSearch<'a>) -> FfiResult<'a, BranchPage> {
        guard_future(move || async move { self.0.search_branches(&identity, &query).await })
    }

    fn installations<'a>(&'a self, identity: IdentityView<'a>, page: PageRequest) -> FfiResult<'a, InstallationPage> {
        guard_future(move || async move { self.0.installations(&identity, page).await })
    }

    fn suggested_tasks<'a>(&'a self, identity: IdentityView<'a>) -> FfiResult<'a, RVec<SuggestedTask>> {
        guard_future(move || async move { self.0.suggested_tasks(&identity).await.map(RVec::from) })
    }

    fn installation_repositories<'a>(
        &'a self,
        identity: IdentityView<'a>,
        query: InstallationRepositoryQuery<'a>,
    ) -> FfiResult<'a, RepositoryPage> {
        guard_future(move || async move { self.0.installation_repositories(&identity, &query).await })
    }
}

/// A [`GitServiceDecorator`] seen as a [`GitService`].
pub(crate) struct Decorating<D>(pub(crate) D);

impl<D: GitServiceDecorator> GitService for Decorating<D> {
    fn manages_tokens(&self) -> bool {
        self.0.inner().manages_tokens()
    }

    fn providers(&self) -> Vec<String> {
        self.0.inner().providers()
    }

    async fn user_info(&self, identity: &IdentityView<'_>) -> Result<GitUser, PluginError> {
        self.0.user_info(identity).await
    }

    async fn repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &RepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.0.repositories(identity, query).await
    }

    async fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.0.search_repositories(identity, query).await
    }

    async fn branches(&self, identity: &IdentityView<'_>, query: &BranchQuery<'_>) -> Result<BranchPage, PluginError> {
        self.0.branches(identity, query).await
    }

    async fn search_branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchSearch<'_>,
    ) -> Result<BranchPage, PluginError> {
        self.0.search_branches(identity, query).await
    }

    async fn installations(
        &self,
        identity: &IdentityView<'_>,
        page: PageRequest,
    ) -> Result<InstallationPage, PluginError> {
        self.0.installations(identity, page).await
    }

    async fn suggested_tasks(&self, identity: &IdentityView<'_>) -> Result<Vec<SuggestedTask>, PluginError> {
        self.0.suggested_tasks(identity).await
    }

    async fn installation_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &InstallationRepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.0.installation_repositories(identity, query).await
    }
}

/// Wraps a [`Middleware`] as a guarded ABI object. The host builds its own built-ins this way too, so they run
/// through exactly the mechanism plugins use.
pub fn middleware_object(middleware: impl Middleware) -> MiddlewareObject {
    FfiMiddleware_TO::from_value(Guarded(middleware), TD_Opaque)
}

/// Wraps a [`Router`] as a guarded ABI object.
pub fn routes_object<S: Send + Sync + 'static>(router: Router<S>) -> RoutesObject {
    FfiRoutes_TO::from_value(Guarded(router), TD_Opaque)
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

/// A decorator: builds this plugin's implementation around the inner one, once, at startup.
pub(crate) struct Decorate<F>(pub(crate) F);

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

impl<D: GitServiceDecorator, F: Fn(GitServiceHandle) -> D + Send + Sync + 'static> FfiGitServiceDecorator
    for Decorate<F>
{
    fn wrap(&self, inner: GitServiceObject) -> RResult<GitServiceObject, PluginError> {
        guard_call(|| Ok(git_service_object(Decorating((self.0)(GitServiceHandle(inner))))))
    }
}
