//! The host's built-in middleware: request id (order 0), host names (10), per-IP rate limit (100), CORS (200),
//! cross-site refusal (250) and cache control (900). They implement the SDK's `Middleware` trait and run in the chain exactly as a plugin's middleware does.

pub mod cache_control;
pub mod cors;
pub mod cross_site;
pub mod host_names;
pub mod rate_limit;
pub mod request_id;

use std::sync::Arc;

use openhost_plugin_api::{Middleware, sdk};

use crate::{
    config::Config,
    origins::Origins,
    registry::RegistryError,
    registry::{ChainLink, Hooks, LinkObject, Owner},
};

fn link(name: &str, middleware: impl Middleware) -> ChainLink {
    let object = sdk::middleware_object(middleware);
    let hooks = Hooks::declared_by(&object);
    ChainLink {
        calls: crate::telemetry::CallSite::uncounted(),
        name: name.to_owned(),
        owner: Owner::Host,
        order: object.order(),
        object: LinkObject::Native(object),
        hooks,
    }
}

/// The built-ins `config` asks for (a `rate_limit_per_sec` of 0 leaves the limiter out), trusting `origins`.
pub fn builtins(config: &Config, origins: &Arc<Origins>) -> Result<Vec<ChainLink>, RegistryError> {
    let request_id = request_id::RequestId::new().map_err(|e| RegistryError::Random(Box::new(e)))?;
    let mut links = vec![link("request-id", request_id)];
    if let Some(host_names) = host_names::HostNames::new(Arc::clone(origins)) {
        links.push(link("host-names", host_names));
    }
    if let Some(limiter) = rate_limit::RateLimit::new(config.rate_limit_per_sec) {
        links.push(link("rate-limit", limiter));
    }
    links.push(link("cors", cors::Cors::new(Arc::clone(origins))));
    links.push(link("cross-site", cross_site::CrossSite::new(Arc::clone(origins))));
    links.push(link("cache-control", cache_control::CacheControl));
    Ok(links)
}
