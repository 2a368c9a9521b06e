//! The API keys plugin: keys for scripts and the CLI, in the shapes of the OpenHands frontend's API-key client
//! (`frontend/src/api/api-keys.ts`). `Authorization: Bearer ohk_...` makes a request its key owner's, in
//! open-source and enterprise mode alike: the [`gate`] middleware establishes the owner's identity before any
//! sign-in gate runs. The [`routes`] create (the key is shown once), list and revoke a user's keys; the store
//! keeps SHA-256 digests, never a key ([`store`]).
//!
//! ```toml
//! [plugins.api-keys.config]
//! max_keys_per_user = 50      # default
//! ```

pub mod gate;
pub mod key;
pub mod record;
pub mod routes;
pub mod store;
pub mod time;

use std::sync::Arc;

use openhost_plugin_api::prelude::*;
use serde::Deserialize;

use crate::store::KeyStore;

/// `[plugins.api-keys.config]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_max_keys")]
    pub max_keys_per_user: usize,
}

fn default_max_keys() -> usize {
    50
}

fn init(host: Host, config: Config) -> Result<Components, PluginError> {
    if config.max_keys_per_user == 0 {
        return Err(PluginError::invalid_config("`max_keys_per_user` must be more than 0"));
    }
    let keys = Arc::new(KeyStore::new(host, config.max_keys_per_user));
    Ok(Components::new()
        .middleware(gate::KeyGate {
            keys: Arc::clone(&keys),
        })
        .routes(routes::router(keys)))
}

export_plugin! {
    name: "api-keys",
    description: "API keys for scripts: Authorization: Bearer ohk_... as its owner",
    provides: [Middleware, Routes],
    init: init,
}
