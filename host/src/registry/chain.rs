//! One link of the middleware chain: a built-in, a plugin's middleware or a sandboxed plugin, its position, and
//! which of its hooks the pipeline calls.

use std::sync::Arc;

use openhost_plugin_api::{MiddlewareObject, Slot, sdk};

use crate::{
    middleware::run::{BuiltinRun, RequestBuiltin},
    registry::Owner,
    telemetry::CallSite,
    wasm::WasmPlugin,
};

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
    /// The built-ins this link runs when it is a run of them (crate::middleware::run), by name and order, each
    /// listed in `/api/plugins`; empty for any other link.
    pub members: Vec<(&'static str, i32)>,
}

/// What the chain is made of before the native plugins' middleware joins it.
pub struct ChainParts {
    /// The host's request built-ins: a run of them with no other link between becomes one link.
    pub requests: Vec<RequestBuiltin>,
    /// Every other link made before resolution: the host's response built-ins, the sandboxed plugins.
    pub links: Vec<ChainLink>,
}

impl ChainLink {
    /// A link of the host's own: its calls are timed for the slow-call warning, not counted.
    pub fn host(name: &str, object: MiddlewareObject, members: Vec<(&'static str, i32)>) -> ChainLink {
        ChainLink {
            calls: CallSite::uncounted(),
            name: name.to_owned(),
            owner: Owner::Host,
            order: object.order(),
            hooks: Hooks::declared_by(&object),
            object: LinkObject::Native(object),
            members,
        }
    }

    /// One link running `run` (request built-ins next to each other in the chain, in chain order, at least
    /// one), named after the first of them and listed as each of them.
    pub fn run(run: Vec<RequestBuiltin>) -> ChainLink {
        let members: Vec<(&'static str, i32)> = run.iter().map(|m| (m.name(), m.order())).collect();
        let name = members.first().map_or("built-ins", |(name, _)| name);
        ChainLink::host(name, sdk::middleware_object(BuiltinRun(run)), members)
    }

    /// Who a call of this link is counted under, and where: for `App::within_deadline`.
    pub fn site(&self) -> (&str, Slot, &CallSite) {
        (self.owner.name(), Slot::Middleware, &self.calls)
    }

    /// The names and orders this link stands for in the chain: its members when it is a run of built-ins.
    pub fn listed(&self) -> impl Iterator<Item = (&str, i32)> {
        let own = self.members.is_empty().then_some((self.name.as_str(), self.order));
        own.into_iter()
            .chain(self.members.iter().map(|(name, order)| (*name, *order)))
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
