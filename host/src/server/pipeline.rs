//! One request through the host, as a list of phases over one [`RequestContext`]: the middleware chain, the
//! route (the host's or a plugin's, through one dispatch), each middleware's response hook innermost first, and
//! the answer's last headers.
//!
//! The route is looked up before the chain, so that a request for a route that needs no sign-in carries
//! `RequestView::PUBLIC_ROUTE`, and again after a middleware changed the request. The body is read only when
//! something reads it: the first middleware that reads bodies, else the route after the chain has let the
//! request through ([`super::body`]), so that a rejected or oversized request costs no memory and still gets the
//! chain's headers (request id, CORS).

use abi_stable::std_types::{ROption, RSlice};
use bytes::Bytes;
use http::HeaderMap;
use http_body::Body;
use http_body_util::Full;
use openhost_plugin_api::{
    Decision, HeaderChange, HeaderView, Identity, MiddlewareAction, PluginError, RequestView, Response, ResponseView,
    Slot,
};

use crate::{
    api,
    app::{App, Serving},
    middleware::cross_site::refusal as cross_site_refusal,
    registry::{LinkObject, Owner, Registry, RouteTarget},
    server::{
        body::{MAX_BODY_BYTES, MAX_DRAINED_BYTES, body_too_large, body_too_slow, drain, read_body},
        context::{CurrentRequest, PeerText, RequestContext},
        http::to_http,
    },
    wasm::{Held, RequestOutcome},
};

/// The response header naming the registry generation that served the request.
pub const GENERATION_HEADER: &str = "openhost-generation";

impl App {
    /// Answers one HTTP request, all on the registry generation serving when it arrived; the response names
    /// that generation (`openhost-generation`).
    pub async fn answer<B: Body + Unpin>(
        &self,
        request: http::Request<B>,
        peer: PeerText,
    ) -> http::Response<Full<Bytes>> {
        let serving = self.serving();
        let (parts, body) = request.into_parts();
        let mut context = RequestContext::new(parts, peer, &serving.registry);
        let mut body = body;
        let early = serving.run_chain(&mut context, &mut body).await;
        // From here on the request no longer changes: the route and the response hooks share one header array.
        let buffered = context.request.body.take();
        let headers = context.request.header_views();
        let mut response = match early {
            Some(early) => early,
            None => match serving
                .identify(&context.request, &headers, context.identity.take())
                .await
            {
                Ok(identity) => {
                    context.identity = identity;
                    let identity = context.identity.as_ref();
                    serving
                        .dispatch(&context.request, &headers, identity, buffered, body)
                        .await
                }
                Err(refusal) => refusal,
            },
        };
        response.headers.extend(std::mem::take(&mut context.response_headers));
        if !context.response_prefix.is_empty() {
            let mut body = std::mem::take(&mut context.response_prefix);
            body.extend_from_slice(&response.body);
            response.body = body.into();
        }
        let request = context.request.view(&headers, context.identity.as_ref());
        let held = std::mem::take(&mut context.held);
        serving
            .run_response_hooks(request, context.links_run, held, context.received, &mut response)
            .await;
        serving.finish(&context, response)
    }
}

