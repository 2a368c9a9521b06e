//! The open-source `server_config`: the JSON of `GET /api/options/config` for a single-user host.

use openhost_plugin_api::{PluginError, ServerConfig, sdk::server_config::feature_flags_off};
use serde_json::{Value, json};

/// `{"APP_MODE": "oss", ...}`.
pub struct OssServerConfig;

impl ServerConfig for OssServerConfig {
    async fn config(&self) -> Result<Value, PluginError> {
        Ok(json!({
            "APP_MODE": "oss",
            "GITHUB_CLIENT_ID": null,
            "FEATURE_FLAGS": feature_flags_off(),
        }))
    }
}
