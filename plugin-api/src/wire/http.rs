//! The HTTP shapes that cross the boundary: a borrowed view of the request, owned responses, and what a
//! middleware decides. Requests are passed as borrowed views so that a middleware call copies no header
//! (docs/architecture.md, "Cost of a call").

use abi_stable::{
    std_types::{ROption, RSlice, RStr, RString, RVec},
    StableAbi,
};

use crate::wire::identity::{Identity, IdentityView};

/// One header, borrowed from the host's request or response.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct HeaderView<'a> {
    /// Lower-case header name.
    pub name: RStr<'a>,
    pub value: RStr<'a>,
}

/// The first value of a header in a borrowed list, by case-insensitive name.
fn find_header<'a>(headers: &RSlice<'a, HeaderView<'a>>, name: &str) -> Option<&'a str> {
    headers
        .as_slice()
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A borrowed view of an incoming request. Headers whose value is not visible ASCII are left out.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: RStr<'a>,
    pub path: RStr<'a>,
    /// The raw query string without `?`, empty if none.
    pub query: RStr<'a>,
    pub headers: RSlice<'a, HeaderView<'a>>,
    /// `ip:port` of the TCP peer, empty if unknown.
    pub peer_addr: RStr<'a>,
    /// The identity an earlier middleware established, if any.
    pub identity: ROption<IdentityView<'a>>,
    /// What the host knows about the request, as bits (`RequestView::PUBLIC_ROUTE`, ...). Later minors add bits;
    /// a plugin ignores bits it does not know.
    pub flags: u64,
}

impl<'a> RequestView<'a> {
    /// The request is for a route that needs no sign-in (`/healthz`, `/api/options/config`, a plugin route
    /// declared with [`RouteSpec::PUBLIC`]).
    pub const PUBLIC_ROUTE: u64 = 1;
    /// The request is for a route declared with [`RouteSpec::CROSS_SITE`] (since 1.2).
    pub const CROSS_SITE_ROUTE: u64 = 2;

    pub fn method(&self) -> &'a str {
        self.method.as_str()
    }

    pub fn path(&self) -> &'a str {
        self.path.as_str()
    }

    /// The raw query string, without `?`.
    pub fn query(&self) -> &'a str {
        self.query.as_str()
    }

    pub fn peer_addr(&self) -> &'a str {
        self.peer_addr.as_str()
    }

    /// The identity an earlier middleware established.
    pub fn identity(&self) -> Option<IdentityView<'a>> {
        self.identity.into_option()
    }

    /// Whether the route needs no sign-in.
    pub fn is_public(&self) -> bool {
        self.flags & Self::PUBLIC_ROUTE != 0
    }

    /// Whether the route accepts unsafe requests from other sites.
    pub fn accepts_cross_site(&self) -> bool {
        self.flags & Self::CROSS_SITE_ROUTE != 0
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        find_header(&self.headers, name)
    }

    /// The values of a cookie from the `Cookie` header(s), in order (a request may carry a name twice).
    pub fn cookies<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers
            .as_slice()
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case("cookie"))
            .flat_map(|h| h.value.as_str().split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(move |(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// The first value of a cookie.
    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        self.cookies(name).next()
    }

    /// The first value of a query parameter, percent-decoding not applied.
    pub fn query_param(&self, name: &str) -> Option<&'a str> {
        self.query
            .as_str()
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// An owned header, for responses.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: RString,
    pub value: RString,
}

impl Header {
    pub fn new(name: &str, value: &str) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A complete HTTP response: one a plugin answers with, or one the host's HTTP service received.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: RVec<Header>,
    pub body: RVec<u8>,
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response {
            status,
            headers: RVec::from(vec![Header::new("content-type", "application/json")]),
            // Not `to_string`: `fmt::Display` is several times slower than serde's own writer. A `Value` always
            // serializes; the empty body is unreachable.
            body: RVec::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    /// The standard error body `{"error": message, "code": code}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Response::json(status, &serde_json::json!({"error": message, "code": code}))
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Response {
            status,
            headers: RVec::from(vec![Header::new("location", location)]),
            body: RVec::new(),
        }
    }

    /// Adds a header, builder style.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }

    /// Applies a response hook's change to the headers.
    pub fn apply(&mut self, change: HeaderChange) {
        match change {
            HeaderChange::Set(header) => {
                self.headers
                    .retain(|h| !h.name.as_str().eq_ignore_ascii_case(header.name.as_str()));
                self.headers.push(header);
            }
            HeaderChange::Append(header) => self.headers.push(header),
            HeaderChange::Remove(name) => self
                .headers
                .retain(|h| !h.name.as_str().eq_ignore_ascii_case(name.as_str())),
        }
    }
}

/// What a middleware decides about a request.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum MiddlewareAction {
    /// Go on down the chain, adding these headers to whatever response comes back, and (if set) establishing who
    /// the request is for.
    Continue {
        add_response_headers: RVec<Header>,
        identity: ROption<Identity>,
    },
    /// Stop here and answer with this response; the rest of the chain and the route do not run.
    Respond(Response),
}

impl MiddlewareAction {
    /// Continue with nothing added. Allocates nothing.
    pub fn next() -> Self {
        MiddlewareAction::Continue {
            add_response_headers: RVec::new(),
            identity: ROption::RNone,
        }
    }

    /// Stop and answer with `response`.
    pub fn respond(response: Response) -> Self {
        MiddlewareAction::Respond(response)
    }

