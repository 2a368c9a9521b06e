//! `feature-flags`: adds or flips entries of `FEATURE_FLAGS` in `GET /api/options/config`.
//!
//! It *decorates* `server_config` rather than overriding it: it asks the active implementation (the host's, or
//! the enterprise plugin's) for its JSON and changes only `FEATURE_FLAGS`, so `APP_MODE` and everything else stay
//! whatever the rest of the server says.

use std::collections::BTreeMap;

use openhost_plugin_api::prelude::*;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Flag name -> value (any JSON value; usually a boolean).
    #[serde(default)]
    flags: BTreeMap<String, Value>,
}

struct FeatureFlags {
    inner: ServerConfigHandle,
    flags: BTreeMap<String, Value>,
}

impl ServerConfig for FeatureFlags {
    async fn config(&self) -> Result<Value, PluginError> {
        let mut config = self.inner.config().await?;
        let Some(object) = config.as_object_mut() else {
            return Err(PluginError::other("the server config is not a JSON object"));
        };
        let flags = object
            .entry("FEATURE_FLAGS")
            .or_insert_with(|| Value::Object(Default::default()));
        if !flags.is_object() {
            *flags = Value::Object(Default::default());
        }
        if let Some(flags) = flags.as_object_mut() {
            flags.extend(self.flags.iter().map(|(name, value)| (name.clone(), value.clone())));
        }
        Ok(config)
    }
}

fn init(_host: Host, config: Config) -> Result<Components, PluginError> {
    if let Some(bad) = config.flags.keys().find(|name| name.is_empty() || name.len() > 64) {
        return Err(PluginError::invalid_config(format!(
            "flag name `{bad}` must be 1 to 64 characters"
        )));
    }
    tracing::info!(flags = config.flags.len(), "feature flags ready");
    let flags = config.flags;
    Ok(Components::new().decorate_server_config(move |inner| FeatureFlags {
        inner,
        flags: flags.clone(),
    }))
}

export_plugin! {
    name: "feature-flags",
    description: "Adds or flips FEATURE_FLAGS in the server config",
    provides: [],
    decorates: [ServerConfig],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}

#[cfg(test)]
mod tests;
