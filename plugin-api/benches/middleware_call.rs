//! One middleware call through the ABI (sabi_trait vtable, `extern "C"` entry, panic guard on construction and on
//! every poll, `FfiFuture`) against the same logic as a native `dyn` trait with a boxed future, both on a request
//! view with 10 headers. A third case prices what the borrowed view avoids: owned ABI copies of all 10 headers.
//!
//! Run: `cargo bench -p openhost-plugin-api --bench middleware_call`. Numbers go to docs/benchmarks.md.

use std::{future::Future, hint::black_box, pin::Pin};

use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use openhost_plugin_api::{
    sdk, types::RSlice, Header, HeaderView, Middleware, MiddlewareAction, PluginError, RequestView, Response,
};

const HEADERS: [(&str, &str); 10] = [
    ("host", "localhost:3000"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
    ("accept", "application/json"),
    ("accept-language", "en-US,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br"),
    ("connection", "keep-alive"),
    ("cookie", "openhost_session=eyJzaWQiOiJhYmMifQ.c2lnbmF0dXJl; theme=dark"),
    ("x-request-id", "4f7c2a0e-1b7d-4f4e-9a51-0c1f9d0e8b11"),
    ("sec-fetch-mode", "cors"),
    ("origin", "http://localhost:3001"),
];

/// The logic both variants run: read a cookie and a header, decide.
fn decide(path: &str, cookie: Option<&str>, origin: Option<&str>) -> Result<MiddlewareAction, PluginError> {
    if path == "/blocked" {
        return Ok(MiddlewareAction::Respond(Response::error(403, "blocked", "blocked")));
    }
    black_box((cookie, origin));
    Ok(MiddlewareAction::next())
}

struct AbiSide;

impl Middleware for AbiSide {
    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        decide(
            request.path.as_str(),
            request.cookie("openhost_session"),
            request.header("origin"),
        )
    }
}

/// What a host without a stable ABI would write: a `dyn` trait returning a boxed future.
trait NativeMiddleware: Send + Sync {
    fn on_request<'a>(
        &'a self,
        request: &'a RequestView<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<MiddlewareAction, PluginError>> + Send + 'a>>;
}

struct NativeSide;

impl NativeMiddleware for NativeSide {
    fn on_request<'a>(
        &'a self,
        request: &'a RequestView<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<MiddlewareAction, PluginError>> + Send + 'a>> {
        Box::pin(async move {
            decide(
                request.path.as_str(),
                request.cookie("openhost_session"),
                request.header("origin"),
            )
        })
    }
}

fn bench(c: &mut Criterion) {
    let views: Vec<HeaderView<'_>> = HEADERS
        .iter()
        .map(|(name, value)| HeaderView {
            name: (*name).into(),
            value: (*value).into(),
        })
        .collect();
    let request = RequestView {
        method: "GET".into(),
        path: "/api/settings".into(),
        query: "".into(),
        headers: RSlice::from_slice(&views),
        peer_addr: "127.0.0.1:52110".into(),
        identity: None.into(),
        flags: 0,
    };

    let abi = sdk::middleware_object(AbiSide);
    let native: Box<dyn NativeMiddleware> = Box::new(NativeSide);

    let mut group = c.benchmark_group("middleware_call_10_headers");
    group.bench_function("abi_guarded", |b| {
        b.iter(|| {
            let action = abi.on_request(black_box(request)).now_or_never();
            black_box(action)
        })
    });
    group.bench_function("native_dyn", |b| {
        b.iter(|| {
            let request = black_box(&request);
            let action = native.on_request(request).now_or_never();
            black_box(action)
        })
    });
    group.bench_function("owned_header_copies_only", |b| {
        b.iter(|| {
            let owned: Vec<Header> = black_box(&views)
                .iter()
                .map(|h| Header::new(h.name.as_str(), h.value.as_str()))
                .collect();
            black_box(owned)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
