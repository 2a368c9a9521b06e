//! The frozen wire types: everything here crosses the boundary between the host and a plugin library.
//!
//! Rules (DESIGN.md section 3): every type is `#[repr(C)]`/`#[repr(u8)]` and derives `StableAbi`, so abi_stable's
//! layout check catches a plugin built against a different shape; every future is an `async_ffi` future; requests
//! are passed as borrowed views so a middleware call copies no header. Anything that will grow lives in a
//! `#[sabi_trait]` object (its vtable is a prefix type, so methods can be appended) or in `HostServices`.

// `#[sabi_trait]` expands to impls inside a generated const block, which this lint flags; the code is abi_stable's.
#![allow(non_local_definitions)]

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec},
    StableAbi,
};
use async_ffi::BorrowingFfiFuture;

use crate::{host::HostServicesRef, PluginError};

/// The plugin ABI this crate speaks. The host refuses a plugin whose declaration names another one, before it
/// looks at anything else in the library. Bump it on any change to this module or to `HostServices`' prefix.
pub const ABI_VERSION: u32 = 2;

/// Name of the exported [`PluginDeclaration`] static, read with a plain symbol lookup before abi_stable is asked
/// anything, so that even a plugin whose layout no longer matches is reported by name and ABI number.
pub const DECLARATION_SYMBOL: &str = "openhost_plugin_declaration";

/// The default `order` of a plugin middleware. Host built-ins: request-id 0, rate-limit 100, CORS 200,
/// cache-control 900.
pub const DEFAULT_MIDDLEWARE_ORDER: i32 = 500;

/// A plain C struct every plugin exports under [`DECLARATION_SYMBOL`]. Its layout is frozen forever: it is how a
/// host of any version tells "this is an openhost plugin for ABI n, named x" without trusting anything else.
#[repr(C)]
pub struct PluginDeclaration {
    pub abi_version: u32,
    /// NUL-terminated UTF-8 plugin name.
    pub name: *const u8,
    /// NUL-terminated version of openhost-plugin-api the plugin was built with.
    pub api_version: *const u8,
}

// SAFETY: the pointers refer to NUL-terminated string literals in the library's read-only data.
unsafe impl Sync for PluginDeclaration {}

/// An extension point of the host.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Middleware,
    Routes,
    ServerConfig,
    UserAuth,
    GitService,
}

impl Slot {
    /// Every slot, in display order.
    pub const ALL: [Slot; 5] = [
        Slot::Middleware,
        Slot::Routes,
        Slot::ServerConfig,
        Slot::UserAuth,
        Slot::GitService,
    ];

    /// The name used in `plugins.toml`, `/api/plugins` and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Middleware => "middleware",
            Slot::Routes => "routes",
            Slot::ServerConfig => "server_config",
            Slot::UserAuth => "user_auth",
            Slot::GitService => "git_service",
        }
    }

    /// Override slots hold exactly one active implementation; the others stack.
    pub fn is_override(self) -> bool {
        matches!(self, Slot::ServerConfig | Slot::UserAuth | Slot::GitService)
    }

    /// Parses the name used in `plugins.toml`.
    pub fn from_name(name: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|slot| slot.as_str() == name)
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plugin is, readable without calling `init`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginManifest {
    pub name: RString,
    pub version: RString,
    pub abi_version: u32,
    pub description: RString,
    pub provides: RVec<Slot>,
    /// Override slots this plugin decorates: it wraps whatever implementation is active there.
    pub decorates: RVec<Slot>,
}

/// One request header, borrowed from the host's request.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct HeaderView<'a> {
    /// Lower-case header name.
    pub name: RStr<'a>,
    pub value: RStr<'a>,
}

/// Who a request is for, borrowed.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityView<'a> {
    pub user_id: RStr<'a>,
    pub login: RStr<'a>,
    pub auth_kind: RStr<'a>,
}

/// Who a request is for. Every piece of per-user state is keyed by `user_id`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: RString,
    pub login: RString,
    pub auth_kind: RString,
}

impl Identity {
    pub fn new(user_id: &str, login: &str, auth_kind: &str) -> Self {
        Identity {
            user_id: user_id.into(),
            login: login.into(),
            auth_kind: auth_kind.into(),
        }
    }

    pub fn as_view(&self) -> IdentityView<'_> {
        IdentityView {
            user_id: self.user_id.as_rstr(),
            login: self.login.as_rstr(),
            auth_kind: self.auth_kind.as_rstr(),
        }
    }
}

/// A borrowed view of an incoming request. Headers whose value is not visible ASCII are left out.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: RStr<'a>,
    pub path: RStr<'a>,
    /// The raw query string without `?`, empty if none.
    pub query: RStr<'a>,
    pub headers: RSlice<'a, HeaderView<'a>>,
    /// `ip:port` of the TCP peer, empty if unknown.
    pub peer_addr: RStr<'a>,
    /// The identity an earlier middleware established, if any.
    pub identity: ROption<IdentityView<'a>>,
}

impl<'a> RequestView<'a> {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .as_slice()
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The value of a cookie from the `Cookie` header(s).
    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        self.headers
            .as_slice()
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case("cookie"))
            .flat_map(|h| h.value.as_str().split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// The first value of a query parameter, percent-decoding not applied.
    pub fn query_param(&self, name: &str) -> Option<&'a str> {
        self.query
            .as_str()
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// An owned header, for responses.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: RString,
    pub value: RString,
}

impl Header {
    pub fn new(name: &str, value: &str) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A complete HTTP response: one a plugin answers with, or one the host's HTTP service received.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: RVec<Header>,
    pub body: RVec<u8>,
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response {
            status,
            headers: RVec::from(vec![Header::new("content-type", "application/json")]),
            body: RVec::from(value.to_string().into_bytes()),
        }
    }

    /// The standard error body `{"error": message, "code": code}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Response::json(status, &serde_json::json!({"error": message, "code": code}))
    }

    /// Adds a header, builder style.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }
}

