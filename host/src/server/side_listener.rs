//! The accept loop of the host's small listeners of their own (metrics, admin API): few clients, so connections
//! are capped low, a request must arrive at once, and on a loopback address only loopback `Host` names (and
//! `allowed_hosts`) are answered, as on the public listener: a page that rebinds its DNS name to 127.0.0.1 gets
//! 421, never the answer. They accept when the public listener does: a process that handed its sockets to
//! its successor (an upgrade) leaves new connections to the successor.

use std::{convert::Infallible, future::Future, sync::Arc};

use super::steering::{Accept, Steering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::{
    origins::Origins,
    server::{AcceptFailures, ConnectionSlots},
};

/// Connections one small listener holds at most (they count in `server::descriptors::RESERVED`).
pub const MAX_CONNECTIONS: usize = 32;
/// Connections one client address (IPv6: /64) may hold on one small listener.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 8;

/// A client sends its request at once; a connection that does not, or stays idle this long, is closed.
const HEADER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `listener` with `answer`, accepting while `steering` says the server accepts, until it says stop;
/// `name` is for logs, `origins` decides which `Host` names are answered.
pub async fn serve<A, F>(
    name: &'static str,
    listener: tokio::net::TcpListener,
    origins: Origins,
    steering: Steering,
    answer: A,
) where
    A: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = http::Response<Full<Bytes>>> + Send + 'static,
{
    let mut accept = steering.accept_changes();
    let slots = ConnectionSlots::new(MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT);
    let origins = Arc::new(origins);
    let mut failures = AcceptFailures::new(name);
    loop {
        let state = *accept.borrow_and_update();
        match state {
            Accept::Stop => return,
            Accept::Paused => {
                if accept.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Accept::Yes => {}
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tokio::time::sleep(failures.failed(&e)).await;
                    continue;
                }
            },
            changed = accept.changed() => match changed {
                Ok(()) => continue,
                Err(_) => return,
            },
        };
        let Ok(slot) = slots.admit(peer.ip()) else {
            tracing::debug!(peer = %peer.ip(), listener = name, "connection refused: at the cap");
            continue;
        };
        let origins = Arc::clone(&origins);
        let answer = answer.clone();
        let service = service_fn(move |request: http::Request<Incoming>| {
            let host = request.headers().get(http::header::HOST).and_then(|v| v.to_str().ok());
            let known = origins.allows_host(host);
            let answered = known.then(|| answer(request));
            async move {
                Ok::<_, Infallible>(match answered {
                    Some(answered) => answered.await,
                    None => unknown_host(),
                })
            }
        });
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(listener = name, "connection ended with an error: {e}");
            }
        });
    }
}

fn unknown_host() -> http::Response<Full<Bytes>> {
    response(
        421,
        "application/json",
        r#"{"error": "this server does not answer to that host name (see host.allowed_hosts)", "code": "unknown_host"}"#
            .into(),
    )
}

/// A response of `status` with `body` of `content_type`.
pub fn response(status: u16, content_type: &str, body: Bytes) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(body));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}
