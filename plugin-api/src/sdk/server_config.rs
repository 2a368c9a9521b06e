//! What every `server_config` shares: the JSON of `GET /api/options/config` is the OpenHands frontend's, and the
//! feature flags it reads are named here once, so that the host's answer and a plugin's override agree.

use serde_json::{json, Value};

/// `FEATURE_FLAGS` with every flag the frontend reads switched off: what a `server_config` starts from before it
/// turns one on (the feature-flags example decorates the active one instead).
pub fn feature_flags_off() -> Value {
    json!({
        "ENABLE_BILLING": false,
        "HIDE_LLM_SETTINGS": false,
        "ENABLE_JIRA": false,
        "ENABLE_JIRA_DC": false,
        "ENABLE_LINEAR": false,
    })
}
