//! CORS: the origins of [`Origins`] (by default any `http://localhost:*`, `http://127.0.0.1:*` or
//! `http://[::1]:*`; `cors_origins` replaces that with an exact list; plugins add their public origins) may call
//! the API with credentials. The headers are added through `Continue`, so they decorate
//! every response made further down the chain, errors included. Preflights are answered here.

use std::sync::Arc;

use openhost_plugin_api::{Header, Middleware, MiddlewareAction, PluginError, RequestView, Response, order};

use crate::origins::Origins;

const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const DEFAULT_ALLOWED_HEADERS: &str = "content-type, authorization, x-request-id";
const EXPOSED_HEADERS: &str = "x-request-id, retry-after";

pub struct Cors {
    origins: Arc<Origins>,
}

impl Cors {
    pub fn new(origins: Arc<Origins>) -> Cors {
        Cors { origins }
    }
}

#[openhost_plugin_api::middleware]
impl Middleware for Cors {
    fn order(&self) -> i32 {
        order::CORS
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let Some(origin) = request
            .header("origin")
            .filter(|origin| self.origins.allows_origin(origin))
        else {
            return Ok(MiddlewareAction::next());
        };
        let mut headers = vec![
            Header::new("access-control-allow-origin", origin),
            Header::new("access-control-allow-credentials", "true"),
            Header::new("vary", "origin"),
        ];
        let preflight =
            request.method.as_str() == "OPTIONS" && request.header("access-control-request-method").is_some();
        if preflight {
            let allowed_headers = request
                .header("access-control-request-headers")
                .unwrap_or(DEFAULT_ALLOWED_HEADERS);
            headers.push(Header::new("access-control-allow-methods", ALLOWED_METHODS));
            headers.push(Header::new("access-control-allow-headers", allowed_headers));
            headers.push(Header::new("access-control-max-age", "600"));
            let mut response = Response {
                status: 204,
                headers: Vec::new().into(),
                body: Vec::new().into(),
            };
            response.headers.extend(headers);
            return Ok(MiddlewareAction::Respond(response));
        }
        headers.push(Header::new("access-control-expose-headers", EXPOSED_HEADERS));
        Ok(MiddlewareAction::Continue {
            add_response_headers: headers.into(),
            identity: None.into(),
        })
    }
}
