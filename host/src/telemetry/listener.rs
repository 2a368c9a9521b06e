//! `/metrics` on `metrics_listen`: a listener of its own (crate::server::side_listener), so that the public
//! listener never exposes metrics and an operator can bind it to a private address. GET `/metrics` answers the
//! Prometheus text format; anything else is 404.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;

use super::Telemetry;
use crate::{
    origins::Origins,
    server::{Steering, side_listener},
};

/// The content type of Prometheus's text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `/metrics` while `steering` says the server accepts. `origins` decides which `Host` names are answered.
pub async fn serve(telemetry: Arc<Telemetry>, listener: tokio::net::TcpListener, origins: Origins, steering: Steering) {
    side_listener::serve("metrics", listener, origins, steering, move |request| {
        let response = answer(&telemetry, request.method(), request.uri().path());
        std::future::ready(response)
    })
    .await;
}

fn answer(telemetry: &Telemetry, method: &http::Method, path: &str) -> http::Response<Full<Bytes>> {
    match (method, path) {
        (&http::Method::GET, "/metrics") => side_listener::response(200, CONTENT_TYPE, telemetry.render().into()),
        _ => side_listener::response(
            404,
            "application/json",
            r#"{"error": "only GET /metrics is served here", "code": "not_found"}"#.into(),
        ),
    }
}
