//! One request through the host: the middleware chain on a borrowed [`RequestView`], the route (the host's or a
//! plugin's handler), then each middleware's response hook, innermost first.
//!
//! The route is looked up first, so that a request for a route that needs no sign-in carries
//! `RequestView::PUBLIC_ROUTE`. The only per-request allocation for the view is its header array (the peer
//! address is formatted on the stack). The body is read only after the chain has let the request through
//! ([`super::body`]), so that a rejected or oversized request costs no memory and still gets the chain's headers
//! (request id, CORS).

use std::net::SocketAddr;

use abi_stable::std_types::{ROption, RSlice};
use bytes::Bytes;
use http::{HeaderMap, Method};
use http_body::Body;
use http_body_util::Full;
use openhost_plugin_api::{
    Header, HeaderChange, HeaderView, Identity, MiddlewareAction, RequestView, Response, ResponseView, Slot,
};

use crate::{
    api,
    app::{App, Serving},
    middleware::cross_site::{Crossing, crossing, refusal as cross_site_refusal},
    registry::{Owner, RouteTarget},
    server::{
        body::{MAX_BODY_BYTES, MAX_DRAINED_BYTES, body_too_large, body_too_slow, drain, read_body},
        http::{format_into, header_views, to_http},
    },
};

impl App {
    /// Answers one HTTP request.
    pub async fn answer<B: Body + Unpin>(
        &self,
        request: http::Request<B>,
        peer: Option<SocketAddr>,
    ) -> http::Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let query = parts.uri.query().unwrap_or("");
        self.handle(&parts.method, parts.uri.path(), query, &parts.headers, peer, body)
            .await
    }

    /// Runs one request through the chain and the route, all on the registry generation serving when it
    /// arrived; the response names that generation (`openhost-generation`).
    pub async fn handle<B: Body + Unpin>(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        body: B,
    ) -> http::Response<Full<Bytes>> {
        let received = std::time::Instant::now();
        let serving = self.serving();
        let registry = &*serving.registry;
        let header_views = header_views(headers);
        // Formatted on the stack: an address is at most 47 bytes (`[v6%scope]:port`).
        let mut peer_buffer = [0u8; 64];
        let peer_text = peer.map_or("", |addr| format_into(&mut peer_buffer, addr));
        let route = registry.route(method.as_str(), path);
        let flags = route.as_ref().map_or(0, |route| {
            let public = if route.public { RequestView::PUBLIC_ROUTE } else { 0 };
            let cross_site = if route.cross_site {
                RequestView::CROSS_SITE_ROUTE
            } else {
                0
            };
            public | cross_site
        });
        let base = RequestView {
            method: method.as_str().into(),
            path: path.into(),
            query: query.into(),
            headers: RSlice::from_slice(&header_views),
            peer_addr: peer_text.into(),
            identity: ROption::RNone,
            flags,
        };
        // A cross-site write with a bearer passes only on what a middleware authenticates from the bearer: the
        // browser's cookies stay out of this request, and without an identity it is refused after the chain.
        let bearer_only = crossing(&registry.origins, &base) == Crossing::BearerOnly;
        let without_cookies: Vec<HeaderView<'_>>;
        let base = if bearer_only {
            without_cookies = header_views
                .iter()
                .filter(|header| !header.name.as_str().eq_ignore_ascii_case("cookie"))
                .copied()
                .collect();
            RequestView {
                headers: RSlice::from_slice(&without_cookies),
                ..base
            }
        } else {
            base
        };

        let mut identity: Option<Identity> = None;
        let mut added_headers: Vec<Header> = Vec::new();
        let mut links_run = 0;
        let mut early: Option<Response> = None;
        for link in &registry.middleware {
            links_run += 1;
            if !link.hooks.on_request {
                continue;
            }
            let view = RequestView {
                identity: identity.as_ref().map(Identity::as_view).into(),
                ..base
            };
            match self.within_deadline(link.site(), link.object.on_request(view)).await {
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

        if bearer_only && early.is_none() && identity.is_none() {
            early = Some(cross_site_refusal());
        }
        let view = RequestView {
            identity: identity.as_ref().map(Identity::as_view).into(),
            ..base
        };
        let mut resolved = None;
        let mut response = match early {
            Some(response) => response,
            None => match &route {
                Ok(route) => serving.route(&route.target, view, headers, body, &mut resolved).await,
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
        serving
            .run_response_hooks(view, &mut response, links_run, received.elapsed())
            .await;
        if self.telemetry.enabled() {
            let metrics = route.map_or(&self.telemetry.unmatched, |route| &route.metrics);
            metrics.record(method.as_str(), response.status, received.elapsed());
        }
        let mut generation = [0u8; 20];
        let generation = format_into(&mut generation, registry.generation);
        response.headers.push(Header::new(GENERATION_HEADER, generation));
        to_http(response)
    }
}

/// The response header naming the registry generation that served the request.
pub const GENERATION_HEADER: &str = "openhost-generation";

impl Serving<'_> {
    async fn route<B: Body + Unpin>(
        &self,
        target: &RouteTarget,
        request: RequestView<'_>,
        headers: &HeaderMap,
        mut body: B,
        who: &mut Option<Identity>,
    ) -> Response {
        let declared_length = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let deadline = self.config.limits.body_timeout;
        if let Some(length) = declared_length.filter(|length| *length > MAX_BODY_BYTES as u64) {
            if length <= MAX_DRAINED_BYTES {
                // Bounded like any body: a client that stops sending gets the 413 at the deadline.
                let _ = tokio::time::timeout(deadline, drain(&mut body)).await;
            }
            return body_too_large();
        }
        let wants_body = match target {
            RouteTarget::Host(route) => route.takes_body(),
            RouteTarget::Plugin { .. } => true,
        };
        // The host's body routes all take JSON; a plugin's route checks its own (`Request::json` does).
        if let RouteTarget::Host(route) = target
            && route.takes_body()
            && let Err(error) =
                openhost_plugin_api::sdk::require_json(headers.get("content-type").and_then(|v| v.to_str().ok()))
        {
            return self.failure(&Owner::Host, error.into());
        }
        let body = if wants_body {
            match tokio::time::timeout(deadline, read_body(&mut body, MAX_BODY_BYTES)).await {
                Ok(Ok(body)) => body,
                Ok(Err(response)) => return response,
                Err(_) => return body_too_slow(deadline),
            }
        } else {
            Vec::new()
        };
        match target {
            RouteTarget::Host(route) => match api::handle(self, *route, &request, &body, who).await {
                Ok(response) => response,
                Err(failure) => self.failure(&failure.owner, *failure.error),
            },
            RouteTarget::Plugin {
                owner,
                handler,
                index,
                calls,
            } => {
                // A route that needs a sign-in sees who the request is for even when no middleware said so (the
                // open-source host's single user): `user_auth` is asked, as for the host's own routes.
                if !request.is_public()
                    && let Err(failure) = api::resolve_identity(self, &request, who).await
                {
                    return self.failure(&failure.owner, *failure.error);
                }
                let request = RequestView {
                    identity: who.as_ref().map(Identity::as_view).or(request.identity()).into(),
                    ..request
                };
                match self
                    .within_deadline(
                        (owner, Slot::Routes, calls),
                        handler.handle(*index, request, RSlice::from_slice(&body)),
                    )
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
            for link in self.registry.middleware[..links_run]
                .iter()
                .rev()
                .filter(|l| l.hooks.on_response)
            {
                let view = ResponseView {
                    status: response.status,
                    headers: RSlice::from_slice(&views),
                    elapsed_micros: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                };
                match self
                    .within_deadline(link.site(), link.object.on_response(request, view))
                    .await
                {
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
            response.apply(change);
        }
    }
}
