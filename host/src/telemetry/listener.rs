//! `/metrics` on `metrics_listen`: a listener of its own, so that the public listener never exposes metrics and
//! an operator can bind it to a private address. GET `/metrics` answers the Prometheus text format; anything else
//! is 404.

use std::{convert::Infallible, future::Future, sync::Arc};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::Telemetry;

/// A scraper sends its request at once; a connection that does not, or stays idle this long, is closed.
const HEADER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The content type of Prometheus's text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `/metrics` until `shutdown` completes.
pub async fn serve(telemetry: Arc<Telemetry>, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()>) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("metrics listener: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let telemetry = Arc::clone(&telemetry);
        let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
            let telemetry = Arc::clone(&telemetry);
            async move { Ok::<_, Infallible>(answer(&telemetry, request.method(), request.uri().path())) }
        });
        tokio::spawn(async move {
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
    let (status, content_type, body) = match (method, path) {
        (&http::Method::GET, "/metrics") => (200, CONTENT_TYPE, telemetry.render()),
        _ => (
            404,
            "application/json",
            r#"{"error": "only GET /metrics is served here", "code": "not_found"}"#.to_owned(),
        ),
    };
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}
