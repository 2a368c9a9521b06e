//! The request and response as a guest sees them while it runs: what the http-wasm `http_handler` functions read
//! and change. Plain data, built without the runtime.

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
    /// What the guest changed (the body says itself whether it was written).
    pub changed: Changed,
}

/// What a guest changed of the request: only that goes back to the chain, as request edits.
#[derive(Debug, Default, Clone)]
pub struct Changed {
    pub method: bool,
    pub uri: bool,
    /// The names (lower case) of the headers it set, added to or removed.
    pub headers: Vec<String>,
}

/// The response as the guest sees it: before `next`, the one it may answer with; in `handle_response`, the one
/// the rest of the server made.
#[derive(Debug, Clone)]
// Made by the runtime only.
#[cfg_attr(not(feature = "wasm"), allow(dead_code))]
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
