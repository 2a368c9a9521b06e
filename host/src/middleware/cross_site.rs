//! Refuses writes that another site's page makes the browser send (403 `cross_site_request`, docs/security.md):
//! an unsafe method (POST, PUT, PATCH, DELETE) whose `Origin` is not one of [`Origins`], or that the browser
//! marks `Sec-Fetch-Site: cross-site`. Scripts send neither header and pass, and so do routes declared
//! `RouteSpec::CROSS_SITE` (webhooks, which authenticate their callers themselves).
//!
//! Such a request with `Authorization: Bearer` (a browser never adds one by itself) is not refused here but
//! decided after the chain ([`Crossing::BearerOnly`]): it passes only if a middleware established an identity
//! from it, and its cookies are withheld from the chain and the route, so that a bearer no middleware accepts
//! cannot carry the browser's session cookie, or the open-source host's implicit local user, past this check.

use std::sync::Arc;

use openhost_plugin_api::{Middleware, MiddlewareAction, PluginError, RequestView, Response, order};

use crate::origins::Origins;

pub struct CrossSite {
    origins: Arc<Origins>,
}

impl CrossSite {
    pub fn new(origins: Arc<Origins>) -> CrossSite {
        CrossSite { origins }
    }
}

/// What the cross-site rule says of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Not a cross-site write: a safe method, a same-site page, a script, a webhook route.
    Allowed,
    /// A cross-site write: 403.
    Refused,
    /// A cross-site write with a bearer: only what a middleware authenticates from the bearer may pass.
    BearerOnly,
}

/// Classifies `request` against the allowed `origins`.
pub fn crossing(origins: &Origins, request: &RequestView<'_>) -> Crossing {
    let unsafe_method = matches!(request.method(), "POST" | "PUT" | "PATCH" | "DELETE");
    if !unsafe_method || request.accepts_cross_site() {
        return Crossing::Allowed;
    }
    let marked = request
        .header("sec-fetch-site")
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"));
    let foreign = request
        .header("origin")
        .is_some_and(|origin| !origins.allows_origin(origin));
    match (marked || foreign, has_bearer(request)) {
        (false, _) => Crossing::Allowed,
        (true, false) => Crossing::Refused,
        (true, true) => Crossing::BearerOnly,
    }
}

/// The 403 of a refused cross-site write.
pub fn refusal() -> Response {
    Response::error(
        403,
        "cross_site_request",
        "this request comes from a page of another site; add its origin to host.cors_origins if it is yours",
    )
}

fn has_bearer(request: &RequestView<'_>) -> bool {
    request.header("authorization").is_some_and(|value| {
        value
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
    })
}

#[openhost_plugin_api::middleware]
impl Middleware for CrossSite {
    fn order(&self) -> i32 {
        order::CROSS_SITE
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        match crossing(&self.origins, request) {
            Crossing::Refused => Ok(MiddlewareAction::Respond(refusal())),
            // A bearer request is decided after the chain (the pipeline), once authentication has run.
            Crossing::Allowed | Crossing::BearerOnly => Ok(MiddlewareAction::next()),
        }
    }
}
