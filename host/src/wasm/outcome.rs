//! What a guest's `handle_request` decided, as the middleware chain takes it, and the instance it lends until
//! `handle_response`.

use openhost_plugin_api::{Header, RequestEdit, Response};

/// An instance between `handle_request` and `handle_response`, with the context the guest returned.
#[cfg(feature = "wasm")]
pub struct Held {
    pub(super) warm: super::pool::Warm,
    pub(super) context: i32,
}

/// Without the sandbox no instance is ever held.
#[cfg(not(feature = "wasm"))]
pub enum Held {}

/// What `handle_request` decided.
pub enum RequestOutcome {
    /// `next = 1`: the request goes on with `edits`; the response headers the guest set go on the answer, and
    /// the body it wrote comes before the answer's own; `held` (when the guest exports `handle_response`) comes
    /// back to `WasmPlugin::handle_response`.
    Next {
        edits: Vec<RequestEdit>,
        response_headers: Vec<Header>,
        response_body: Vec<u8>,
        held: Option<Held>,
    },
    /// `next = 0`: the guest's answer.
    Respond(Response),
}
