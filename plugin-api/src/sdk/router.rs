//! Routes with one handler each, and the state they share (docs/plugin-guide.md, "3. The code"). The host tells
//! the plugin which of its routes a request matched (by index), so no handler re-matches paths; the route's
//! `{name}` segments and `*` rest are read back as [`Request::param`].
//!
//! A handler is an `async fn` (or closure) of the [`Request`], or, on a router made with
//! [`Router::with_state`], of `&S` and the request: the state is borrowed for the call, never cloned.
//!
//! ```ignore
//! struct Notes { kv: Host }
//!
//! async fn show(notes: &Notes, request: Request) -> Result<Response, PluginError> {
//!     let id = request.param("id").unwrap_or_default();
//!     ...
//! }
//!
//! Router::with_state(Notes { kv: host })
//!     .get("/api/notes/{id}", show)
//!     .public(RouteSpec::new("GET", "/hello"), |_: Request| async { Ok(Response::json(200, &json!("hi"))) })
//! ```

use std::{future::Future, marker::PhantomData, pin::Pin};

use serde::de::DeserializeOwned;

use crate::{
    route_path::RoutePath,
    wire::{
        http::{RequestView, Response, RouteSpec},
        identity::Identity,
    },
    PluginError,
};

/// A request to one of a plugin's routes, owned.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub peer_addr: String,
    /// Who the request is for: established by a middleware, or (on a route that is not public) resolved by
    /// the active `user_auth`. `None` on a public route no middleware identified.
    pub identity: Option<Identity>,
    pub body: Vec<u8>,
    /// The values of the matched route's `{name}` segments, and of its `*` rest under the name `*`.
    pub params: Vec<(String, String)>,
}

impl Request {
    /// The request a view shows, owned, with `body`.
    pub fn from_view(view: &RequestView<'_>, body: &[u8]) -> Request {
        Request {
            method: view.method().to_owned(),
            path: view.path().to_owned(),
            query: view.query().to_owned(),
            headers: view
                .headers
                .iter()
                .map(|h| (h.name.as_str().to_owned(), h.value.as_str().to_owned()))
                .collect(),
            peer_addr: view.peer_addr().to_owned(),
            identity: view.identity().map(|i| i.to_identity()),
            body: body.to_vec(),
            params: Vec::new(),
        }
    }

    /// Hands `read` a view borrowing this request, with the route `flags` (`RequestView::PUBLIC_ROUTE`, ...):
    /// the helpers on [`RequestView`], or a call that takes a view (a test kit's).
    pub fn with_view<T>(&self, flags: u64, read: impl FnOnce(&RequestView<'_>) -> T) -> T {
        let headers: Vec<crate::HeaderView<'_>> = self
            .headers
            .iter()
            .map(|(name, value)| crate::HeaderView {
                name: name.as_str().into(),
                value: value.as_str().into(),
            })
            .collect();
        let view = RequestView {
            method: self.method.as_str().into(),
            path: self.path.as_str().into(),
            query: self.query.as_str().into(),
            headers: headers.as_slice().into(),
            peer_addr: self.peer_addr.as_str().into(),
            identity: self.identity.as_ref().map(Identity::as_view).into(),
            flags,
        };
        read(&view)
    }

    /// The value of the matched route's `{name}` segment (`request.param("id")` for `/api/notes/{id}`), or of
    /// its rest for `"*"` (`a/b` for `/integrations/x/*` and `/integrations/x/a/b`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.with_view(0, |view| view.cookie(name).map(str::to_owned))
    }

    /// The first value of a query parameter, percent-decoding not applied.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.with_view(0, |view| view.query_param(name).map(str::to_owned))
    }

    /// The body as JSON of type `T`; a body that is not is a 400 `invalid_request` naming the key at fault, and
    /// one sent as another media type is a 415 (see [`require_json`]).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        require_json(self.header("content-type"))?;
        let mut deserializer = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| PluginError::http(400, "invalid_request", format!("the request body is not valid: {e}")))
    }
}

/// A JSON body must say so: a `Content-Type` other than `application/json` (or `application/*+json`) is 415
/// `unsupported_media_type`. A page of another site can send a form or `text/plain` without asking the browser's
/// permission, but not JSON; refusing the rest closes that door even where `Origin` is missing. No
/// `Content-Type` at all is a script's request and passes.
pub fn require_json(content_type: Option<&str>) -> Result<(), PluginError> {
    let Some(content_type) = content_type else {
        return Ok(());
    };
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = media_type == "application/json"
        || media_type
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"));
    if json {
        return Ok(());
    }
    Err(PluginError::http(
        415,
        "unsupported_media_type",
        "send the body as JSON, with content-type: application/json",
    ))
}

/// What a handler's call returns: a future that may borrow the router's state.
pub type HandlerFuture<'s> = Pin<Box<dyn Future<Output = Result<Response, PluginError>> + Send + 's>>;

/// A route handler of a router whose state is `S`: an `async fn` or closure taking the [`Request`] (`M` =
/// [`Stateless`]), or `&S` and the request (`M` = [`WithState`]). `M` only tells the two apart; it is inferred.
pub trait Handler<S, M>: Send + Sync + 'static {
    fn call<'s>(&'s self, state: &'s S, request: Request) -> HandlerFuture<'s>;
}

