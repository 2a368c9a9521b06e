//! The wire layer: everything that crosses the boundary between the host and a plugin library.
//!
//! Every type is `#[repr(C)]`/`#[repr(u8)]` and derives `StableAbi`, so abi_stable's layout check catches a
//! plugin built against another shape; every future is an `async_ffi` future. What may grow is extensible in the
//! ways docs/plugin-interface.md lists: sabi-trait methods appended after the last prefix method, fields appended
//! to prefix types, new bits in `flags` words, new keys in the manifest.

pub mod git;
pub mod http;
pub mod identity;
pub mod module;
pub mod slots;
