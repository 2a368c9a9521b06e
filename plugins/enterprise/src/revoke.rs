//! Forgetting a user's GitHub tokens (at the last sign-out, when GitHub ends the grant, when a new sign-in
//! replaces them): deleted from the store, then revoked at GitHub (`DELETE /applications/
//! {client_id}/token`, authenticated with the app's credentials), so that a copy taken while they were stored
//! is worthless (docs/security.md, "Sessions"). The revocation is best effort with a short deadline: GitHub being
//! slow or down must not hold up a sign-out, and the tokens are gone from this server either way.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use openhost_plugin_api::{Header, PluginError};

use crate::{Enterprise, tokens::StoredTokens, transport};

impl Enterprise {
    /// Deletes the user's stored tokens and revokes the access token at GitHub.
    pub async fn forget_tokens(&self, uid: &str) -> Result<(), PluginError> {
        let stored = self.tokens.load(uid).await?;
        self.tokens.delete(uid).await?;
        if let Some(tokens) = stored {
            self.revoke_at_github(uid, &tokens.access_token).await;
        }
        Ok(())
    }

    /// Stores the tokens of a new sign-in; the ones it replaces are revoked at GitHub, since nothing here will use
    /// them again.
    pub async fn replace_tokens(&self, uid: &str, tokens: &StoredTokens) -> Result<(), PluginError> {
        let replaced = self.tokens.load(uid).await?;
        self.tokens.save(uid, tokens).await?;
        if let Some(old) = replaced.filter(|old| old.access_token != tokens.access_token) {
            self.revoke_at_github(uid, &old.access_token).await;
        }
        Ok(())
    }

    /// Best effort: the outcome is logged, never returned. Tokens of an OpenID Connect sign-in are the
    /// provider's, not GitHub's: they expire there.
    async fn revoke_at_github(&self, uid: &str, access_token: &str) {
        if self.oidc.is_some() {
            return;
        }
        let config = &self.config;
        let credentials = STANDARD.encode(format!("{}:{}", config.github_client_id, config.github_client_secret));
        let body = serde_json::json!({"access_token": access_token}).to_string();
        let url = format!(
            "{}/applications/{}/token",
            config.github_api_url, config.github_client_id
        );
        let headers = vec![
            Header::new("authorization", &format!("Basic {credentials}")),
            Header::new("accept", "application/vnd.github+json"),
            Header::new("content-type", "application/json"),
            Header::new("x-github-api-version", "2022-11-28"),
        ];
        let request = transport::request("DELETE", &url, headers, body.into_bytes());
        match self.host.http(request).await {
            Ok(response) if response.status == 204 => tracing::info!(user = uid, "revoked the GitHub token"),
            // 404: GitHub no longer knows the token (it expired, or was revoked there).
            Ok(response) if response.status == 404 => {}
            Ok(response) => tracing::warn!(user = uid, status = response.status, "GitHub did not revoke the token"),
            Err(error) => tracing::warn!(user = uid, "revoking the GitHub token failed: {error}"),
        }
    }
}
