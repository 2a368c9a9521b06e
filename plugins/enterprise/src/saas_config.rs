//! The `server_config` override: the SaaS configuration the OpenHands frontend reads from
//! `GET /api/options/config` (docs/frontend.md, "Enterprise mode").

use std::sync::Arc;

use openhost_plugin_api::{prelude::*, sdk::server_config::feature_flags_off};
use serde_json::{Value, json};

use crate::Enterprise;

/// `server_config` override: the SaaS configuration.
pub struct SaasConfig {
    pub enterprise: Arc<Enterprise>,
}

impl ServerConfig for SaasConfig {
    async fn config(&self) -> Result<Value, PluginError> {
        let config = &self.enterprise.config;
        Ok(json!({
            "APP_MODE": "saas",
            "GITHUB_CLIENT_ID": config.github_app().map(|app| app.client_id.as_str()),
            "APP_SLUG": config.app_slug,
            "PROVIDERS_CONFIGURED": ["github"],
            // The frontend signs in at `https://{AUTH_URL}/realms/...`, which this plugin serves.
            "AUTH_URL": config.public_url,
            "FEATURE_FLAGS": feature_flags_off(),
        }))
    }
}
