//! The enterprise plugin: turns the single-user host into a multi-user SaaS server, only by overriding and
//! stacking onto host slots (DESIGN.md section 7).
//!
//! This is its foundation: the manifest and an `init` that validates its configuration. It provides no slot yet;
//! login, sessions, the token store and the SaaS git service and config are added on top of it.

use openhost_plugin_api::prelude::*;

/// Every key `[plugins.enterprise.config]` may hold (DESIGN.md section 7).
const KNOWN_KEYS: &[&str] = &[
    "github_client_id",
    "github_client_secret",
    "public_url",
    "secret_key",
    "previous_secret_keys",
    "github_web_url",
    "github_api_url",
    "app_slug",
    "session_ttl_secs",
    "refresh_margin_secs",
];

fn init(_host: Host, config: serde_json::Value) -> Result<Components, PluginError> {
    let serde_json::Value::Object(table) = config else {
        return Err(PluginError::invalid_config("the config must be a table"));
    };
    if let Some(unknown) = table.keys().find(|key| !KNOWN_KEYS.contains(&key.as_str())) {
        return Err(PluginError::invalid_config(format!(
            "unknown key `{unknown}` (known: {})",
            KNOWN_KEYS.join(", ")
        )));
    }
    tracing::info!("enterprise plugin initialised");
    Ok(Components::new())
}

export_plugin! {
    name: "enterprise",
    description: "GitHub App OAuth login, signed sessions, rotating tokens and SaaS config",
    provides: [],
    init: init,
}
