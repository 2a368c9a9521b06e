//! `/metrics` on `metrics_listen`: a listener of its own, so that the public listener never exposes metrics and
//! an operator can bind it to a private address. GET `/metrics` answers the Prometheus text format; anything else
//! is 404. Scrapers are few, so connections are capped low ([`MAX_CONNECTIONS`], [`MAX_CONNECTIONS_PER_CLIENT`]),
//! and on a loopback address only loopback `Host` names (and `allowed_hosts`) are answered, as on the public
//! listener: a page that rebinds its DNS name to 127.0.0.1 gets 421, not the metrics.

use std::{convert::Infallible, future::Future, sync::Arc};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::Telemetry;
use crate::{
    origins::Origins,
    server::{AcceptFailures, ConnectionSlots},
};

/// Connections the metrics listener holds at most (they count in `server::descriptors::RESERVED`).
pub const MAX_CONNECTIONS: usize = 32;
/// Connections one client address (IPv6: /64) may hold on the metrics listener.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 8;

/// A scraper sends its request at once; a connection that does not, or stays idle this long, is closed.
const HEADER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The content type of Prometheus's text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `/metrics` until `shutdown` completes. `origins` decides which `Host` names are answered.
pub async fn serve(
    telemetry: Arc<Telemetry>,
    listener: tokio::net::TcpListener,
    origins: Origins,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let slots = ConnectionSlots::new(MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT);
    let origins = Arc::new(origins);
    let mut failures = AcceptFailures::new("metrics");
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tokio::time::sleep(failures.failed(&e)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let Ok(slot) = slots.admit(peer.ip()) else {
            tracing::debug!(peer = %peer.ip(), "metrics connection refused: at the cap");
            continue;
        };
        let telemetry = Arc::clone(&telemetry);
        let origins = Arc::clone(&origins);
        let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
            let telemetry = Arc::clone(&telemetry);
            let host = request.headers().get(http::header::HOST).and_then(|v| v.to_str().ok());
            let response = if origins.allows_host(host) {
                answer(&telemetry, request.method(), request.uri().path())
            } else {
                unknown_host()
            };
            async move { Ok::<_, Infallible>(response) }
        });
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("metrics connection ended with an error: {e}");
            }
        });
    }
}

fn answer(telemetry: &Telemetry, method: &http::Method, path: &str) -> http::Response<Full<Bytes>> {
    match (method, path) {
        (&http::Method::GET, "/metrics") => response(200, CONTENT_TYPE, telemetry.render()),
        _ => response(
            404,
            "application/json",
            r#"{"error": "only GET /metrics is served here", "code": "not_found"}"#.to_owned(),
        ),
    }
}

fn unknown_host() -> http::Response<Full<Bytes>> {
    response(
        421,
        "application/json",
        r#"{"error": "this server does not answer to that host name (see host.allowed_hosts)", "code": "unknown_host"}"#
            .to_owned(),
    )
}

fn response(status: u16, content_type: &str, body: String) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}
