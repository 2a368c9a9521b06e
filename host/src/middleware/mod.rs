//! The host's built-in middleware: request id (order 0), host names (10), per-IP rate limit (100), CORS (200),
//! cross-site refusal (250) and cache control (900). They implement the SDK's `Middleware` trait and run in the
//! chain exactly as a plugin's middleware does; those that only decide about requests run, where no other link
//! sits between them, as one link ([`run`]).

pub mod cache_control;
pub mod cors;
pub mod cross_site;
pub mod host_names;
pub mod rate_limit;
pub mod request_id;
pub mod run;

use std::sync::Arc;

use openhost_plugin_api::{MiddlewareObject, PluginError, sdk};

use self::run::RequestBuiltin;
use crate::{config::Config, origins::Origins};

/// The built-ins of a generation, before they take their places in the chain.
pub struct Builtins {
    /// Those that only decide about requests: a run of them with no other link between becomes one link.
    pub requests: Vec<RequestBuiltin>,
    /// Those with a response hook, by name: links of their own.
    pub responses: Vec<(&'static str, MiddlewareObject)>,
}

/// The built-ins `config` asks for (a `rate_limit_per_sec` of 0 leaves the limiter out), trusting `origins`.
/// Fails only when the request ids' random prefix cannot be drawn.
pub fn builtins(config: &Config, origins: &Arc<Origins>) -> Result<Builtins, PluginError> {
    let mut requests = vec![RequestBuiltin::RequestId(request_id::RequestId::new()?)];
    if let Some(host_names) = host_names::HostNames::new(Arc::clone(origins)) {
        requests.push(RequestBuiltin::HostNames(host_names));
    }
    if let Some(limiter) = rate_limit::RateLimit::new(config.rate_limit_per_sec) {
        requests.push(RequestBuiltin::RateLimit(limiter));
    }
    requests.push(RequestBuiltin::Cors(cors::Cors::new(Arc::clone(origins))));
    requests.push(RequestBuiltin::CrossSite(cross_site::CrossSite::new(Arc::clone(
        origins,
    ))));
    let responses = vec![("cache-control", sdk::middleware_object(cache_control::CacheControl))];
    Ok(Builtins { requests, responses })
}