impl Serving<'_> {
    /// Runs the chain's request hooks in order. A link may change the request (interface 1.5: the route is
    /// then looked up again) or answer it, which ends the request early; so does the cross-site rule, after
    /// the chain. A link that reads bodies gets the body, read once before the first such link.
    async fn run_chain<'c, B: Body + Unpin>(
        &'c self,
        context: &mut RequestContext<'c>,
        body: &mut B,
    ) -> Option<Response> {
        let registry: &'c Registry = &self.registry;
        let mut headers = context.request.header_views();
        for link in &registry.middleware {
            context.links_run += 1;
            if !link.hooks.on_request {
                continue;
            }
            if link.hooks.body && context.request.body.is_none() {
                match self.read_body(&context.request.parts.headers, body).await {
                    Ok(read) => context.request.body = Some(read),
                    Err(refusal) => return Some(refusal),
                }
                headers = context.request.header_views();
            }
            let body_seen = match (&context.request.body, link.hooks.body) {
                (Some(read), true) => read.as_slice(),
                _ => &[],
            };
            let (action, edits) = match &link.object {
                LinkObject::Native(object) => {
                    let view = context.request.view(&headers, context.identity.as_ref());
                    let decided = self
                        .within_deadline(link.site(), object.decide(view, RSlice::from_slice(body_seen)))
                        .await;
                    match decided {
                        Ok(Decision { action, edits }) => (action, edits),
                        Err(error) => return Some(self.failure(&link.owner, error)),
                    }
                }
                LinkObject::Sandboxed(plugin) => {
                    let guest = plugin.handle_request(|guest| context.request.fill_guest(guest));
                    match self.timed_call(link.site(), plugin.limits().call_timeout, guest).await {
                        Ok(RequestOutcome::Respond(response)) => return Some(response),
                        Ok(RequestOutcome::Next {
                            edits,
                            response_headers,
                            response_body,
                            held,
                        }) => {
                            context.response_prefix.extend_from_slice(&response_body);
                            if let Some(held) = held {
                                context.held.push((context.links_run - 1, held));
                            }
                            let action = MiddlewareAction::Continue {
                                add_response_headers: response_headers.into(),
                                identity: ROption::RNone,
                            };
                            (action, edits.into())
                        }
                        Err(error) => return Some(self.failure(&link.owner, error)),
                    }
                }
            };
            match action {
                MiddlewareAction::Continue {
                    add_response_headers,
                    identity,
                } => {
                    context.response_headers.extend(add_response_headers);
                    if let ROption::RSome(identity) = identity {
                        context.identity = Some(identity);
                    }
                }
                MiddlewareAction::Respond(response) => return Some(response),
            }
            if !edits.is_empty() {
                for edit in edits {
                    if let Err(error) = context.request.apply(edit, link.hooks.body) {
                        let error = PluginError::other(format!("made an invalid change to the request: {error}"));
                        return Some(self.failure(&link.owner, error.into()));
                    }
                }
                context.request.reroute(registry);
                headers = context.request.header_views();
            }
        }
        if context.request.bearer_only && context.identity.is_none() {
            return Some(cross_site_refusal());
        }
        None
    }

    /// Who the request is for, as the route needs to know: what a middleware established, else (for a route
    /// that needs it) what the active `user_auth` says, maybe nobody. The route and the response hooks see it.
    async fn identify(
        &self,
        request: &CurrentRequest<'_>,
        headers: &[HeaderView<'_>],
        established: Option<Identity>,
    ) -> Result<Option<Identity>, Response> {
        let needs_asking = request.routing.as_ref().is_ok_and(|route| route.identify);
        if established.is_some() || !needs_asking {
            return Ok(established);
        }
        let active = &self.registry.user_auth;
        let found = self
            .within_deadline(
                active.site(Slot::UserAuth),
                active.object.identify(request.view(headers, None)),
            )
            .await
            .map_err(|error| self.failure(&active.blame(), error))?;
        Ok(found.into_option())
    }

    /// Answers the request with its route: the body read (bounded) unless a middleware read it (`buffered`),
    /// then the host's handler or the plugin's, given the same request and identity.
    async fn dispatch<B: Body + Unpin>(
        &self,
        request: &CurrentRequest<'_>,
        headers: &[HeaderView<'_>],
        identity: Option<&Identity>,
        buffered: Option<Vec<u8>>,
        mut body: B,
    ) -> Response {
        let route = match &request.routing {
            Ok(route) => *route,
            Err(allowed) => return no_route(request.parts.uri.path(), allowed),
        };
        let wants_body = match &route.target {
            RouteTarget::Host(route) => route.takes_body(),
            RouteTarget::Plugin { .. } => true,
        };
        // The host's body routes all take JSON; a plugin's route checks its own (`Request::json` does).
        if let RouteTarget::Host(_) = route.target
            && wants_body
            && let Err(error) = openhost_plugin_api::sdk::require_json(
                request.parts.headers.get("content-type").and_then(|v| v.to_str().ok()),
            )
        {
            return self.failure(&Owner::Host, error.into());
        }
        let body = match buffered {
            Some(read) => read,
            None if wants_body => match self.read_body(&request.parts.headers, &mut body).await {
                Ok(read) => read,
                Err(refusal) => return refusal,
            },
            None => Vec::new(),
        };
        let view = request.view(headers, identity);
        match &route.target {
            RouteTarget::Host(host_route) => {
                let params = route.path.params(request.parts.uri.path()).unwrap_or_default();
                match api::handle(self, *host_route, &view, &params, identity, &body).await {
                    Ok(response) => response,
                    Err(failure) => self.failure(&failure.owner, *failure.error),
                }
            }
            RouteTarget::Plugin {
                owner,
                handler,
                index,
                calls,
            } => match self
                .within_deadline(
                    (owner, Slot::Routes, calls),
                    handler.handle(*index, view, RSlice::from_slice(&body)),
                )
                .await
            {
                Ok(response) => response,
                Err(error) => self.failure(&Owner::Plugin(owner.clone()), error),
            },
        }
    }

    /// Reads a request body: at most [`MAX_BODY_BYTES`] (413 beyond), within the body deadline (408 after).
    async fn read_body<B: Body + Unpin>(&self, headers: &HeaderMap, body: &mut B) -> Result<Vec<u8>, Response> {
        // A request without a body (most GETs) costs no timer and no read.
        if body.is_end_stream() {
            return Ok(Vec::new());
        }
        let declared_length = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let deadline = self.config.limits.body_timeout;
        if let Some(length) = declared_length.filter(|length| *length > MAX_BODY_BYTES as u64) {
            if length <= MAX_DRAINED_BYTES {
                // Bounded like any body: a client that stops sending gets the 413 at the deadline.
                let _ = tokio::time::timeout(deadline, drain(body)).await;
            }
            return Err(body_too_large());
        }
        match tokio::time::timeout(deadline, read_body(body, MAX_BODY_BYTES)).await {
            Ok(result) => result,
            Err(_) => Err(body_too_slow(deadline)),
        }
    }

    /// Lets each of the first `links_run` middleware change the response, innermost first: a native link its
    /// headers, a sandboxed one (with the instance `held` from its request) its status, headers and body. A run
    /// of native links sees the response as the run began, and their header changes apply after the run; a
    /// sandboxed link sees every change made before it.
    // Without the sandbox (no feature `wasm`) no instance is held, and the code after taking one never runs.
    #[cfg_attr(not(feature = "wasm"), allow(unused_variables))]
    async fn run_response_hooks(
        &self,
        request: RequestView<'_>,
        links_run: usize,
        mut held: Vec<(usize, Held)>,
        received: std::time::Instant,
        response: &mut Response,
    ) {
        let elapsed_micros = u64::try_from(received.elapsed().as_micros()).unwrap_or(u64::MAX);
        // Indices, innermost first. No iterator adaptor is held across the awaits below: the compiler cannot
        // prove one `Send` for every lifetime the connection task needs.
        let chain = &self.registry.middleware;
        let mut next = links_run;
        let mut take = |native: bool| {
            while next > 0 {
                next -= 1;
                let link = &chain[next];
                if link.hooks.on_response {
                    if matches!(link.object, LinkObject::Native(_)) != native {
                        next += 1;
                        return None;
                    }
                    return Some((next, link));
                }
            }
            None
        };
        loop {
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
                while let Some((_, link)) = take(true) {
                    let LinkObject::Native(object) = &link.object else {
                        continue;
                    };
                    let view = ResponseView {
                        status: response.status,
                        headers: RSlice::from_slice(&views),
                        elapsed_micros,
                    };
                    match self
                        .within_deadline(link.site(), object.on_response(request, view))
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
            let Some((index, link)) = take(false) else {
                return;
            };
            let (LinkObject::Sandboxed(plugin), Some(position)) =
                (&link.object, held.iter().position(|(i, _)| *i == index))
            else {
                continue;
            };
            let (_, instance) = held.swap_remove(position);
            // The guest is told when the answer is a failure of the server (a plugin's, a store's).
            let is_error = response.status >= 500;
            let guest = plugin.handle_response(instance, response, is_error);
            if let Err(error) = self.timed_call(link.site(), plugin.limits().call_timeout, guest).await {
                *response = self.failure(&link.owner, error);
                return;
            }
        }
    }

    /// The answer's last steps: the request counted under its route, and the generation that served it named.
    fn finish(&self, context: &RequestContext<'_>, response: Response) -> http::Response<Full<Bytes>> {
        if self.telemetry.enabled() {
            let metrics = context
                .request
                .routing
                .as_ref()
                .map_or(&self.telemetry.unmatched, |route| &route.metrics);
            metrics.record(
                context.request.parts.method.as_str(),
                response.status,
                context.received.elapsed(),
            );
        }
        let mut answer = to_http(response);
        // Straight into hyper's map: a number is a valid header value, nothing to check or copy again.
        answer.headers_mut().append(
            http::header::HeaderName::from_static(GENERATION_HEADER),
            http::HeaderValue::from(self.registry.generation),
        );
        answer
    }
}

/// The answer to a request no route matched: 404, or 405 with the methods its path allows.
fn no_route(path: &str, allowed: &[&str]) -> Response {
    if allowed.is_empty() {
        return Response::error(404, "not_found", &format!("no route for {path}"));
    }
    let allowed = allowed.join(", ");
    Response::error(405, "method_not_allowed", &format!("{path} allows {allowed}")).with_header("allow", &allowed)
}
