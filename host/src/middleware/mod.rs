//! The host's built-in middleware: request id (order 0), per-IP rate limit (100), CORS (200) and cache control
//! (900). They implement the SDK's `Middleware` trait and run in the chain exactly as a plugin's middleware does.

pub mod cache_control;
pub mod cors;
pub mod rate_limit;
pub mod request_id;

use openhost_plugin_api::{Middleware, sdk};

use crate::{
    config::Config,
    registry::{ChainLink, Owner},
};

fn link(name: &str, middleware: impl Middleware) -> ChainLink {
    let object = sdk::middleware_object(middleware);
    ChainLink {
        name: name.to_owned(),
        owner: Owner::Host,
        order: object.order(),
        object,
    }
}

/// The built-ins `config` asks for (a `rate_limit_per_sec` of 0 leaves the limiter out).
pub fn builtins(config: &Config) -> Vec<ChainLink> {
    let mut links = vec![link("request-id", request_id::RequestId)];
    if let Some(limiter) = rate_limit::RateLimit::new(config.rate_limit_per_sec) {
        links.push(link("rate-limit", limiter));
    }
    links.push(link("cors", cors::Cors::new(config.cors_origins.clone())));
    links.push(link("cache-control", cache_control::CacheControl));
    links
}
