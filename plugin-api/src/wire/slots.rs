//! The slot traits as they cross the boundary: `#[sabi_trait]` objects.
//!
//! A sabi_trait's vtable is a prefix type: methods up to `#[sabi(last_prefix_field)]` are the 1.0 interface and
//! every plugin has them; a later minor appends methods after it, each with a default body that the host runs
//! when an older plugin's vtable lacks the method. Authors never implement these traits: the SDK
//! ([`crate::sdk`]) does, around plain Rust traits, with a panic guard on every call.

// `#[sabi_trait]` expands to impls inside a generated const block, which this lint flags; the code is abi_stable's.
#![allow(non_local_definitions)]

use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RSlice, RString, RVec},
    StableAbi,
};
use async_ffi::{BorrowingFfiFuture, FutureExt as _};

use crate::{
    wire::{
        git::{
            BranchPage, BranchQuery, BranchSearch, GitUser, InstallationPage, InstallationRepositoryQuery, PageRequest,
            RepositoryPage, RepositoryQuery, SearchQuery, SuggestedTask,
        },
        http::{Decision, HeaderChange, MiddlewareAction, RequestView, Response, ResponseView, RouteSpec},
        identity::{Identity, IdentityView},
    },
    PluginError,
};

/// A future that crosses the boundary. Context-free by rule: it never touches a tokio runtime of its own.
pub type FfiResult<'a, T> = BorrowingFfiFuture<'a, RResult<T, PluginError>>;

/// The `middleware` slot: runs around every request, in ascending `order`.
#[sabi_trait]
pub trait FfiMiddleware: Send + Sync {
    fn order(&self) -> i32;

    fn on_request<'a>(&'a self, request: RequestView<'a>) -> FfiResult<'a, MiddlewareAction>;

    /// Called with the final response; returns changes to make to its headers.
    #[sabi(last_prefix_field)]
    fn on_response<'a>(
        &'a self,
        request: RequestView<'a>,
        response: ResponseView<'a>,
    ) -> FfiResult<'a, RVec<HeaderChange>>;

    /// Added in 1.5: whether [`FfiMiddleware::decide`] reads the request body; the host then reads it (bounded
    /// as for a route) before calling it. A plugin built for 1.4 or earlier reads none.
    fn reads_body(&self) -> bool {
        false
    }

    /// Added in 1.5: decides about a request and may change it before routing ([`Decision`]); `body` is the
    /// request body if [`FfiMiddleware::reads_body`], else empty. The host calls this rather than `on_request`;
    /// for a plugin built for 1.4 or earlier, whose vtable lacks it, this default runs its `on_request`.
    fn decide<'a>(&'a self, request: RequestView<'a>, body: RSlice<'a, u8>) -> FfiResult<'a, Decision> {
        let _ = body;
        let call = self.on_request(request);
        async move { call.await.map(Decision::from) }.into_ffi()
    }

    /// Added in 1.6: which hooks this middleware implements; the host calls only those. A plugin built for 1.5
    /// or earlier, whose vtable lacks it, gets this default: both, as before.
    fn hooks(&self) -> MiddlewareHooks {
        MiddlewareHooks::BOTH
    }
}

/// The hooks a middleware implements (interface 1.6): `request` is `decide` (or `on_request`), `response` is
/// `on_response`. A hook not declared is never called.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiddlewareHooks {
    pub request: bool,
    pub response: bool,
}

impl MiddlewareHooks {
    /// Both hooks: what a middleware that declares nothing gets.
    pub const BOTH: MiddlewareHooks = MiddlewareHooks {
        request: true,
        response: true,
    };
    /// Only the request hook.
    pub const REQUEST: MiddlewareHooks = MiddlewareHooks {
        request: true,
        response: false,
    };
    /// Only the response hook.
    pub const RESPONSE: MiddlewareHooks = MiddlewareHooks {
        request: false,
        response: true,
    };
}

/// The `routes` slot: extra routes, exact or with parameters (`{name}`, a `*` rest: interface 1.5).
#[sabi_trait]
pub trait FfiRoutes: Send + Sync {
    fn routes(&self) -> RVec<RouteSpec>;

    /// Answers a request for `routes()[route]`: the host passes the index, so no plugin re-matches paths.
    #[sabi(last_prefix_field)]
    fn handle<'a>(&'a self, route: u32, request: RequestView<'a>, body: RSlice<'a, u8>) -> FfiResult<'a, Response>;
}

/// The `server_config` slot: the JSON of `GET /api/options/config`.
#[sabi_trait]
pub trait FfiServerConfig: Send + Sync {
    /// A future, so the host polls it on the request's own task (no thread hop) and a call that never finishes
    /// is cut off by the plugin deadline.
    #[sabi(last_prefix_field)]
    fn config_json(&self) -> FfiResult<'_, RString>;
}

/// The `user_auth` slot: who a request is for, and signing out.
#[sabi_trait]
pub trait FfiUserAuth: Send + Sync {
    /// `RNone` means "not authenticated".
    fn identify<'a>(&'a self, request: RequestView<'a>) -> FfiResult<'a, ROption<Identity>>;

    /// Ends what `identify` recognised (a session, a cookie): `POST /api/logout` calls it and applies the
    /// returned header changes to its answer.
    #[sabi(last_prefix_field)]
    fn sign_out<'a>(
        &'a self,
        request: RequestView<'a>,
        identity: IdentityView<'a>,
    ) -> FfiResult<'a, RVec<HeaderChange>>;
}

