//! The openhost plugin interface, 1.x.
//!
//! Two layers live here. The *wire* layer ([`wire`], [`host`], [`manifest`]) is what crosses the boundary
//! between the host and a plugin library: abi_stable types whose layout is checked when a library is loaded, and
//! a manifest stored as data in the file. The *SDK* layer ([`sdk`], [`export_plugin!`]) is what a plugin author
//! writes against: plain Rust traits, a router, typed config and one macro; the SDK wraps every call in a panic
//! guard and forwards the plugin's `tracing` output to the host. The compatibility rules (what a minor may add,
//! what breaks) are in docs/plugin-interface.md.
//!
//! A plugin is a `cdylib` crate that depends on this crate only:
//!
//! ```ignore
//! use openhost_plugin_api::prelude::*;
//!
//! struct Stamp;
//!
//! #[middleware] // declares the hooks this block writes: only `on_request`, so the host makes one call, not two
//! impl Middleware for Stamp {
//!     async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
//!         Ok(MiddlewareAction::next().with_header("x-stamp", "1"))
//!     }
//! }
//!
//! fn init(_host: Host, _config: serde_json::Value) -> Result<Components, PluginError> {
//!     Ok(Components::new().middleware(Stamp))
//! }
//!
//! export_plugin! { name: "stamp", description: "Stamps responses", provides: [Middleware], init: init }
//! ```

mod error;
pub mod export;
pub mod guard;
pub mod host;
pub mod interface;
mod logging;
pub mod manifest;
pub mod route_path;
pub mod sdk;
mod slot;
pub mod wire;

pub use error::PluginError;
pub use host::{Host, HostServices, HostServicesRef, HttpRequest, KvEntry, Lease, LogLevel, MetricKind, MetricLabel};
pub use interface::{InterfaceVersion, INTERFACE_MAJOR, INTERFACE_MINOR};
/// Declares which hooks a middleware implements from the methods its `impl Middleware for T` block writes
/// (interface 1.6): `#[openhost_plugin_api::middleware]`, or `#[middleware]` with the prelude.
pub use openhost_plugin_api_macros::middleware;
pub use sdk::{
    order, Components, GitService, GitServiceDecorator, GitServiceHandle, Middleware, Request, Router, ServerConfig,
    ServerConfigHandle, UserAuth, UserAuthHandle,
};
pub use slot::Slot;
pub use wire::{
    git::{
        Branch, BranchPage, BranchQuery, BranchSearch, GitUser, Installation, InstallationPage,
        InstallationRepositoryQuery, Page, PageRequest, Repository, RepositoryPage, RepositoryQuery, SearchQuery,
        SuggestedTask,
    },
    http::{
        Decision, Header, HeaderChange, HeaderView, MiddlewareAction, RequestEdit, RequestView, Response, ResponseView,
        RouteSpec,
    },
    identity::{Identity, IdentityView},
    module::{PluginMod, PluginModRef},
    slots::{
        FfiResult, GitServiceObject, MiddlewareHooks, MiddlewareObject, PluginObject, RoutesObject, ServerConfigObject,
        UserAuthObject,
    },
};

#[doc(hidden)]
pub use serde_json;

/// Re-exports of the FFI-safe std types the interface uses.
pub mod types {
    pub use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec};
}

/// Everything a plugin author usually needs.
pub mod prelude {
    pub use crate::{
        export_plugin, middleware, order,
        types::{ROption, RResult, RSlice, RStr, RString, RVec},
        Branch, BranchPage, BranchQuery, BranchSearch, Components, Decision, GitService, GitServiceDecorator,
        GitServiceHandle, GitUser, Header, HeaderChange, HeaderView, Host, HttpRequest, Identity, IdentityView,
        Installation, InstallationPage, InstallationRepositoryQuery, LogLevel, Middleware, MiddlewareAction,
        MiddlewareHooks, Page, PageRequest, PluginError, Repository, RepositoryPage, RepositoryQuery, Request,
        RequestView, Response, ResponseView, RouteSpec, Router, SearchQuery, ServerConfig, ServerConfigHandle, Slot,
        SuggestedTask, UserAuth, UserAuthHandle,
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn exported_symbol_names_match_what_loaders_look_up() {
        assert_eq!(
            crate::__root_module_symbol!(),
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
        assert_eq!(crate::__sdk_version!(), crate::export::API_VERSION);
    }
}
