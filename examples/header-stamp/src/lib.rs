//! `header-stamp`: a middleware that adds a header to every response and answers 403 for configured paths,
//! counting those in the host's metrics (`openhost_plugin_header_stamp_blocked_total{path}`, interface 1.4).
//!
//! ```toml
//! [plugins.header-stamp.config]
//! header = "x-served-by"          # default "x-openhost-stamp"
//! value = "edge-1"                # default "header-stamp"
//! block_paths = ["/api/secret"]   # exact paths answered with 403 {"code": "blocked"}
//! order = 500                     # position in the middleware chain (ascending), default 500
//! ```

use openhost_plugin_api::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_header")]
    header: String,
    #[serde(default = "default_value")]
    value: String,
    #[serde(default)]
    block_paths: Vec<String>,
    #[serde(default = "default_order")]
    order: i32,
}

fn default_order() -> i32 {
    order::DEFAULT
}

fn default_header() -> String {
    "x-openhost-stamp".to_owned()
}

fn default_value() -> String {
    "header-stamp".to_owned()
}

struct HeaderStamp {
    /// Header name (lower case) and value.
    stamp: (String, String),
    block_paths: Vec<String>,
    order: i32,
    host: Host,
}

#[middleware]
impl Middleware for HeaderStamp {
    fn order(&self) -> i32 {
        self.order
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let path = request.path();
        if self.block_paths.iter().any(|blocked| blocked == path) {
            tracing::info!(path, "blocked by configuration");
            // Labelled with a configured path only, so the series are as few as the configuration's paths.
            if let Err(e) = self.host.counter("header_stamp_blocked_total", &[("path", path)], 1.0) {
                tracing::warn!("counting a blocked request failed: {e}");
            }
            let blocked = Response::error(403, "blocked", &format!("{path} is blocked on this server"));
            return Ok(MiddlewareAction::respond(blocked).with_header(&self.stamp.0, &self.stamp.1));
        }
        Ok(MiddlewareAction::next().with_header(&self.stamp.0, &self.stamp.1))
    }
}

fn init(host: Host, config: Config) -> Result<Components, PluginError> {
    if config.header.is_empty() || !config.header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(PluginError::invalid_config(format!(
            "header `{}` is not a valid header name",
            config.header
        )));
    }
    tracing::info!(header = %config.header, blocked = config.block_paths.len(), "header-stamp ready");
    Ok(Components::new().middleware(HeaderStamp {
        stamp: (config.header.to_ascii_lowercase(), config.value),
        block_paths: config.block_paths,
        order: config.order,
        host,
    }))
}

export_plugin! {
    name: "header-stamp",
    description: "Adds a header to every response and blocks configured paths",
    provides: [Middleware],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}

#[cfg(test)]
mod tests;
