//! The HTTP server: hyper on a tokio listener, one task per connection, each request handed to
//! [`App::handle`](crate::app::App) ([`pipeline`]): the middleware chain, the route, the response hooks.
//!
//! Dynamic routing is the point of a plugin host, so the transport only accepts, parses and writes; the route
//! table is the registry's. hyper is used directly (not through a filter framework) so that a request's method,
//! path, query and headers are read where hyper parsed them, without copies.

mod body;
mod http;
mod pipeline;

use std::{convert::Infallible, future::Future, sync::Arc};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};

pub use self::{body::MAX_BODY_BYTES, http::header_views};
use crate::app::App;

/// Serves until `shutdown` completes, then stops accepting and lets every connection finish the request it is
/// serving (idle keep-alive connections close at once).
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()> + Send) {
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a connection reset before accept: not the server's end.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = Arc::clone(&app);
        let service = service_fn(move |request| {
            let app = Arc::clone(&app);
            async move { Ok::<_, Infallible>(app.answer(request, Some(peer)).await) }
        });
        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended with an error: {e}");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
}
