//! The HTTP server: a warp filter that hands every request to [`App::handle`], which runs the middleware chain,
//! the route, and the chain's response hooks.
//!
//! Dynamic routing is the point of a plugin host, so warp's job here is transport and extraction; the route table
//! is the registry's. Requests are shown to middleware as a borrowed [`RequestView`]: the only per-request
//! allocations are the header view array and the peer address text. The body is read only after the chain has
//! let the request through, and only up to [`MAX_BODY_BYTES`] (413 beyond), so that a rejected or oversized
//! request costs no memory and still gets the chain's headers (request id, CORS).

use std::{convert::Infallible, future::Future, net::SocketAddr, sync::Arc};

use abi_stable::std_types::{ROption, RSlice};
use bytes::Buf;
use futures_util::{Stream, StreamExt};
use openhost_plugin_api::{
    Header, HeaderChange, HeaderView, Identity, MiddlewareAction, RequestView, Response, ResponseView,
};
use warp::{
    Filter,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header::HeaderName},
    path::FullPath,
};

use crate::{
    api,
    app::App,
    registry::{Owner, RouteTarget},
};

/// Request bodies larger than this are answered with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of an oversized body is read and dropped before the 413, so that a client still sending it reads
/// the answer instead of a reset connection. Larger bodies get the 413 at once.
const MAX_DRAINED_BYTES: u64 = 16 * 1024 * 1024;

/// The warp filter serving `app`.
pub fn routes(app: Arc<App>) -> impl Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone {
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(raw_query)
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::body::stream())
        .then(
            move |method: Method, path: FullPath, query: String, headers: HeaderMap, peer: Option<SocketAddr>, body| {
                let app = Arc::clone(&app);
                async move { app.handle(&method, path.as_str(), &query, &headers, peer, body).await }
            },
        )
        .recover(|rejection: warp::Rejection| async move {
            tracing::debug!(?rejection, "request rejected before routing");
            Ok::<_, Infallible>(to_http(Response::error(
                400,
                "bad_request",
                "the request could not be read",
            )))
        })
        .unify()
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warp::serve(routes(app))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

impl App {
    /// Runs one request through the chain and the route.
    pub async fn handle<B: Buf>(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        body: impl Stream<Item = Result<B, warp::Error>>,
    ) -> warp::reply::Response {
        let received = std::time::Instant::now();
        let header_views = header_views(headers);
        let peer_text = peer.map(|addr| addr.to_string()).unwrap_or_default();
        let route = self.registry.route(method.as_str(), path);
        let public = route.as_ref().is_ok_and(|route| route.public);
        let base = RequestView {
            method: method.as_str().into(),
            path: path.into(),
            query: query.into(),
            headers: RSlice::from_slice(&header_views),
            peer_addr: peer_text.as_str().into(),
            identity: ROption::RNone,
            flags: if public { RequestView::PUBLIC_ROUTE } else { 0 },
        };

        let mut identity: Option<Identity> = None;
        let mut added_headers: Vec<Header> = Vec::new();
        let mut links_run = 0;
        let mut early: Option<Response> = None;
        for link in &self.registry.middleware {
            links_run += 1;
            let view = RequestView {
                identity: identity.as_ref().map(Identity::as_view).into(),
                ..base
            };
            match self.within_deadline(link.object.on_request(view)).await {
                Ok(MiddlewareAction::Continue {
                    add_response_headers,
                    identity: established,
                }) => {
                    added_headers.extend(add_response_headers);
                    if let ROption::RSome(established) = established {
                        identity = Some(established);
                    }
                }
                Ok(MiddlewareAction::Respond(response)) => {
                    early = Some(response);
                    break;
                }
                Err(error) => {
                    early = Some(self.failure(&link.owner, error));
                    break;
                }
            }
        }

        let view = RequestView {
            identity: identity.as_ref().map(Identity::as_view).into(),
            ..base
        };
        let mut resolved = None;
        let mut response = match early {
            Some(response) => response,
            None => match route {
                Ok(route) => self.route(&route.target, view, headers, body, &mut resolved).await,
                Err(allowed) if allowed.is_empty() => {
                    Response::error(404, "not_found", &format!("no route for {path}"))
                }
                Err(allowed) => {
                    let allowed = allowed.join(", ");
                    Response::error(405, "method_not_allowed", &format!("{path} allows {allowed}"))
                        .with_header("allow", &allowed)
                }
            },
        };
        response.headers.extend(added_headers);
        if identity.is_none() {
            identity = resolved;
        }
        let view = RequestView {
            identity: identity.as_ref().map(Identity::as_view).into(),
            ..base
        };
        self.run_response_hooks(view, &mut response, links_run, received.elapsed())
            .await;
        to_http(response)
    }

