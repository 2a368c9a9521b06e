//! A host built without the sandbox (no cargo feature `wasm`): the types the middleware chain names exist, but no
//! value of them can, so the chain never holds a sandboxed link and a `*.wasm` plugin is refused at load.

use openhost_plugin_api::Response;

use super::{CodeCache, CodeSource, GuestRequest, Held, RequestOutcome, WasmError, WasmLimits};
use crate::call::CallError;

/// No sandboxed plugin can be made without the runtime.
pub enum WasmPlugin {}

impl WasmPlugin {
    pub fn load(
        _name: &str,
        _bytes: &[u8],
        _sha256: &str,
        _limits: WasmLimits,
        _config: Vec<u8>,
        _cache: &CodeCache,
    ) -> Result<(WasmPlugin, CodeSource), WasmError> {
        Err(WasmError::NotBuiltIn)
    }

    pub fn limits(&self) -> WasmLimits {
        match *self {}
    }

    pub fn has_response_hook(&self) -> bool {
        match *self {}
    }

    pub async fn handle_request(&self, _fill: impl FnOnce(&mut GuestRequest)) -> Result<RequestOutcome, CallError> {
        match *self {}
    }

    pub async fn handle_response(
        &self,
        held: Held,
        _response: &mut Response,
        _is_error: bool,
    ) -> Result<(), CallError> {
        match held {}
    }
}
