//! The host's own routes. Each is a [`HostRoute`] so the registry can check plugin routes against them.

use openhost_plugin_api::{PluginError, RequestView, Response};
use serde_json::json;

use crate::server::App;

/// A route served by the host itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRoute {
    Healthz,
    Plugins,
    OptionsConfig,
}

impl HostRoute {
    /// Method, path and route of everything the host serves.
    pub const ALL: &'static [(&'static str, &'static str, HostRoute)] = &[
        ("GET", "/healthz", HostRoute::Healthz),
        ("GET", "/api/plugins", HostRoute::Plugins),
        ("GET", "/api/options/config", HostRoute::OptionsConfig),
    ];
}

/// Answers a host route. Errors from the slot implementation that served it come back as `Err` with the slot's
/// owner, so the caller can attribute them.
pub async fn handle(
    app: &App,
    route: HostRoute,
    _request: &RequestView<'_>,
    _body: &[u8],
) -> Result<Response, SlotError> {
    match route {
        HostRoute::Healthz => Ok(Response::json(200, &json!({"status": "ok"}))),
        HostRoute::Plugins => Ok(Response::json(200, &app.registry.describe())),
        HostRoute::OptionsConfig => {
            let active = &app.registry.server_config;
            let blame = |error| SlotError {
                owner: active.owner.name().to_owned(),
                error,
            };
            let text = active.object.config_json().into_result().map_err(blame)?;
            let config: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| blame(PluginError::other(format!("server_config returned invalid JSON: {e}"))))?;
            Ok(Response::json(200, &config))
        }
    }
}

/// A slot implementation failed while serving a host route.
#[derive(Debug)]
pub struct SlotError {
    pub owner: String,
    pub error: PluginError,
}
