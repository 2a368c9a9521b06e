//! Sandboxed plugins: http-wasm middleware (docs/architecture.md, "Sandboxed plugins"). A `*.wasm` module in
//! `plugin_dir` runs in a wasmtime sandbox: it reaches the request only through the http-wasm handler ABI
//! ([`http_handler`]) and the world only through a few WASI functions ([`wasi`]); a trap costs one request a 500
//! and the instance, a guest past its deadline one 504, and its memory is capped ([`limits`]).
//!
//! A module is compiled and checked ([`checks`]) at load, and one instance is made then, so that a guest whose
//! start traps is refused before it serves. Requests take an idle instance from the plugin's [`pool`] (or make
//! one), run `handle_request` on a fresh [`exchange`], and the instance comes back after `handle_response`.

// Always built: what discovery, `plugins list` and the middleware chain name.
mod cache;
mod error;
mod limits;
mod message;
mod outcome;

pub use cache::{CACHE_DIR, CodeCache, CodeSource};
pub use error::WasmError;
pub use limits::{DEFAULT_ORDER, WasmLimits};
pub use message::{GuestRequest, RequestParts};
pub use outcome::{Held, RequestOutcome};

// The runtime: only in a host built with the `wasm` feature (the default).
#[cfg(feature = "wasm")]
mod checks;
#[cfg(feature = "wasm")]
mod engine;
#[cfg(feature = "wasm")]
mod exchange;
#[cfg(feature = "wasm")]
mod http_handler;
#[cfg(feature = "wasm")]
mod memory;
#[cfg(feature = "wasm")]
mod plugin;
#[cfg(feature = "wasm")]
mod pool;
#[cfg(feature = "wasm")]
mod wasi;

#[cfg(feature = "wasm")]
pub use plugin::WasmPlugin;

// Without it: types with no values.
#[cfg(not(feature = "wasm"))]
mod absent;
#[cfg(not(feature = "wasm"))]
pub use absent::WasmPlugin;
