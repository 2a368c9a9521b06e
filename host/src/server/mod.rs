//! The HTTP server: hyper on a tokio listener, one task per connection, each request handed to
//! [`App::answer`](crate::app::App) ([`pipeline`]): the middleware chain, the route, the response hooks.
//!
//! Dynamic routing is the point of a plugin host, so the transport only accepts, parses and writes; the route
//! table is the registry's. hyper is used directly (not through a filter framework) so that a request's method,
//! path, query and headers are read where hyper parsed them, without copies.

mod accept_failures;
mod body;
mod connections;
mod context;
pub mod descriptors;
mod edits;
mod http;
mod pipeline;
pub(crate) mod side_listener;
mod steering;

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};

pub use self::{
    accept_failures::AcceptFailures,
    body::MAX_BODY_BYTES,
    connections::{ConnectionSlots, Refused},
    http::{header_views, text_headers},
    pipeline::GENERATION_HEADER,
    steering::{Accept, Steering},
};
use self::{
    connections::{Activity, Tracked},
    context::PeerText,
};
use crate::app::App;

/// How often a connection checks whether a request header has been arriving, or an answer waiting, too long.
const HEADER_CHECK_EVERY: Duration = Duration::from_millis(250);

/// How long a stopping server waits for its connections to finish what they serve.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// Serves until `shutdown` completes or `steering` says stop, then stops accepting and lets every connection
/// finish the request it is serving (idle keep-alive connections close at once). `steering` may also pause
/// accepting meanwhile (a host upgrade). Connections over the caps of `[host]` (`max_connections` fitted under
/// the open-file limit, [`descriptors`]) are closed as they arrive; each connection has the header, idle and
/// write deadlines of docs/security.md.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    steering: Steering,
) {
    let limits = app.config.limits;
    let max_connections = descriptors::fit_connections(limits.max_connections, descriptors::raise_limit());
    let slots = ConnectionSlots::new(max_connections, limits.max_connections_per_ip);
    let mut failures = AcceptFailures::new("public");
    let mut shutdown = std::pin::pin!(shutdown);
    let mut accept = steering.accept_changes();
    loop {
        let state = *accept.borrow_and_update();
        if state == Accept::Stop {
            break;
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept(), if state == Accept::Yes => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tokio::time::sleep(failures.failed(&e)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            changed = accept.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
        };
        let slot = match slots.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refused) => {
                let cap = match refused {
                    Refused::Total => "max_connections",
                    Refused::PerClient => "max_connections_per_ip",
                };
                tracing::debug!(peer = %peer.ip(), cap, "connection refused: at the cap");
                drop(stream);
                continue;
            }
        };
        let open = steering.opened();
        let activity = Activity::new();
        let app = Arc::clone(&app);
        let requests = activity.clone();
        let peer_text = PeerText::new(peer);
        let closing = steering.clone();
        let service = service_fn(move |request| {
            let app = Arc::clone(&app);
            let serving = requests.request();
            let closing = closing.clone();
            async move {
                let mut response = app.answer(request, peer_text).await;
                drop(serving);
                if closing.closing() {
                    // The server is draining: this answer ends the connection, and the client's next request
                    // goes through a new one.
                    response
                        .headers_mut()
                        .insert(::http::header::CONNECTION, ::http::HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(response)
            }
        });
        // hyper's header timer runs from the connection's start and from the end of each response until the next
        // header is complete: with `idle_timeout` it closes idle connections. The header deadline proper starts
        // at a header's first byte, below.
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.idle_timeout)
            .serve_connection(TokioIo::new(Tracked::new(stream, activity.clone())), service);
        let mut shut_downs = steering.shut_downs();
        tokio::spawn(async move {
            let _slot = slot;
            let _open = open;
            let mut connection = std::pin::pin!(connection);
            loop {
                tokio::select! {
                    ended = &mut connection => {
                        if let Err(e) = ended {
                            tracing::debug!("connection ended with an error: {e}");
                        }
                        break;
                    }
                    Ok(()) = shut_downs.changed() => connection.as_mut().graceful_shutdown(),
                    () = tokio::time::sleep(HEADER_CHECK_EVERY) => {
                        if activity.header_for() >= limits.header_timeout {
                            tracing::debug!(peer = %peer, "closing a connection whose request header is too slow");
                            break;
                        }
                        if activity.write_blocked_for() >= limits.write_timeout {
                            tracing::debug!(peer = %peer, "closing a connection that does not read its answers");
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let left = steering.drain(Duration::ZERO, STOP_LIMIT).await;
    if left > 0 {
        tracing::warn!(connections = left, "stopping with connections still open");
    }
}