/// Marks a handler that takes the request alone.
pub enum Stateless {}
/// Marks a handler that takes the router's state and the request.
pub enum WithState {}

impl<S, F, Fut> Handler<S, Stateless> for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, PluginError>> + Send + 'static,
{
    fn call<'s>(&'s self, _state: &'s S, request: Request) -> HandlerFuture<'s> {
        Box::pin(self(request))
    }
}

/// A function of `&'s S` and the request whose future may borrow the state: names the future's type for each
/// `'s`, which a plain `Fn` bound cannot.
pub trait StateFn<'s, S: 's>: Fn(&'s S, Request) -> Self::Future {
    type Future: Future<Output = Result<Response, PluginError>> + Send + 's;
}

impl<'s, S: 's, F, Fut> StateFn<'s, S> for F
where
    F: Fn(&'s S, Request) -> Fut,
    Fut: Future<Output = Result<Response, PluginError>> + Send + 's,
{
    type Future = Fut;
}

impl<S, F> Handler<S, WithState> for F
where
    F: for<'s> StateFn<'s, S> + Send + Sync + 'static,
{
    fn call<'s>(&'s self, state: &'s S, request: Request) -> HandlerFuture<'s> {
        Box::pin(self(state, request))
    }
}

/// A handler with its marker erased, so one router holds both kinds.
trait AnyHandler<S>: Send + Sync {
    fn call<'s>(&'s self, state: &'s S, request: Request) -> HandlerFuture<'s>;
}

struct Typed<H, M>(H, PhantomData<fn() -> M>);

impl<S, M: 'static, H: Handler<S, M>> AnyHandler<S> for Typed<H, M> {
    fn call<'s>(&'s self, state: &'s S, request: Request) -> HandlerFuture<'s> {
        self.0.call(state, request)
    }
}

/// A plugin's routes, their handlers, and the state the handlers share.
pub struct Router<S = ()> {
    state: S,
    routes: Vec<Route<S>>,
}

/// A route: as declared, its path read (`None` if it is not one: the host refuses the plugin), and its handler.
type Route<S> = (RouteSpec, Option<RoutePath>, Box<dyn AnyHandler<S>>);

impl Default for Router<()> {
    fn default() -> Self {
        Router::new()
    }
}

impl Router<()> {
    /// A router whose handlers share no state.
    pub fn new() -> Self {
        Router::with_state(())
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// A router whose handlers may take `&S` (axum's `with_state`, without the clone).
    pub fn with_state(state: S) -> Self {
        Router {
            state,
            routes: Vec::new(),
        }
    }

    /// Adds a route. The path is exact, or has `{name}` segments ([`Request::param`]), or ends in `*`: the rest
    /// of the path, so a plugin can own everything under `/integrations/NAME/*` (interface 1.5). A collision
    /// with the host or another plugin is a startup error.
    pub fn route<M: 'static>(mut self, spec: RouteSpec, handler: impl Handler<S, M>) -> Self {
        let path = RoutePath::parse(spec.path.as_str()).ok();
        self.routes.push((spec, path, Box::new(Typed(handler, PhantomData))));
        self
    }

    /// Adds a `GET` route.
    pub fn get<M: 'static>(self, path: &str, handler: impl Handler<S, M>) -> Self {
        self.route(RouteSpec::new("GET", path), handler)
    }

    /// Adds a `POST` route.
    pub fn post<M: 'static>(self, path: &str, handler: impl Handler<S, M>) -> Self {
        self.route(RouteSpec::new("POST", path), handler)
    }

    /// Adds a `PUT` route.
    pub fn put<M: 'static>(self, path: &str, handler: impl Handler<S, M>) -> Self {
        self.route(RouteSpec::new("PUT", path), handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete<M: 'static>(self, path: &str, handler: impl Handler<S, M>) -> Self {
        self.route(RouteSpec::new("DELETE", path), handler)
    }

    /// Adds a route that needs no sign-in (a login page, a callback).
    pub fn public<M: 'static>(self, mut spec: RouteSpec, handler: impl Handler<S, M>) -> Self {
        spec.flags |= RouteSpec::PUBLIC;
        self.route(spec, handler)
    }

    pub(crate) fn specs(&self) -> Vec<RouteSpec> {
        self.routes.iter().map(|(spec, _, _)| spec.clone()).collect()
    }

    /// Calls the handler of `routes()[route]` with the request, its path's parameters filled in.
    pub(crate) fn dispatch<'s>(&'s self, route: u32, view: &RequestView<'_>, body: &[u8]) -> HandlerFuture<'s> {
        match self.routes.get(route as usize) {
            Some((_, path, handler)) => {
                let mut request = Request::from_view(view, body);
                request.params = path
                    .as_ref()
                    .and_then(|path| path.params(view.path()))
                    .unwrap_or_default();
                handler.call(&self.state, request)
            }
            None => Box::pin(async move {
                Err(PluginError::other(format!(
                    "the host asked for route {route}, which this plugin does not have"
                )))
            }),
        }
    }
}
