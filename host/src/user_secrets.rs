//! The user's own secrets (`/api/secrets`): API keys of other services that the user keeps for their agents.
//! A record of their own, apart from the settings, so that keeping a secret does not make up settings for a
//! user who has none (the web frontend shows its first-run setup on a 404 from `GET /api/settings`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::settings::Secret;

/// A secret and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomSecret {
    pub value: Secret,
    #[serde(default)]
    pub description: String,
}

/// One user's secrets, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSecrets {
    pub custom_secrets: BTreeMap<String, CustomSecret>,
}
