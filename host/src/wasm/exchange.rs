//! What a guest sees of one request while it runs (the http-wasm `http_handler` functions read and change it):
//! the request as it stands, the response being made, the features turned on, and how far the guest has read
//! each body. One [`Exchange`] is the data of an instance's store; it is reset for each request.

use std::sync::Arc;

use wasmtime::{Memory, StoreLimits};

/// `feature_buffer_request`: the request body is buffered (openhost always does, within its 1 MiB cap).
pub const FEATURE_BUFFER_REQUEST: u32 = 1;
/// `feature_buffer_response`: the response is buffered (openhost's answers always are).
pub const FEATURE_BUFFER_RESPONSE: u32 = 2;
/// Every feature this host supports: not `feature_trailers` (4): openhost reports no trailers.
pub const SUPPORTED_FEATURES: u32 = FEATURE_BUFFER_REQUEST | FEATURE_BUFFER_RESPONSE;

/// The headers of a message, names in lower case, in order.
pub type Headers = Vec<(String, String)>;

/// A body the guest reads from the start and may replace.
#[derive(Debug, Default, Clone)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// How much `read_body` has handed out.
    pub read: usize,
    /// `write_body` was called: the first write replaced the body.
    pub written: bool,
}

impl Body {
    pub fn new(bytes: Vec<u8>) -> Body {
        Body {
            bytes,
            read: 0,
            written: false,
        }
    }

    /// `write_body`: the first call replaces the body, later ones append.
    pub fn write(&mut self, bytes: &[u8]) {
        if !self.written {
            self.bytes.clear();
            self.written = true;
        }
        self.bytes.extend_from_slice(bytes);
    }
}

/// The request as the guest sees it.
#[derive(Debug, Default, Clone)]
pub struct GuestRequest {
    pub method: String,
    /// Path and query, as received (encoded).
    pub uri: String,
    pub version: &'static str,
    pub headers: Headers,
    pub body: Body,
    /// `ip:port` of the client, `[ip]:port` for IPv6; empty when unknown.
    pub source: String,
}

/// The response as the guest sees it: before `next`, the one it may answer with; in `handle_response`, the one
/// the rest of the server made.
#[derive(Debug, Clone)]
pub struct GuestResponse {
    pub status: u16,
    pub headers: Headers,
    pub body: Body,
}

impl Default for GuestResponse {
    /// An answer the guest has not written to: an empty 200.
    fn default() -> GuestResponse {
        GuestResponse {
            status: 200,
            headers: Vec::new(),
            body: Body::default(),
        }
    }
}

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
            request: GuestRequest::default(),
            response: GuestResponse::default(),
        }
    }

    /// The headers of `kind` (0 request, 1 response; 2 and 3, the trailers, are always empty here).
    pub fn headers(&self, kind: u32) -> Option<&Headers> {
        match kind {
            0 => Some(&self.request.headers),
            1 => Some(&self.response.headers),
            _ => None,
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
