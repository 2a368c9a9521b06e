//! The host's built-in middleware: request id (order 0), per-IP rate limit (100), CORS (200) and cache control
//! (900). They implement the SDK's `Middleware` trait and run in the chain exactly as a plugin's middleware does.

pub mod cache_control;
pub mod cors;
pub mod rate_limit;
pub mod request_id;

use openhost_plugin_api::{Middleware, sdk};

use crate::{
    config::Config,
    error::StartupError,
    registry::{ChainLink, Hooks, Owner},
};

fn link(name: &str, middleware: impl Middleware, hooks: Hooks) -> ChainLink {
    let object = sdk::middleware_object(middleware);
    ChainLink {
        name: name.to_owned(),
        owner: Owner::Host,
        order: object.order(),
        object,
        hooks,
    }
}

/// The built-ins `config` asks for (a `rate_limit_per_sec` of 0 leaves the limiter out).
pub fn builtins(config: &Config) -> Result<Vec<ChainLink>, StartupError> {
    let request_id = request_id::RequestId::new().map_err(|e| StartupError::Random(e.to_string()))?;
    let mut links = vec![link("request-id", request_id, Hooks::REQUEST)];
    if let Some(limiter) = rate_limit::RateLimit::new(config.rate_limit_per_sec) {
        links.push(link("rate-limit", limiter, Hooks::REQUEST));
    }
    links.push(link(
        "cors",
        cors::Cors::new(config.cors_origins.clone()),
        Hooks::REQUEST,
    ));
    links.push(link("cache-control", cache_control::CacheControl, Hooks::RESPONSE));
    Ok(links)
}
