//! The request and response as a guest sees them while it runs: what the http-wasm `http_handler` functions read
//! and change. Plain data, built without the runtime.
//!
//! An instance keeps its request and response from call to call and refills them in place: a request costs the
//! guest copies of its text, not allocations (docs/benchmarks.md, "A sandboxed (http-wasm) guest").

use abi_stable::std_types::RString;
use openhost_plugin_api::Header;

/// The headers of a message, names in lower case, in order: the interface's own headers, so that those a guest
/// sets go on the answer as they are.
pub type Headers = Vec<Header>;

/// A body kept by an idle instance up to this size; a larger one is let go, so an idle instance holds no
/// request's memory for long.
const KEPT_BODY: usize = 64 << 10;

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

    /// Holds `bytes`, unread and unwritten, in the space it has.
    pub fn refill(&mut self, bytes: &[u8]) {
        self.clear();
        self.bytes.extend_from_slice(bytes);
    }

    /// Empty, keeping a small buffer for the next message.
    pub fn clear(&mut self) {
        self.bytes.clear();
        if self.bytes.capacity() > KEPT_BODY {
            self.bytes = Vec::new();
        }
        self.read = 0;
        self.written = false;
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

/// What a request is made of, borrowed from the server's own, for [`GuestRequest::refill`].
pub struct RequestParts<'r, H> {
    pub method: &'r str,
    pub uri: &'r str,
    pub version: &'static str,
    /// Names in lower case.
    pub headers: H,
    pub body: &'r [u8],
    pub source: &'r str,
}

impl GuestRequest {
    /// Holds the request `parts`, nothing changed yet, reusing the space of the last request's text.
    pub fn refill<'r>(&mut self, parts: RequestParts<'r, impl Iterator<Item = (&'r str, &'r str)>>) {
        replace(&mut self.method, parts.method);
        replace(&mut self.uri, parts.uri);
        self.version = parts.version;
        let mut count = 0;
        for (name, value) in parts.headers {
            match self.headers.get_mut(count) {
                Some(header) => {
                    replace_r(&mut header.name, name);
                    replace_r(&mut header.value, value);
                }
                None => self.headers.push(Header::new(name, value)),
            }
            count += 1;
        }
        self.headers.truncate(count);
        self.body.refill(parts.body);
        replace(&mut self.source, parts.source);
        self.changed.clear();
    }

    /// Forgets the request, keeping the space of its text.
    pub fn clear(&mut self) {
        self.method.clear();
        self.uri.clear();
        self.headers.clear();
        self.body.clear();
        self.source.clear();
        self.changed.clear();
    }
}

/// `text` into `into`, in the space it has.
fn replace(into: &mut String, text: &str) {
    into.clear();
    into.push_str(text);
}

/// `text` into `into`, in the space it has.
fn replace_r(into: &mut RString, text: &str) {
    into.clear();
    into.push_str(text);
}

/// What a guest changed of the request: only that goes back to the chain, as request edits.
#[derive(Debug, Default, Clone)]
pub struct Changed {
    pub method: bool,
    pub uri: bool,
    /// The names (lower case) of the headers it set, added to or removed.
    pub headers: Vec<String>,
}

impl Changed {
    fn clear(&mut self) {
        self.method = false;
        self.uri = false;
        self.headers.clear();
    }
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

#[cfg_attr(not(feature = "wasm"), allow(dead_code))]
impl GuestResponse {
    /// An answer the guest has not written to, an empty 200, keeping the space of the last one's body.
    pub fn clear(&mut self) {
        self.status = 200;
        self.headers.clear();
        self.body.clear();
    }
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
