//! Routes with one handler each. The host tells the plugin which of its routes a request matched (by index),
//! so no handler re-matches paths. A handler gets an owned [`Request`], which lets it be a plain closure or
//! `async fn`; the copy costs about a microsecond, nothing next to the work a route does.

use std::{future::Future, pin::Pin};

use serde::de::DeserializeOwned;

use crate::{
    wire::{
        http::{RequestView, Response, RouteSpec},
        identity::Identity,
    },
    PluginError,
};

/// A request to one of a plugin's routes, owned.
#[derive(Debug, Clone)]
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
}

impl Request {
    fn from_view(view: &RequestView<'_>, body: &[u8]) -> Request {
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
        }
    }

    /// A view borrowing this request (for the helpers on [`RequestView`]).
    fn with_view<T>(&self, read: impl FnOnce(&RequestView<'_>) -> T) -> T {
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
            flags: 0,
        };
        read(&view)
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
        self.with_view(|view| view.cookie(name).map(str::to_owned))
    }

    /// The first value of a query parameter, percent-decoding not applied.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.with_view(|view| view.query_param(name).map(str::to_owned))
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

type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response, PluginError>> + Send>>;
type Handler = Box<dyn Fn(Request) -> HandlerFuture + Send + Sync>;

/// A plugin's routes and their handlers.
///
/// ```ignore
/// Router::new()
///     .get("/api/audit", move |request| { let log = log.clone(); async move { log.list(&request).await } })
///     .public(RouteSpec::new("GET", "/hello"), |_| async { Ok(Response::json(200, &json!("hi"))) })
/// ```
#[derive(Default)]
pub struct Router {
    routes: Vec<(RouteSpec, Handler)>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route. A collision with the host or another plugin is a startup error.
    pub fn route<F, Fut>(mut self, spec: RouteSpec, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, PluginError>> + Send + 'static,
    {
        self.routes
            .push((spec, Box::new(move |request| Box::pin(handler(request)))));
        self
    }

    /// Adds a `GET` route.
    pub fn get<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, PluginError>> + Send + 'static,
    {
        self.route(RouteSpec::new("GET", path), handler)
    }

    /// Adds a `POST` route.
    pub fn post<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, PluginError>> + Send + 'static,
    {
        self.route(RouteSpec::new("POST", path), handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete<F, Fut>(self, path: &str, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, PluginError>> + Send + 'static,
    {
        self.route(RouteSpec::new("DELETE", path), handler)
    }

    /// Adds a route that needs no sign-in (a login page, a callback).
    pub fn public<F, Fut>(self, mut spec: RouteSpec, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, PluginError>> + Send + 'static,
    {
        spec.flags |= RouteSpec::PUBLIC;
        self.route(spec, handler)
    }

    pub(crate) fn specs(&self) -> Vec<RouteSpec> {
        self.routes.iter().map(|(spec, _)| spec.clone()).collect()
    }

    pub(crate) fn dispatch(&self, route: u32, view: &RequestView<'_>, body: &[u8]) -> HandlerFuture {
        match self.routes.get(route as usize) {
            Some((_, handler)) => handler(Request::from_view(view, body)),
            None => Box::pin(async move {
                Err(PluginError::other(format!(
                    "the host asked for route {route}, which this plugin does not have"
                )))
            }),
        }
    }
}
