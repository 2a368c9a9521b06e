//! One request's context, carried from the first middleware to the answer (docs/architecture.md, "Requests"):
//! the request as it now stands, the route it matched, who it is for once known, the headers the chain adds to
//! the answer, and how far down the chain it went. Every phase of the pipeline reads and writes this one value;
//! no phase keeps a second copy of any of it.
//!
//! Middleware and routes see the request as a borrowed [`RequestView`]: [`CurrentRequest::header_views`] lends
//! the header array once, and [`CurrentRequest::view`] builds a view around it at no cost.

use std::{net::SocketAddr, time::Instant};

use http::request::Parts;
use openhost_plugin_api::{Header, HeaderView, Identity, RequestView};

use crate::{
    middleware::cross_site::{Crossing, crossing},
    registry::{Registry, Route},
    server::http::{format_into, header_views, text_headers},
    wasm::{GuestRequest, Held, RequestParts},
};

/// What routing found for the request: its route, or the methods its path allows (none: no such path).
pub type Routing<'g> = Result<&'g Route, Vec<&'g str>>;

/// One request, as the pipeline carries it. `'g` is the registry generation serving it.
pub struct RequestContext<'g> {
    /// The request as it now stands.
    pub request: CurrentRequest<'g>,
    /// Who the request is for: established by a middleware, or resolved by `user_auth` for a route that needs
    /// it. The response hooks see the same value.
    pub identity: Option<Identity>,
    /// Headers the chain adds to whatever answer comes back.
    pub response_headers: Vec<Header>,
    /// Bytes sandboxed guests wrote to the response body before letting the request on: the answer's body
    /// follows them.
    pub response_prefix: Vec<u8>,
    /// How many links of the chain saw the request: their response hooks run, innermost first.
    pub links_run: usize,
    /// The instances of sandboxed links waiting for the response (`handle_response`), by link index.
    pub held: Vec<(usize, Held)>,
    pub received: Instant,
}

/// The request as it now stands: what middleware and routes see of it, and where it is routed.
pub struct CurrentRequest<'g> {
    /// Method, URI and headers.
    pub parts: Parts,
    /// What routing found for `parts` (computed before the chain, so middleware knows a public route).
    pub routing: Routing<'g>,
    /// The request is a cross-site write with a bearer ([`Crossing::BearerOnly`]): its cookies are withheld, and
    /// it is refused after the chain unless a middleware established who it is for.
    pub bearer_only: bool,
    /// The body, once read: before the first middleware that reads bodies (interface 1.5), else before the
    /// route. A middleware may have replaced it.
    pub body: Option<Vec<u8>>,
    peer: PeerText,
}

impl<'g> RequestContext<'g> {
    /// The context of a request as it arrived, routed on `registry` and classified by its cross-site rule.
    pub fn new(parts: Parts, peer: PeerText, registry: &'g Registry) -> RequestContext<'g> {
        let routing = registry.route(parts.method.as_str(), parts.uri.path());
        let mut request = CurrentRequest {
            parts,
            routing,
            bearer_only: false,
            body: None,
            peer,
        };
        // Only a write can be refused as cross-site: a safe method needs no look at its headers.
        let unsafe_method = !request.parts.method.is_safe();
        let bearer_only = unsafe_method && {
            let headers = request.header_views();
            crossing(&registry.origins, &request.view(&headers, None)) == Crossing::BearerOnly
        };
        request.bearer_only = bearer_only;
        RequestContext {
            request,
            identity: None,
            response_headers: Vec::new(),
            response_prefix: Vec::new(),
            links_run: 0,
            held: Vec::new(),
            received: Instant::now(),
        }
    }
}

impl<'g> CurrentRequest<'g> {
    /// Looks the route up again, after a middleware changed the method or the path.
    pub fn reroute(&mut self, registry: &'g Registry) {
        self.routing = registry.route(self.parts.method.as_str(), self.parts.uri.path());
    }

    /// The headers middleware and routes see, borrowed: a bearer-only request's cookies are left out.
    pub fn header_views(&self) -> Vec<HeaderView<'_>> {
        header_views(self.visible_headers())
    }

    /// The headers a plugin sees ([`text_headers`]), but a bearer-only request's cookies.
    fn visible_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        text_headers(&self.parts.headers).filter(|(name, _)| !(self.bearer_only && *name == "cookie"))
    }

    /// The request as the interface shows it, for `identity`, around `headers` from
    /// [`CurrentRequest::header_views`].
    pub fn view<'v>(&'v self, headers: &'v [HeaderView<'v>], identity: Option<&'v Identity>) -> RequestView<'v> {
        RequestView {
            method: self.parts.method.as_str().into(),
            path: self.parts.uri.path().into(),
            query: self.parts.uri.query().unwrap_or("").into(),
            headers: headers.into(),
            peer_addr: self.peer.as_str().into(),
            identity: identity.map(Identity::as_view).into(),
            flags: self.flags(),
        }
    }

    /// Writes the request as a sandboxed guest sees it (its body, if read) into the guest's instance: the
    /// headers any middleware sees.
    pub fn fill_guest(&self, guest: &mut GuestRequest) {
        guest.refill(RequestParts {
            method: self.parts.method.as_str(),
            uri: self.parts.uri.path_and_query().map_or("/", |path| path.as_str()),
            version: match self.parts.version {
                http::Version::HTTP_09 => "HTTP/0.9",
                http::Version::HTTP_10 => "HTTP/1.0",
                http::Version::HTTP_2 => "HTTP/2.0",
                http::Version::HTTP_3 => "HTTP/3.0",
                _ => "HTTP/1.1",
            },
            headers: self.visible_headers(),
            body: self.body.as_deref().unwrap_or_default(),
            source: self.peer.as_str(),
        });
    }

    /// What the host tells middleware about the route: public, accepting cross-site writes.
    fn flags(&self) -> u64 {
        self.routing.as_ref().map_or(0, |route| {
            let public = if route.public { RequestView::PUBLIC_ROUTE } else { 0 };
            let cross_site = if route.cross_site {
                RequestView::CROSS_SITE_ROUTE
            } else {
                0
            };
            public | cross_site
        })
    }
}

/// The peer address as text, formatted once per connection on the stack: an address is at most 47 bytes
/// (`[v6%scope]:port`).
#[derive(Clone, Copy)]
pub struct PeerText {
    buffer: [u8; 64],
    len: usize,
}

impl PeerText {
    pub fn new(peer: SocketAddr) -> PeerText {
        let mut buffer = [0u8; 64];
        let len = format_into(&mut buffer, peer).len();
        PeerText { buffer, len }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buffer[..self.len]).unwrap_or("")
    }
}
