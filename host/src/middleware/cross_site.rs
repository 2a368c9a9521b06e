//! Refuses writes that another site's page makes the browser send (403 `cross_site_request`, docs/security.md):
//! an unsafe method (POST, PUT, PATCH, DELETE) whose `Origin` is not one of [`Origins`], or that the browser
//! marks `Sec-Fetch-Site: cross-site`. Scripts send neither header and pass, as do requests authenticated by
//! `Authorization: Bearer` (a browser never adds one by itself), and routes declared
//! `RouteSpec::CROSS_SITE` (webhooks, which authenticate their callers themselves).

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

    fn is_cross_site(&self, request: &RequestView<'_>) -> bool {
        let unsafe_method = matches!(request.method(), "POST" | "PUT" | "PATCH" | "DELETE");
        if !unsafe_method || request.accepts_cross_site() || has_bearer(request) {
            return false;
        }
        let marked = request
            .header("sec-fetch-site")
            .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"));
        let foreign = request
            .header("origin")
            .is_some_and(|origin| !self.origins.allows_origin(origin));
        marked || foreign
    }
}

fn has_bearer(request: &RequestView<'_>) -> bool {
    request.header("authorization").is_some_and(|value| {
        value
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
    })
}

impl Middleware for CrossSite {
    fn order(&self) -> i32 {
        order::CROSS_SITE
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        if !self.is_cross_site(request) {
            return Ok(MiddlewareAction::next());
        }
        Ok(MiddlewareAction::Respond(Response::error(
            403,
            "cross_site_request",
            "this request comes from a page of another site; add its origin to host.cors_origins if it is yours",
        )))
    }
}
