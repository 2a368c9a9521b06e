//! The guest side of the http-wasm handler ABI (http-wasm.io, "HTTP Handler ABI") for Rust, so that a middleware
//! reads like this:
//!
//! ```ignore
//! use openhost_wasm_guest::{Message, Next, Request, Response, export_middleware};
//!
//! fn stamp(_request: &mut Request, response: &mut Response) -> Next {
//!     response.set_header("x-served-by", "wasm");
//!     Next::Continue
//! }
//!
//! export_middleware!(stamp);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-unknown-unknown` (crate type `cdylib`) and drop the
//! `.wasm` into openhost's `plugin_dir` (docs/plugin-guide.md, "Sandboxed plugins"). [`Request`] and [`Response`]
//! read and change the message through the host's `http_handler` functions (headers and bodies through
//! [`Message`]); [`config`] and [`log`] reach the
//! plugin's table and the host's log. A guest that also wants the answer after the rest of the server made it exports a response
//! hook: `export_middleware!(on_request, on_response)`.
//!
//! `no_std` with `alloc`: on `wasm32` the functions call the host; elsewhere (a workspace build, a unit test of
//! the guest's own logic) they panic, since there is no host to call.

#![no_std]

extern crate alloc;

mod abi;

use alloc::{string::String, vec, vec::Vec};

/// What `handle_request` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The request goes on to the rest of the server (`next = 1`).
    Continue,
    /// The guest answered: the [`Response`] as it wrote it goes back (`next = 0`).
    Answer,
}

/// A log level of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Debug = -1,
    Info = 0,
    Warn = 1,
    Error = 2,
}

/// Reads a value with the `buf`/`buf_limit` protocol: ask for the length, then read it whole.
fn read_value(read: impl Fn(*mut u8, u32) -> u32) -> Vec<u8> {
    let len = read(core::ptr::null_mut(), 0);
    let mut buf = vec![0u8; len as usize];
    if len > 0 {
        let written = read(buf.as_mut_ptr(), len);
        buf.truncate(written.min(len) as usize);
    }
    buf
}

/// Reads a NUL-terminated list with the `buf`/`buf_limit` protocol.
fn read_list(read: impl Fn(*mut u8, u32) -> u64) -> Vec<String> {
    let len = read(core::ptr::null_mut(), 0) as u32;
    if len == 0 {
        return Vec::new();
    }
    let mut buf = vec![0u8; len as usize];
    read(buf.as_mut_ptr(), len);
    buf.split(|byte| *byte == 0)
        .filter(|item| !item.is_empty())
        .map(|item| String::from_utf8_lossy(item).into_owned())
        .collect()
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// The request as it stands; its changes go on to the rest of the server.
pub struct Request(());

/// The response: before [`Next`], the answer the guest may give; in the response hook, the server's answer.
pub struct Response(());

/// What requests and responses share: headers and a body. Import it to call these on either.
pub trait Message {
    /// The ABI's `header_kind` and `body_kind`: 0 for the request, 1 for the response.
    #[doc(hidden)]
    fn kind(&self) -> u32;

    /// The first value of a header.
    fn header(&self, name: &str) -> Option<String> {
        self.header_values(name).into_iter().next()
    }

    /// Every value of a header, in order.
    fn header_values(&self, name: &str) -> Vec<String> {
        let kind = self.kind();
        read_list(|buf, limit| abi::get_header_values(kind, name.as_ptr(), name.len() as u32, buf, limit) as u64)
    }

    /// Replaces every value of a header with `value`.
    fn set_header(&mut self, name: &str, value: &str) {
        let (name_len, value_len) = (name.len() as u32, value.len() as u32);
        abi::set_header_value(self.kind(), name.as_ptr(), name_len, value.as_ptr(), value_len)
    }

    /// Adds a value to a header (another `set-cookie`, say).
    fn add_header(&mut self, name: &str, value: &str) {
        let (name_len, value_len) = (name.len() as u32, value.len() as u32);
        abi::add_header_value(self.kind(), name.as_ptr(), name_len, value.as_ptr(), value_len)
    }

    fn remove_header(&mut self, name: &str) {
        abi::remove_header(self.kind(), name.as_ptr(), name.len() as u32)
    }

    /// The body (openhost buffers both, the request's within its 1 MiB cap).
    fn body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let eof_len = abi::read_body(self.kind(), chunk.as_mut_ptr(), chunk.len() as u32) as u64;
            let len = (eof_len & 0xffff_ffff) as usize;
            body.extend_from_slice(&chunk[..len.min(chunk.len())]);
            if eof_len >> 32 == 1 || len == 0 {
                return body;
            }
        }
    }

    /// Replaces the body.
    fn set_body(&mut self, body: &[u8]) {
        abi::write_body(self.kind(), body.as_ptr(), body.len() as u32)
    }
}

impl Message for Request {
    fn kind(&self) -> u32 {
        0
    }
}

impl Message for Response {
    fn kind(&self) -> u32 {
        1
    }
}

impl Request {
    /// `GET`, `POST`, ...
    pub fn method(&self) -> String {
        text(read_value(abi::get_method))
    }

    pub fn set_method(&mut self, method: &str) {
        abi::set_method(method.as_ptr(), method.len() as u32)
    }

    /// Path and query, encoded: `/v1/hi?name=panda`.
    pub fn uri(&self) -> String {
        text(read_value(abi::get_uri))
    }

    /// Replaces path and query; the server routes the new one.
    pub fn set_uri(&mut self, uri: &str) {
        abi::set_uri(uri.as_ptr(), uri.len() as u32)
    }

    /// The client's address, `ip:port`.
    pub fn source_addr(&self) -> String {
        text(read_value(abi::get_source_addr))
    }
}

impl Response {
    /// The status: 200 until someone sets one.
    pub fn status(&self) -> u16 {
        abi::get_status_code() as u16
    }

    pub fn set_status(&mut self, status: u16) {
        abi::set_status_code(u32::from(status))
    }
}

/// The plugin's `config` (openhost: the TOML table as JSON text; empty without one).
pub fn config() -> Vec<u8> {
    read_value(abi::get_config)
}

/// A line in the host's log, tagged with the plugin.
pub fn log(level: Level, message: &str) {
    abi::log(level as i32, message.as_ptr(), message.len() as u32)
}

/// Runs `on_request` for the `handle_request` export. Used by [`export_middleware!`].
#[doc(hidden)]
pub fn run_request(on_request: fn(&mut Request, &mut Response) -> Next) -> i64 {
    match on_request(&mut Request(()), &mut Response(())) {
        Next::Continue => 1,
        Next::Answer => 0,
    }
}

/// Runs `on_response` for the `handle_response` export. Used by [`export_middleware!`].
#[doc(hidden)]
pub fn run_response(on_response: fn(&Request, &mut Response, bool), is_error: i32) {
    on_response(&Request(()), &mut Response(()), is_error != 0)
}

/// Exports `handle_request` (and, given a second function, `handle_response`) for a middleware.
#[macro_export]
macro_rules! export_middleware {
    ($on_request:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn handle_request() -> i64 {
            $crate::run_request($on_request)
        }
    };
    ($on_request:path, $on_response:path) => {
        $crate::export_middleware!($on_request);

        #[unsafe(no_mangle)]
        pub extern "C" fn handle_response(_context: i32, is_error: i32) {
            $crate::run_response($on_response, is_error)
        }
    };
}
