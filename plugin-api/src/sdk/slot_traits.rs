//! The slot traits a plugin author implements: plain async Rust, which the adapters ([`super::adapters`]) turn
//! into guarded ABI objects.

use std::future::Future;

use serde_json::Value;

use crate::{
    sdk::{handles::GitServiceHandle, order},
    wire::{
        git::{
            BranchPage, BranchQuery, BranchSearch, GitUser, InstallationPage, InstallationRepositoryQuery, PageRequest,
            RepositoryPage, RepositoryQuery, SearchQuery, SuggestedTask,
        },
        http::{Decision, HeaderChange, MiddlewareAction, RequestView, ResponseView},
        identity::{Identity, IdentityView},
        slots::MiddlewareHooks,
    },
    PluginError,
};

/// The `middleware` slot: runs around every request.
pub trait Middleware: Send + Sync + 'static {
    /// The hooks the host calls (interface 1.6). `#[openhost_plugin_api::middleware]` on the `impl` block sets
    /// this from the methods it writes; without it, both: a hook the author did not write still costs a call.
    const HOOKS: MiddlewareHooks = MiddlewareHooks::BOTH;

    /// Position in the chain, ascending; ties are broken by plugin name. See [`order`].
    fn order(&self) -> i32 {
        order::DEFAULT
    }

    /// Decide about a request: continue (maybe adding response headers or an identity) or answer it. The
    /// default continues, for middleware that only changes responses.
    fn on_request(
        &self,
        _request: &RequestView<'_>,
    ) -> impl Future<Output = Result<MiddlewareAction, PluginError>> + Send {
        async { Ok(MiddlewareAction::next()) }
    }

    /// Whether [`Middleware::decide`] reads the request body (interface 1.5): the host then reads it, bounded as
    /// for a route, before this middleware runs. The default reads none.
    fn reads_body(&self) -> bool {
        false
    }

    /// Decide about a request *and change it before routing* (interface 1.5): a [`Decision`] carries the
    /// action of [`Middleware::on_request`] and the edits (method, URI, headers, and the body when
    /// [`Middleware::reads_body`]). Routing sees the changed request. The host calls this; the default runs
    /// `on_request` and changes nothing, so a middleware that does not rewrite implements `on_request` only.
    fn decide(
        &self,
        request: &RequestView<'_>,
        body: &[u8],
    ) -> impl Future<Output = Result<Decision, PluginError>> + Send {
        let _ = body;
        async move { self.on_request(request).await.map(Decision::from) }
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

/// The `server_config` slot: the JSON of `GET /api/options/config`.
pub trait ServerConfig: Send + Sync + 'static {
    fn config(&self) -> impl Future<Output = Result<Value, PluginError>> + Send;
}

/// The `user_auth` slot: who a request is for (`None`: not authenticated), and signing out.
pub trait UserAuth: Send + Sync + 'static {
    fn identify(&self, request: &RequestView<'_>)
        -> impl Future<Output = Result<Option<Identity>, PluginError>> + Send;

    /// Ends what `identify` recognised; the returned changes apply to the `POST /api/logout` answer (e.g. a
    /// cookie cleared). The default has nothing to end.
    fn sign_out(
        &self,
        _request: &RequestView<'_>,
        _identity: &IdentityView<'_>,
    ) -> impl Future<Output = Result<Vec<HeaderChange>, PluginError>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// The error a git service answers for an operation it does not offer.
pub fn not_offered(operation: &str) -> PluginError {
    PluginError::http(
        501,
        "not_implemented",
        format!("the active git service does not offer {operation}"),
    )
}

/// The `git_service` slot: git provider data for an identity, as typed records.
pub trait GitService: Send + Sync + 'static {
    /// `true` if this service gets tokens itself (then the host refuses personal access tokens).
    fn manages_tokens(&self) -> bool {
        false
    }

    /// The providers this service serves; the default is GitHub alone.
    fn providers(&self) -> Vec<String> {
        vec!["github".to_owned()]
    }

    fn user_info(&self, identity: &IdentityView<'_>) -> impl Future<Output = Result<GitUser, PluginError>> + Send;

    fn repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &RepositoryQuery<'_>,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send;

    fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send;

    fn branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchQuery<'_>,
    ) -> impl Future<Output = Result<BranchPage, PluginError>> + Send;

    /// Branches whose name contains the query. The default answers 501 `not_implemented`.
    fn search_branches(
        &self,
        _identity: &IdentityView<'_>,
        _query: &BranchSearch<'_>,
    ) -> impl Future<Output = Result<BranchPage, PluginError>> + Send {
        async { Err(not_offered("branch search")) }
    }

    fn installations(
        &self,
        identity: &IdentityView<'_>,
        page: PageRequest,
    ) -> impl Future<Output = Result<InstallationPage, PluginError>> + Send;

    /// The user's open pull requests and issues. The default answers 501 `not_implemented`.
    fn suggested_tasks(
        &self,
        _identity: &IdentityView<'_>,
    ) -> impl Future<Output = Result<Vec<SuggestedTask>, PluginError>> + Send {
        async { Err(not_offered("suggested tasks")) }
    }

    /// The repositories of one installation (interface 1.1). The default answers the user's repositories.
    fn installation_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &InstallationRepositoryQuery<'_>,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send {
        let all = RepositoryQuery {
            sort: "pushed".into(),
            page: query.page,
        };
        async move { self.repositories(identity, &all).await }
    }
}

/// A decorator of `git_service`: every operation goes to [`GitServiceDecorator::inner`] unless overridden, so a
/// decorator writes only what it changes.
pub trait GitServiceDecorator: Send + Sync + 'static {
    /// The implementation being wrapped.
    fn inner(&self) -> &GitServiceHandle;

    fn user_info(&self, identity: &IdentityView<'_>) -> impl Future<Output = Result<GitUser, PluginError>> + Send {
        self.inner().user_info(identity)
    }

    fn repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &RepositoryQuery<'_>,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send {
        self.inner().repositories(identity, query)
    }

    fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send {
        self.inner().search_repositories(identity, query)
    }

    fn branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchQuery<'_>,
    ) -> impl Future<Output = Result<BranchPage, PluginError>> + Send {
        self.inner().branches(identity, query)
    }

    fn search_branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchSearch<'_>,
    ) -> impl Future<Output = Result<BranchPage, PluginError>> + Send {
        self.inner().search_branches(identity, query)
    }

    fn installations(
        &self,
        identity: &IdentityView<'_>,
        page: PageRequest,
    ) -> impl Future<Output = Result<InstallationPage, PluginError>> + Send {
        self.inner().installations(identity, page)
    }

    fn suggested_tasks(
        &self,
        identity: &IdentityView<'_>,
    ) -> impl Future<Output = Result<Vec<SuggestedTask>, PluginError>> + Send {
        self.inner().suggested_tasks(identity)
    }

    fn installation_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &InstallationRepositoryQuery<'_>,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send {
        self.inner().installation_repositories(identity, query)
    }
}
