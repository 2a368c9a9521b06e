//! CORS. By default any `http://localhost:*` or `http://127.0.0.1:*` origin may call the API with credentials;
//! `cors_origins` replaces that with an exact list. The headers are added through `Continue`, so they decorate
//! every response made further down the chain, errors included. Preflights are answered here.

use openhost_plugin_api::{Header, Middleware, MiddlewareAction, PluginError, RequestView, Response, order};

const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const DEFAULT_ALLOWED_HEADERS: &str = "content-type, authorization, x-request-id";
const EXPOSED_HEADERS: &str = "x-request-id, retry-after";

pub struct Cors {
    /// `None`: the localhost default.
    origins: Option<Vec<String>>,
}

impl Cors {
    pub fn new(origins: Option<Vec<String>>) -> Cors {
        Cors {
            origins: origins.map(|list| list.into_iter().map(|o| o.trim_end_matches('/').to_owned()).collect()),
        }
    }

    fn allows(&self, origin: &str) -> bool {
        match &self.origins {
            Some(list) => list.iter().any(|allowed| allowed == origin),
            None => is_local_origin(origin),
        }
    }
}

/// `http://localhost[:port]` or `http://127.0.0.1[:port]`.
fn is_local_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
    (host == "localhost" || host == "127.0.0.1") && (port.is_empty() || port.parse::<u16>().is_ok())
}

impl Middleware for Cors {
    fn order(&self) -> i32 {
        order::CORS
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let Some(origin) = request.header("origin").filter(|origin| self.allows(origin)) else {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_allows_local_origins_only() {
        assert!(super::is_local_origin("http://localhost:3001"));
        assert!(super::is_local_origin("http://127.0.0.1"));
        assert!(!super::is_local_origin("https://localhost:3001"));
        assert!(!super::is_local_origin("http://localhost.evil.example"));
        assert!(!super::is_local_origin("http://localhost:3001@evil.example"));
    }
}