    async fn route<B: Buf>(
        &self,
        target: &RouteTarget,
        request: RequestView<'_>,
        headers: &HeaderMap,
        body: impl Stream<Item = Result<B, warp::Error>>,
        who: &mut Option<Identity>,
    ) -> Response {
        let declared_length = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(length) = declared_length.filter(|length| *length > MAX_BODY_BYTES as u64) {
            if length <= MAX_DRAINED_BYTES {
                drain(body).await;
            }
            return body_too_large();
        }
        let wants_body = match target {
            RouteTarget::Host(route) => route.takes_body(),
            RouteTarget::Plugin { .. } => true,
        };
        let body = if wants_body {
            match read_body(body, MAX_BODY_BYTES).await {
                Ok(body) => body,
                Err(response) => return response,
            }
        } else {
            Vec::new()
        };
        match target {
            RouteTarget::Host(route) => match api::handle(self, *route, &request, &body, who).await {
                Ok(response) => response,
                Err(failure) => self.failure(&failure.owner, *failure.error),
            },
            RouteTarget::Plugin { owner, handler, index } => {
                match self
                    .within_deadline(handler.handle(*index, request, RSlice::from_slice(&body)))
                    .await
                {
                    Ok(response) => response,
                    Err(error) => self.failure(&Owner::Plugin(owner.clone()), error),
                }
            }
        }
    }

    /// Lets each middleware that saw the request change the response headers, innermost first.
    async fn run_response_hooks(
        &self,
        request: RequestView<'_>,
        response: &mut Response,
        links_run: usize,
        elapsed: std::time::Duration,
    ) {
        let mut changes: Vec<HeaderChange> = Vec::new();
        let mut failed = None;
        {
            let views: Vec<HeaderView<'_>> = response
                .headers
                .iter()
                .map(|h| HeaderView {
                    name: h.name.as_rstr(),
                    value: h.value.as_rstr(),
                })
                .collect();
            for link in self.registry.middleware[..links_run].iter().rev() {
                let view = ResponseView {
                    status: response.status,
                    headers: RSlice::from_slice(&views),
                    elapsed_micros: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                };
                match self.within_deadline(link.object.on_response(request, view)).await {
                    Ok(more) => changes.extend(more),
                    Err(error) => {
                        failed = Some((link.owner.clone(), error));
                        break;
                    }
                }
            }
        }
        if let Some((owner, error)) = failed {
            *response = self.failure(&owner, error);
            return;
        }
        for change in changes {
            apply_header_change(&mut response.headers, change);
        }
    }
}

/// The borrowed header array middleware sees: every header whose value is visible ASCII (others are left out,
/// as `RequestView` promises), lower-case names, no copies.
pub fn header_views(headers: &HeaderMap) -> Vec<HeaderView<'_>> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some(HeaderView {
                name: name.as_str().into(),
                value: value.to_str().ok()?.into(),
            })
        })
        .collect()
}

fn body_too_large() -> Response {
    Response::error(
        413,
        "payload_too_large",
        &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
    )
}

/// Reads and drops what is left of a refused body, up to [`MAX_DRAINED_BYTES`].
async fn drain<B: Buf>(body: impl Stream<Item = Result<B, warp::Error>>) {
    let mut body = std::pin::pin!(body);
    let mut drained = 0u64;
    while let Some(Ok(chunk)) = body.next().await {
        drained += chunk.remaining() as u64;
        if drained > MAX_DRAINED_BYTES {
            break;
        }
    }
}

/// Reads a body, refusing it as soon as it grows past `limit` (a chunked body declares no length).
async fn read_body<B: Buf>(
    body: impl Stream<Item = Result<B, warp::Error>>,
    limit: usize,
) -> Result<Vec<u8>, Response> {
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| Response::error(400, "bad_request", "the request body could not be read"))?;
        if bytes.len() + chunk.remaining() > limit {
            drain(body).await;
            return Err(body_too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            bytes.extend_from_slice(part);
            let read = part.len();
            chunk.advance(read);
        }
    }
    Ok(bytes)
}

pub fn apply_header_change(headers: &mut abi_stable::std_types::RVec<Header>, change: HeaderChange) {
    match change {
        HeaderChange::Set(header) => {
            headers.retain(|h| !h.name.as_str().eq_ignore_ascii_case(header.name.as_str()));
            headers.push(header);
        }
        HeaderChange::Append(header) => headers.push(header),
        HeaderChange::Remove(name) => headers.retain(|h| !h.name.as_str().eq_ignore_ascii_case(name.as_str())),
    }
}

/// Converts a response into warp's. A header a plugin made that HTTP cannot carry is dropped with a warning.
pub fn to_http(response: Response) -> warp::reply::Response {
    let mut out = warp::reply::Response::new(response.body.into_vec().into());
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for header in response.headers {
        match (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_str(header.value.as_str()),
        ) {
            (Ok(name), Ok(value)) => {
                out.headers_mut().append(name, value);
            }
            _ => tracing::warn!(header = %header.name, "dropping a response header that is not valid HTTP"),
        }
    }
    out
}
