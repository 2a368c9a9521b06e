//! The openhost plugin interface.
//!
//! Two layers live here. The *wire* layer ([`abi`], [`host`]) is what crosses the boundary between the host and a
//! plugin library: abi_stable types whose layout is checked when a library is loaded. The *SDK* layer ([`sdk`],
//! [`export_plugin!`]) is what a plugin author writes against: plain Rust traits and one macro; the SDK wraps every
//! call in a panic guard and forwards the plugin's `tracing` output to the host.
//!
//! A plugin is a `cdylib` crate that depends on this crate only:
//!
//! ```ignore
//! use openhost_plugin_api::prelude::*;
//!
//! struct Stamp;
//!
//! impl Middleware for Stamp {
//!     async fn on_request(&self, _request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
//!         Ok(MiddlewareAction::Continue {
//!             add_response_headers: vec![Header::new("x-stamp", "1")].into(),
//!             identity: None.into(),
//!         })
//!     }
//! }
//!
//! fn init(_host: Host, _config: serde_json::Value) -> Result<Components, PluginError> {
//!     Ok(Components::new().middleware(Stamp))
//! }
//!
//! export_plugin! { name: "stamp", description: "Stamps responses", provides: [Middleware], init: init }
//! ```

pub mod abi;
mod error;
pub mod export;
pub mod guard;
pub mod host;
mod logging;
pub mod sdk;

pub use abi::*;
pub use error::PluginError;
pub use host::{Host, HostServices, HostServicesRef, HttpRequest, KvEntry, LogLevel};
pub use sdk::{
    Components, GitService, GitServiceHandle, Middleware, Routes, ServerConfig, ServerConfigHandle, UserAuth,
    UserAuthHandle,
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
        export_plugin,
        types::{ROption, RResult, RSlice, RStr, RString, RVec},
        Components, GitOperation, GitRequest, GitService, GitServiceHandle, Header, HeaderChange, HeaderView, Host,
        HttpRequest, Identity, IdentityView, LogLevel, Middleware, MiddlewareAction, PluginError, RequestView,
        Response, ResponseView, RouteSpec, Routes, ServerConfig, ServerConfigHandle, Slot, UserAuth, UserAuthHandle,
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
        assert_eq!(crate::DECLARATION_SYMBOL, "openhost_plugin_declaration");
    }
}
