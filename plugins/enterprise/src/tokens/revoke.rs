//! Revoking a GitHub App user token at GitHub (`DELETE /applications/{client_id}/token`, authenticated with the
//! app's credentials), so that a copy taken while it was stored is worthless (docs/security.md, "Sessions"). Best
//! effort with the transport's deadline: GitHub being slow or down must not hold up a sign-out, and the tokens are
//! gone from this server either way. Tokens of an OpenID Connect sign-in are the provider's: they expire there, and
//! no revocation is built for them.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use openhost_plugin_api::{Header, Host};

use crate::{config::GithubApp, transport};

/// The GitHub App's token revocation.
pub struct Revocation {
    host: Host,
    /// `{github_api_url}/applications/{client_id}/token`.
    url: String,
    /// `Basic base64(client_id:client_secret)`.
    authorization: String,
}

impl Revocation {
    pub fn new(host: Host, app: &GithubApp, github_api_url: &str) -> Revocation {
        let credentials = STANDARD.encode(format!("{}:{}", app.client_id, app.client_secret));
        Revocation {
            host,
            url: format!("{github_api_url}/applications/{}/token", app.client_id),
            authorization: format!("Basic {credentials}"),
        }
    }

    /// Revokes `access_token` of `uid`. The outcome is logged, never returned.
    pub async fn revoke(&self, uid: &str, access_token: &str) {
        let body = serde_json::json!({"access_token": access_token}).to_string();
        let headers = vec![
            Header::new("authorization", &self.authorization),
            Header::new("accept", "application/vnd.github+json"),
            Header::new("content-type", "application/json"),
            Header::new("x-github-api-version", "2022-11-28"),
        ];
        let request = transport::request("DELETE", &self.url, headers, body.into_bytes());
        match self.host.http(request).await {
            Ok(response) if response.status == 204 => tracing::info!(user = uid, "revoked the GitHub token"),
            // 404: GitHub no longer knows the token (it expired, or was revoked there).
            Ok(response) if response.status == 404 => {}
            Ok(response) => tracing::warn!(user = uid, status = response.status, "GitHub did not revoke the token"),
            Err(error) => tracing::warn!(user = uid, "revoking the GitHub token failed: {error}"),
        }
    }
}
