//! The API keys plugin: keys for scripts and the CLI, in the shapes of the OpenHands frontend's API-key client
//! (`frontend/src/api/api-keys.ts`). `Authorization: Bearer ohk_...` makes a request its key owner's, in
//! open-source and enterprise mode alike: the [`gate`] middleware establishes the owner's identity before any
//! sign-in gate runs. The [`routes`] create (the key is shown once), list and revoke a user's keys; the store
//! keeps SHA-256 digests, never a key ([`store`]).
//!
//! ```toml
//! [plugins.api-keys.config]
//! max_keys_per_user = 50      # default
//! max_lifetime_days = 90      # default; 0: keys without expires_at never expire
//! revoke_keys_of = []         # user ids whose keys are refused and deleted (offboarding)
//! ```

pub mod gate;
pub mod key;
pub mod policy;
pub mod record;
pub mod routes;
pub mod store;
pub mod time;

use std::sync::Arc;

use openhost_plugin_api::prelude::*;
use serde::Deserialize;

use crate::{policy::Policy, store::KeyStore};

/// `[plugins.api-keys.config]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_max_keys")]
    pub max_keys_per_user: usize,
    #[serde(default = "default_max_lifetime_days")]
    pub max_lifetime_days: u64,
    #[serde(default)]
    pub revoke_keys_of: Vec<String>,
}

fn default_max_keys() -> usize {
    50
}

fn default_max_lifetime_days() -> u64 {
    90
}

fn init(host: Host, config: Config) -> Result<Components, PluginError> {
    if config.max_keys_per_user == 0 {
        return Err(PluginError::invalid_config("`max_keys_per_user` must be more than 0"));
    }
    let keys = Arc::new(KeyStore::new(host, config.max_keys_per_user));
    let policy = Arc::new(Policy::new(config.max_lifetime_days, config.revoke_keys_of));
    Ok(Components::new()
        .middleware(gate::KeyGate {
            keys: Arc::clone(&keys),
            policy: Arc::clone(&policy),
        })
        .routes(routes::router(routes::Keys { store: keys, policy })))
}

export_plugin! {
    name: "api-keys",
    description: "API keys for scripts: Authorization: Bearer ohk_... as its owner",
    provides: [Middleware, Routes],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}
