//! One link of the middleware chain: a built-in, a plugin's middleware or a sandboxed plugin, its position, and
//! which of its hooks the pipeline calls.

use std::sync::Arc;

use openhost_plugin_api::{MiddlewareObject, Slot};

use crate::{registry::Owner, telemetry::CallSite, wasm::WasmPlugin};

/// What runs at a link.
pub enum LinkObject {
    /// A middleware through the plugin interface: a built-in or a native plugin's.
    Native(MiddlewareObject),
    /// An http-wasm guest (crate::wasm).
    Sandboxed(Arc<WasmPlugin>),
}

/// One link of the middleware chain.
pub struct ChainLink {
    pub name: String,
    pub owner: Owner,
    pub order: i32,
    pub object: LinkObject,
    /// Which hooks to call: those the middleware declares (interface 1.6; both for a plugin built before), so
    /// the chain makes no empty calls on every request.
    pub hooks: Hooks,
    pub calls: CallSite,
}

impl ChainLink {
    /// Who a call of this link is counted under, and where: for `App::within_deadline`.
    pub fn site(&self) -> (&str, Slot, &CallSite) {
        (self.owner.name(), Slot::Middleware, &self.calls)
    }
}

/// The hooks of a middleware the chain calls, and whether it reads request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hooks {
    pub on_request: bool,
    pub on_response: bool,
    /// The middleware reads the body (interface 1.5): the pipeline reads it before calling the link.
    pub body: bool,
}

impl Hooks {
    /// What a middleware through the interface declares.
    pub fn declared_by(object: &MiddlewareObject) -> Hooks {
        let declared = object.hooks();
        Hooks {
            on_request: declared.request,
            on_response: declared.response,
            body: object.reads_body(),
        }
    }
}
