//! What the store keeps about a key, and how the API shows it.

use openhost_plugin_api::{Identity, IdentityView};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::time::to_rfc3339;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Safe methods only (`GET`, `HEAD`, `OPTIONS`).
    Read,
    /// Everything its owner may do, except managing API keys.
    Full,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "full" => Some(Scope::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Full => "full",
        }
    }

    /// Whether a request with `method` is within this scope.
    pub fn allows(self, method: &str) -> bool {
        self == Scope::Full || matches!(method, "GET" | "HEAD" | "OPTIONS")
    }
}

/// Whose a key is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owner {
    pub user_id: String,
    pub login: String,
}

impl Owner {
    pub fn of(identity: &IdentityView<'_>) -> Owner {
        Owner {
            user_id: identity.user_id().to_owned(),
            login: identity.login().to_owned(),
        }
    }
}

/// The kind of sign-in a key's requests carry (`IdentityView::auth_kind`): routes that must not be reached with a
/// key (managing keys) look for it.
pub const AUTH_KIND: &str = "api_key";

/// A stored key: everything but the key itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scope: Scope,
    pub owner: Owner,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    pub expires_at: Option<u64>,
}

impl KeyRecord {
    /// Who a request with this key is for.
    pub fn identity(&self) -> Identity {
        Identity::new(&self.owner.user_id, &self.owner.login, AUTH_KIND)
    }

    /// The API's form (`GET /api/keys`): without the key; `expires_at` is `ends_at`, the end the operator's
    /// policy gives the key (`Policy::ends_at`).
    pub fn to_json(&self, ends_at: Option<u64>) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scope": self.scope.as_str(),
            "created_at": to_rfc3339(self.created_at),
            "last_used_at": self.last_used_at.map(to_rfc3339),
            "expires_at": ends_at.map(to_rfc3339),
        })
    }
}