/// What a middleware decides about a request.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum MiddlewareAction {
    /// Go on down the chain, adding these headers to whatever response comes back, and (if set) establishing who
    /// the request is for.
    Continue {
        add_response_headers: RVec<Header>,
        identity: ROption<Identity>,
    },
    /// Stop here and answer with this response; the rest of the chain and the route do not run.
    Respond(Response),
}

impl MiddlewareAction {
    /// Continue with nothing added. Allocates nothing.
    pub fn next() -> Self {
        MiddlewareAction::Continue {
            add_response_headers: RVec::new(),
            identity: ROption::RNone,
        }
    }
}

/// The final response as a middleware's response hook sees it, borrowed.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    pub headers: RSlice<'a, HeaderView<'a>>,
    /// Time since the host received the request, in microseconds.
    pub elapsed_micros: u64,
}

impl<'a> ResponseView<'a> {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .as_slice()
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// A change a response hook makes to the response headers.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum HeaderChange {
    /// Replace every value of the header with this one.
    Set(Header),
    /// Add a value (e.g. another `Set-Cookie`).
    Append(Header),
    /// Remove the header.
    Remove(RString),
}

/// A route a plugin adds to the host.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Upper-case HTTP method.
    pub method: RString,
    /// Exact path, starting with `/`.
    pub path: RString,
}

/// The git provider operations the host's `/api/user/*` routes need.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitOperation {
    UserInfo,
    Repositories,
    SearchRepositories,
    Branches,
    Installations,
}

/// A query parameter, borrowed.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct QueryParam<'a> {
    pub name: RStr<'a>,
    pub value: RStr<'a>,
}

/// One git provider call: the operation and its parameters (`page`, `per_page`, `sort`, `query`, `repository`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct GitRequest<'a> {
    pub operation: GitOperation,
    pub params: RSlice<'a, QueryParam<'a>>,
}

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
}

/// The `routes` slot: extra exact-path routes.
#[sabi_trait]
pub trait FfiRoutes: Send + Sync {
    fn routes(&self) -> RVec<RouteSpec>;

    #[sabi(last_prefix_field)]
    fn handle<'a>(&'a self, request: RequestView<'a>, body: RSlice<'a, u8>) -> FfiResult<'a, Response>;
}

/// The `server_config` slot: the JSON of `GET /api/options/config`.
#[sabi_trait]
pub trait FfiServerConfig: Send + Sync {
    #[sabi(last_prefix_field)]
    fn config_json(&self) -> RResult<RString, PluginError>;
}

/// The `user_auth` slot: who a request is for. `RNone` means "not authenticated".
#[sabi_trait]
pub trait FfiUserAuth: Send + Sync {
    #[sabi(last_prefix_field)]
    fn identify<'a>(&'a self, request: RequestView<'a>) -> FfiResult<'a, ROption<Identity>>;
}

/// The `git_service` slot: git provider data for an identity, as the JSON the API returns.
#[sabi_trait]
pub trait FfiGitService: Send + Sync {
    #[sabi(last_prefix_field)]
    fn call<'a>(&'a self, identity: IdentityView<'a>, request: GitRequest<'a>) -> FfiResult<'a, RString>;
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

/// What `init` hands back: the plugin's implementation of each slot it provides.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginInstance {
    pub middleware: ROption<MiddlewareObject>,
    pub routes: ROption<RoutesObject>,
    pub server_config: ROption<ServerConfigObject>,
    pub user_auth: ROption<UserAuthObject>,
    pub git_service: ROption<GitServiceObject>,
    pub decorate_server_config: ROption<ServerConfigDecoratorObject>,
    pub decorate_user_auth: ROption<UserAuthDecoratorObject>,
    pub decorate_git_service: ROption<GitServiceDecoratorObject>,
}

impl PluginInstance {
    /// The override slots this instance decorates.
    pub fn decorated_slots(&self) -> Vec<Slot> {
        let mut slots = Vec::new();
        if self.decorate_server_config.is_some() {
            slots.push(Slot::ServerConfig);
        }
        if self.decorate_user_auth.is_some() {
            slots.push(Slot::UserAuth);
        }
        if self.decorate_git_service.is_some() {
            slots.push(Slot::GitService);
        }
        slots
    }

    /// The slots this instance fills.
    pub fn provided_slots(&self) -> Vec<Slot> {
        let mut slots = Vec::new();
        if self.middleware.is_some() {
            slots.push(Slot::Middleware);
        }
        if self.routes.is_some() {
            slots.push(Slot::Routes);
        }
        if self.server_config.is_some() {
            slots.push(Slot::ServerConfig);
        }
        if self.user_auth.is_some() {
            slots.push(Slot::UserAuth);
        }
        if self.git_service.is_some() {
            slots.push(Slot::GitService);
        }
        slots
    }
}

/// The root module every plugin library exports. Frozen and tiny (DESIGN.md 3.2): a host whose root module has
/// more fields than a plugin's rejects the plugin, so growth goes into the slot objects and `HostServices`.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    pub manifest: extern "C" fn() -> RResult<PluginManifest, PluginError>,
    /// `config_json` is the plugin's `[plugins.NAME.config]` table as JSON, `${VAR}`s already replaced.
    pub init: extern "C" fn(host: HostServicesRef, config_json: RString) -> RResult<PluginInstance, PluginError>,
    #[sabi(last_prefix_field)]
    pub shutdown: extern "C" fn(),
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "openhost_plugin";
    const NAME: &'static str = "openhost_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
