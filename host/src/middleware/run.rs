//! The host's request built-ins that sit next to each other in the chain, called as one link.
//!
//! Each link of the chain costs a call through the interface (a boxed future, the panic guard, the call timer)
//! before it does any work, and with no plugin loaded that was most of what the host adds to a request
//! (docs/benchmarks.md, "Where the host's own cost was"). A run of built-ins with no other link between them is
//! one SDK middleware ([`BuiltinRun`]) that calls them one after the other as plain Rust: the chain, its order
//! and `/api/plugins` are unchanged, and the run goes through the SDK like any other middleware.
//!
//! Calling them back to back does what the chain would do because no request built-in changes the request or
//! reads the body (a later member would have to see the change); the identity of a member that set one would
//! still reach the chain, only the run's later members would not see it. The built-in with a response hook
//! (cache control) stays a link of its own: inside a run its hook would also run on the early answers of the
//! members before it, which the chain does not do.

use abi_stable::std_types::{ROption, RVec};
use openhost_plugin_api::{Middleware, MiddlewareAction, PluginError, RequestView};

use super::{cors::Cors, cross_site::CrossSite, host_names::HostNames, rate_limit::RateLimit, request_id::RequestId};

/// A built-in that only decides about requests.
pub enum RequestBuiltin {
    RequestId(RequestId),
    HostNames(HostNames),
    RateLimit(RateLimit),
    Cors(Cors),
    CrossSite(CrossSite),
}

impl RequestBuiltin {
    /// Its name in the chain (`/api/plugins`).
    pub fn name(&self) -> &'static str {
        match self {
            RequestBuiltin::RequestId(_) => "request-id",
            RequestBuiltin::HostNames(_) => "host-names",
            RequestBuiltin::RateLimit(_) => "rate-limit",
            RequestBuiltin::Cors(_) => "cors",
            RequestBuiltin::CrossSite(_) => "cross-site",
        }
    }

    pub fn order(&self) -> i32 {
        match self {
            RequestBuiltin::RequestId(m) => m.order(),
            RequestBuiltin::HostNames(m) => m.order(),
            RequestBuiltin::RateLimit(m) => m.order(),
            RequestBuiltin::Cors(m) => m.order(),
            RequestBuiltin::CrossSite(m) => m.order(),
        }
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        match self {
            RequestBuiltin::RequestId(m) => m.on_request(request).await,
            RequestBuiltin::HostNames(m) => m.on_request(request).await,
            RequestBuiltin::RateLimit(m) => m.on_request(request).await,
            RequestBuiltin::Cors(m) => m.on_request(request).await,
            RequestBuiltin::CrossSite(m) => m.on_request(request).await,
        }
    }
}

/// Request built-ins next to each other in the chain, in chain order (at least one).
pub struct BuiltinRun(pub Vec<RequestBuiltin>);

#[openhost_plugin_api::middleware]
impl Middleware for BuiltinRun {
    fn order(&self) -> i32 {
        self.0
            .first()
            .map_or(openhost_plugin_api::order::DEFAULT, RequestBuiltin::order)
    }

    /// Each member in turn, as the chain would call them: their response headers gathered, the first answer
    /// ending the run with the headers of the members before it (the chain adds those to an early answer too).
    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let mut gathered: RVec<_> = RVec::new();
        let mut established = ROption::RNone;
        for member in &self.0 {
            match member.on_request(request).await? {
                MiddlewareAction::Continue {
                    add_response_headers,
                    identity,
                } => {
                    gathered.extend(add_response_headers);
                    if identity.is_some() {
                        established = identity;
                    }
                }
                MiddlewareAction::Respond(mut response) => {
                    response.headers.extend(gathered);
                    return Ok(MiddlewareAction::Respond(response));
                }
            }
        }
        Ok(MiddlewareAction::Continue {
            add_response_headers: gathered,
            identity: established,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use openhost_plugin_api::{HeaderView, Response};

    use super::*;
    use crate::origins::Origins;

    fn builtins() -> Vec<RequestBuiltin> {
        let origins = Arc::new(Origins::new("127.0.0.1:3000".parse().unwrap(), None, None, Vec::new()));
        vec![
            RequestBuiltin::RequestId(RequestId::new().unwrap()),
            RequestBuiltin::Cors(Cors::new(Arc::clone(&origins))),
            RequestBuiltin::CrossSite(CrossSite::new(origins)),
        ]
    }

    fn run(method: &str, headers: &[(&str, &str)]) -> MiddlewareAction {
        let headers: Vec<HeaderView<'_>> = headers
            .iter()
            .map(|(name, value)| HeaderView {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect();
        let view = RequestView {
            method: method.into(),
            path: "/api/settings".into(),
            query: "".into(),
            headers: headers.as_slice().into(),
            peer_addr: "127.0.0.1:5000".into(),
            identity: ROption::RNone,
            flags: 0,
        };
        futures_util::FutureExt::now_or_never(BuiltinRun(builtins()).on_request(&view))
            .expect("built-ins never wait")
            .expect("built-ins do not fail")
    }

    fn names(headers: &[openhost_plugin_api::Header]) -> Vec<&str> {
        headers.iter().map(|h| h.name.as_str()).collect()
    }

    #[test]
    fn a_run_gathers_every_members_headers_in_chain_order() {
        let MiddlewareAction::Continue {
            add_response_headers, ..
        } = run("GET", &[("origin", "http://localhost:3001")])
        else {
            panic!("a local GET goes on");
        };
        let names = names(&add_response_headers);
        assert_eq!(names.first(), Some(&"x-request-id"), "request id first: {names:?}");
        assert!(
            names.contains(&"access-control-allow-origin"),
            "CORS after it: {names:?}"
        );
    }

    #[test]
    fn a_member_that_answers_ends_the_run_with_the_headers_of_those_before_it() {
        let MiddlewareAction::Respond(Response { status, headers, .. }) = run(
            "POST",
            &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        ) else {
            panic!("a cross-site write is refused");
        };
        assert_eq!(status, 403);
        assert!(
            names(&headers).contains(&"x-request-id"),
            "the refusal carries the request id, as it did as a link of its own"
        );
    }
}