    /// Adds a header to the eventual response (to the early response, if this answers).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        match &mut self {
            MiddlewareAction::Continue {
                add_response_headers, ..
            } => add_response_headers.push(Header::new(name, value)),
            MiddlewareAction::Respond(response) => response.headers.push(Header::new(name, value)),
        }
        self
    }

    /// Establishes who the request is for (ignored if this answers).
    pub fn with_identity(mut self, who: Identity) -> Self {
        if let MiddlewareAction::Continue { identity, .. } = &mut self {
            *identity = ROption::RSome(who);
        }
        self
    }
}

/// Added in 1.5: a change a middleware makes to the request before routing ([`Decision::edits`]).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum RequestEdit {
    /// Replace the method: an HTTP token (`GET`, `PROPFIND`).
    SetMethod(RString),
    /// Replace the path and query: `/path?query`, starting with `/`.
    SetUri(RString),
    /// Change a request header.
    Header(HeaderChange),
    /// Replace the body: only a middleware that reads the body (`reads_body`) may.
    SetBody(RVec<u8>),
}

/// Added in 1.5: what a middleware decides about a request, and the changes it makes to the request first.
/// The host applies `edits` in order before the next link runs; routing then sees the changed request (the
/// route is looked up again). Edits that come with `Respond` are ignored.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: MiddlewareAction,
    pub edits: RVec<RequestEdit>,
}

impl From<MiddlewareAction> for Decision {
    fn from(action: MiddlewareAction) -> Decision {
        Decision {
            action,
            edits: RVec::new(),
        }
    }
}

impl Decision {
    /// Continue with nothing changed.
    pub fn next() -> Self {
        MiddlewareAction::next().into()
    }

    /// Stop and answer with `response`.
    pub fn respond(response: Response) -> Self {
        MiddlewareAction::respond(response).into()
    }

    fn edit(mut self, edit: RequestEdit) -> Self {
        self.edits.push(edit);
        self
    }

    /// Changes the method before routing.
    pub fn set_method(self, method: &str) -> Self {
        self.edit(RequestEdit::SetMethod(method.into()))
    }

    /// Changes the path and query (`/v2/items?page=2`) before routing.
    pub fn set_uri(self, uri: &str) -> Self {
        self.edit(RequestEdit::SetUri(uri.into()))
    }

    /// Sets a request header (every earlier value replaced).
    pub fn set_header(self, name: &str, value: &str) -> Self {
        self.edit(RequestEdit::Header(HeaderChange::Set(Header::new(name, value))))
    }

    /// Adds a value of a request header.
    pub fn append_header(self, name: &str, value: &str) -> Self {
        self.edit(RequestEdit::Header(HeaderChange::Append(Header::new(name, value))))
    }

    /// Removes a request header.
    pub fn remove_header(self, name: &str) -> Self {
        self.edit(RequestEdit::Header(HeaderChange::Remove(name.into())))
    }

    /// Replaces the body (the middleware must read the body: `Middleware::reads_body`).
    pub fn set_body(self, body: Vec<u8>) -> Self {
        self.edit(RequestEdit::SetBody(body.into()))
    }

    /// Adds a header to the eventual response.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.action = self.action.with_header(name, value);
        self
    }

    /// Establishes who the request is for.
    pub fn with_identity(mut self, who: Identity) -> Self {
        self.action = self.action.with_identity(who);
        self
    }
}

/// The final response as a middleware's response hook sees it, borrowed.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    pub headers: RSlice<'a, HeaderView<'a>>,
    /// Time since the host received the request, in microseconds.
    pub elapsed_micros: u64,
}

impl<'a> ResponseView<'a> {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        find_header(&self.headers, name)
    }
}

/// A change a response hook makes to the response headers.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum HeaderChange {
    /// Replace every value of the header with this one.
    Set(Header),
    /// Add a value (e.g. another `Set-Cookie`).
    Append(Header),
    /// Remove the header.
    Remove(RString),
}

/// A route a plugin adds to the host.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Upper-case HTTP method.
    pub method: RString,
    /// Exact path, starting with `/`.
    pub path: RString,
    /// Options, as bits ([`RouteSpec::PUBLIC`], ...). Later minors add bits; an older host ignores them.
    pub flags: u64,
}

impl RouteSpec {
    /// The route needs no sign-in: requests for it carry [`RequestView::PUBLIC_ROUTE`].
    pub const PUBLIC: u64 = 1;
    /// Added in 1.2: the route accepts unsafe requests from other sites (a webhook receiver): the host's
    /// cross-site and content-type refusals do not apply to it (docs/security.md). It must authenticate its
    /// callers itself (a signature).
    pub const CROSS_SITE: u64 = 2;

    pub fn new(method: &str, path: &str) -> Self {
        RouteSpec {
            method: method.into(),
            path: path.into(),
            flags: 0,
        }
    }

    pub fn is_public(&self) -> bool {
        self.flags & Self::PUBLIC != 0
    }

    /// Marks the route [`RouteSpec::CROSS_SITE`]: `RouteSpec::new("POST", "/hooks/github").cross_site()`.
    pub fn cross_site(mut self) -> Self {
        self.flags |= Self::CROSS_SITE;
        self
    }

    pub fn accepts_cross_site(&self) -> bool {
        self.flags & Self::CROSS_SITE != 0
    }
}
