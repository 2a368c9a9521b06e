//! `wasm-header-stamp`: the header the native `header-stamp` example adds, from a sandboxed http-wasm guest. It
//! is what a Rust author writes with `openhost-wasm-guest`, and the guest the sandbox benchmark measures
//! (docs/benchmarks.md).

use openhost_wasm_guest::{Message, Next, Request, Response, export_middleware};

fn stamp(_request: &mut Request, response: &mut Response) -> Next {
    response.set_header("x-openhost-stamp", "wasm-header-stamp");
    Next::Continue
}

export_middleware!(stamp);