/// The `git_service` slot: git provider data for an identity, as typed records.
#[sabi_trait]
pub trait FfiGitService: Send + Sync {
    /// Whether this service gets its tokens itself (e.g. from a sign-in); then the host refuses personal access
    /// tokens (`provider_tokens_managed`).
    fn manages_tokens(&self) -> bool;

    /// The git providers this service serves (`github`, `gitlab`, ...): the host refuses tokens for others.
    fn providers(&self) -> RVec<RString>;

    fn user_info<'a>(&'a self, identity: IdentityView<'a>) -> FfiResult<'a, GitUser>;

    fn repositories<'a>(
        &'a self,
        identity: IdentityView<'a>,
        query: RepositoryQuery<'a>,
    ) -> FfiResult<'a, RepositoryPage>;

    fn search_repositories<'a>(
        &'a self,
        identity: IdentityView<'a>,
        query: SearchQuery<'a>,
    ) -> FfiResult<'a, RepositoryPage>;

    fn branches<'a>(&'a self, identity: IdentityView<'a>, query: BranchQuery<'a>) -> FfiResult<'a, BranchPage>;

    fn search_branches<'a>(&'a self, identity: IdentityView<'a>, query: BranchSearch<'a>) -> FfiResult<'a, BranchPage>;

    fn installations<'a>(&'a self, identity: IdentityView<'a>, page: PageRequest) -> FfiResult<'a, InstallationPage>;

    #[sabi(last_prefix_field)]
    fn suggested_tasks<'a>(&'a self, identity: IdentityView<'a>) -> FfiResult<'a, RVec<SuggestedTask>>;

    /// Added in 1.1: the repositories of one installation. A plugin built for 1.0 lacks it; the host then runs
    /// this default, the user's repositories (not filtered by installation).
    fn installation_repositories<'a>(
        &'a self,
        identity: IdentityView<'a>,
        query: InstallationRepositoryQuery<'a>,
    ) -> FfiResult<'a, RepositoryPage> {
        let all = RepositoryQuery {
            sort: "pushed".into(),
            page: query.page,
        };
        self.repositories(identity, all)
    }
}

/// Wraps the active `server_config` (the host's, an override's, or a lower decorator's) in this plugin's.
#[sabi_trait]
pub trait FfiServerConfigDecorator: Send + Sync {
    #[sabi(last_prefix_field)]
    fn wrap(&self, inner: ServerConfigObject) -> RResult<ServerConfigObject, PluginError>;
}

/// Wraps the active `user_auth`.
#[sabi_trait]
pub trait FfiUserAuthDecorator: Send + Sync {
    #[sabi(last_prefix_field)]
    fn wrap(&self, inner: UserAuthObject) -> RResult<UserAuthObject, PluginError>;
}

/// Wraps the active `git_service`.
#[sabi_trait]
pub trait FfiGitServiceDecorator: Send + Sync {
    #[sabi(last_prefix_field)]
    fn wrap(&self, inner: GitServiceObject) -> RResult<GitServiceObject, PluginError>;
}

pub type MiddlewareObject = FfiMiddleware_TO<'static, RBox<()>>;
pub type RoutesObject = FfiRoutes_TO<'static, RBox<()>>;
pub type ServerConfigObject = FfiServerConfig_TO<'static, RBox<()>>;
pub type UserAuthObject = FfiUserAuth_TO<'static, RBox<()>>;
pub type GitServiceObject = FfiGitService_TO<'static, RBox<()>>;
pub type ServerConfigDecoratorObject = FfiServerConfigDecorator_TO<'static, RBox<()>>;
pub type UserAuthDecoratorObject = FfiUserAuthDecorator_TO<'static, RBox<()>>;
pub type GitServiceDecoratorObject = FfiGitServiceDecorator_TO<'static, RBox<()>>;

/// What `init` hands back: the plugin's components. Each method gives its component once (the host takes it
/// into the registry); a later call answers `RNone`. A new slot in a later minor is a method appended here whose
/// default answers `RNone`, which is what an older plugin then reports.
#[sabi_trait]
pub trait FfiPlugin: Send + Sync {
    fn middleware(&self) -> ROption<MiddlewareObject>;
    fn routes(&self) -> ROption<RoutesObject>;
    fn server_config(&self) -> ROption<ServerConfigObject>;
    fn user_auth(&self) -> ROption<UserAuthObject>;
    fn git_service(&self) -> ROption<GitServiceObject>;
    fn server_config_decorator(&self) -> ROption<ServerConfigDecoratorObject>;
    fn user_auth_decorator(&self) -> ROption<UserAuthDecoratorObject>;
    #[sabi(last_prefix_field)]
    fn git_service_decorator(&self) -> ROption<GitServiceDecoratorObject>;

    /// Added in 1.2: the public origins (`https://app.example.com`) the plugin serves the host under, such as the
    /// enterprise plugin's `public_url`. The host accepts them as the `Origin` of unsafe requests and their host
    /// names in `Host` (docs/security.md). A plugin built for 1.1 or earlier adds none.
    fn public_origins(&self) -> RVec<RString> {
        RVec::new()
    }
}

pub type PluginObject = FfiPlugin_TO<'static, RBox<()>>;
