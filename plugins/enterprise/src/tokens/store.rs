//! The token store: each user's GitHub access and refresh tokens with their expiries, sealed with AES-256-GCM
//! (user id as associated data, so a record cannot be moved to another user) in the plugin's KV namespace under
//! `tokens/<user id>`, flushed before anything that depends on it is answered. No plaintext token is stored.

use std::sync::Arc;

use oauth2::TokenResponse as _;
use openhost_plugin_api::{Host, PluginError};
use serde::{Deserialize, Serialize};

use crate::{clock::now, keys::Keyring, provider::oauth_client::TokenResponse};

/// A user's tokens. Times are Unix seconds; `None` means "does not expire".
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub access_token: String,
    pub access_expires_at: Option<u64>,
    pub refresh_token: Option<String>,
    pub refresh_expires_at: Option<u64>,
}

impl StoredTokens {
    /// What the token endpoint gave, as stored.
    pub fn from_response(response: &TokenResponse) -> StoredTokens {
        let issued = now();
        StoredTokens {
            access_token: response.access_token().secret().clone(),
            access_expires_at: response.expires_in().map(|d| issued + d.as_secs()),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            refresh_expires_at: response.extra_fields().refresh_token_expires_in.map(|s| issued + s),
        }
    }
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

fn key(user_id: &str) -> Vec<u8> {
    format!("tokens/{user_id}").into_bytes()
}

#[derive(Clone)]
pub struct TokenStore {
    host: Host,
    keys: Arc<Keyring>,
}

impl TokenStore {
    pub fn new(host: Host, keys: Arc<Keyring>) -> TokenStore {
        TokenStore { host, keys }
    }

    /// The user's tokens. A record no key of the ring opens (its key was retired) counts as absent: the user
    /// signs in again.
    pub async fn load(&self, user_id: &str) -> Result<Option<StoredTokens>, PluginError> {
        let Some(sealed) = self.host.kv_get(&key(user_id)).await? else {
            return Ok(None);
        };
        let Some(plain) = self.keys.open(&sealed, user_id.as_bytes()) else {
            tracing::warn!(
                user = user_id,
                "stored tokens cannot be decrypted with any configured key; ignoring them"
            );
            return Ok(None);
        };
        Ok(serde_json::from_slice(&plain).ok())
    }

    /// Seals, stores and flushes.
    pub async fn save(&self, user_id: &str, tokens: &StoredTokens) -> Result<(), PluginError> {
        let plain = serde_json::to_vec(tokens).map_err(|e| PluginError::other(e.to_string()))?;
        let sealed = self
            .keys
            .seal(&plain, user_id.as_bytes())
            .map_err(|_| PluginError::other("token encryption failed"))?;
        self.host.kv_put(&key(user_id), &sealed).await?;
        self.host.kv_flush().await
    }

    /// Deletes and flushes.
    pub async fn delete(&self, user_id: &str) -> Result<(), PluginError> {
        self.host.kv_delete(&key(user_id)).await?;
        self.host.kv_flush().await
    }
}
