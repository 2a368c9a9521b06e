//! The data of an instance's store: the plugin's name and config, the memory limit, and the request and response
//! of the call under way ([`super::message`]), reset for each request.

use std::sync::Arc;

use wasmtime::{Memory, StoreLimits};

use openhost_plugin_api::Header;

use super::message::{Body, GuestRequest, GuestResponse, Headers};

/// `feature_buffer_request`: the request body is buffered (openhost always does, within its 1 MiB cap).
pub const FEATURE_BUFFER_REQUEST: u32 = 1;
/// `feature_buffer_response`: the response is buffered (openhost's answers always are).
pub const FEATURE_BUFFER_RESPONSE: u32 = 2;
/// Every feature this host supports: not `feature_trailers` (4): openhost reports no trailers.
pub const SUPPORTED_FEATURES: u32 = FEATURE_BUFFER_REQUEST | FEATURE_BUFFER_RESPONSE;

/// The store data of one instance.
pub struct Exchange {
    /// The plugin, for logs.
    pub plugin: Arc<str>,
    /// Handed to `get_config`.
    pub config: Arc<[u8]>,
    /// The instance's exported memory, once looked up.
    pub memory: Option<Memory>,
    /// The memory limit.
    pub limits: StoreLimits,
    /// The features the guest enabled (`enable_features`).
    pub features: u32,
    pub request: GuestRequest,
    pub response: GuestResponse,
}

impl Exchange {
    pub fn new(plugin: Arc<str>, config: Arc<[u8]>, limits: StoreLimits) -> Exchange {
        Exchange {
            plugin,
            config,
            memory: None,
            limits,
            features: 0,
            request: GuestRequest::default(),
            response: GuestResponse::default(),
        }
    }

    /// The headers of `kind` (0 request, 1 response; 2 and 3, the trailers, are always empty here).
    pub fn headers(&self, kind: u32) -> &[Header] {
        match kind {
            0 => &self.request.headers,
            1 => &self.response.headers,
            _ => &[],
        }
    }

    pub fn headers_mut(&mut self, kind: u32) -> Option<&mut Headers> {
        match kind {
            0 => Some(&mut self.request.headers),
            1 => Some(&mut self.response.headers),
            _ => None,
        }
    }

    pub fn body_mut(&mut self, kind: u32) -> Option<&mut Body> {
        match kind {
            0 => Some(&mut self.request.body),
            1 => Some(&mut self.response.body),
            _ => None,
        }
    }
}
