//! feature-flags without a server (openhost-plugin-test): it changes `FEATURE_FLAGS` and nothing else of the
//! configuration it decorates.

use openhost_plugin_api::prelude::*;
use openhost_plugin_test::{TestHost, block_on, start};
use serde_json::{Value, json};

/// The configuration the decorated implementation answers.
struct Underneath;

impl ServerConfig for Underneath {
    async fn config(&self) -> Result<Value, PluginError> {
        Ok(json!({"APP_MODE": "oss", "FEATURE_FLAGS": {"ENABLE_BILLING": false, "HIDE_LLM_SETTINGS": false}}))
    }
}

#[test]
fn flags_are_set_over_the_decorated_configuration() {
    let config = json!({"flags": {"ENABLE_BILLING": true, "NEW_FLAG": "on"}});
    let plugin = start!(TestHost::new(), config).expect("starts");
    let decorated = plugin.decorate_server_config(Underneath).expect("decorates");
    let answered = block_on(decorated.config()).expect("answers");
    assert_eq!(
        answered,
        json!({"APP_MODE": "oss", "FEATURE_FLAGS": {
            "ENABLE_BILLING": true, "HIDE_LLM_SETTINGS": false, "NEW_FLAG": "on"
        }})
    );
}

#[test]
fn an_empty_flag_name_is_refused_at_start() {
    let refused = start!(TestHost::new(), json!({"flags": {"": true}}))
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("1 to 64 characters"), "{refused}");
}
