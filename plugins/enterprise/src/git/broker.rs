//! `git_tokens = "keycloak_broker"`: the git service's GitHub token comes from Keycloak's identity broker,
//! `GET {issuer}/broker/{alias}/token` with the user's Keycloak access token, which answers the token GitHub
//! gave Keycloak when the user linked GitHub there (with "Store tokens" on). The Keycloak tokens are the ones
//! the sign-in stored; they are refreshed as the GitHub App's are (crate::tokens: single-flight, across hosts),
//! and a 401 from the broker forces one refresh.

use openhost_github::{GitData, GitError, GitQuery, GithubAccess};
use openhost_plugin_api::{Header, PluginError};

use crate::{Enterprise, config::SignIn, transport};

/// How the git service reaches GitHub with a token the broker hands out.
pub struct BrokerAccess {
    enterprise: std::sync::Arc<Enterprise>,
    /// `{issuer}/broker/{alias}/token`.
    url: String,
}

impl BrokerAccess {
    /// The broker of the OpenID Connect provider users sign in with; `None` for any other sign-in.
    pub fn new(enterprise: std::sync::Arc<Enterprise>) -> Option<BrokerAccess> {
        let SignIn::Oidc(oidc) = &enterprise.config.sign_in else {
            return None;
        };
        let url = format!("{}/broker/{}/token", oidc.issuer, oidc.broker_alias);
        Some(BrokerAccess { enterprise, url })
    }

    /// The user's GitHub token from the broker; `None` if the broker refused `keycloak_token` (401).
    async fn broker_token(&self, keycloak_token: &str) -> Result<Option<String>, PluginError> {
        let response = self
            .enterprise
            .host
            .http(transport::request(
                "GET",
                &self.url,
                vec![Header::new("authorization", &format!("Bearer {keycloak_token}"))],
                Vec::new(),
            ))
            .await
            .map_err(|e| {
                tracing::warn!("Keycloak's broker cannot be reached: {e}");
                PluginError::http(
                    502,
                    "identity_provider_unavailable",
                    "the sign-in provider cannot be reached",
                )
            })?;
        match response.status {
            200 => token_from_answer(&response.body).map(Some).ok_or_else(|| {
                PluginError::http(
                    502,
                    "identity_provider_unavailable",
                    "the broker answered without a token",
                )
            }),
            401 => Ok(None),
            status @ (400 | 403 | 404) => {
                tracing::info!(status, "the broker holds no GitHub token for this user");
                Err(PluginError::http(
                    403,
                    "git_provider_not_linked",
                    "the sign-in provider holds no GitHub token for you: link GitHub in its account console",
                ))
            }
            status => {
                tracing::warn!(status, "Keycloak's broker failed");
                Err(PluginError::http(
                    502,
                    "identity_provider_unavailable",
                    "the sign-in provider failed",
                ))
            }
        }
    }
}

impl GithubAccess for BrokerAccess {
    async fn get(&self, user_id: &str, query: &GitQuery) -> Result<GitData, PluginError> {
        let enterprise = &self.enterprise;
        let keycloak = enterprise.access_token(user_id, None).await?;
        let github = match self.broker_token(&keycloak).await? {
            Some(token) => token,
            None => {
                // The broker refused the access token: refresh it once and ask again.
                let keycloak = enterprise.access_token(user_id, Some(&keycloak)).await?;
                self.broker_token(&keycloak).await?.ok_or_else(|| {
                    PluginError::http(
                        401,
                        "reauth_required",
                        "the sign-in provider refused the session; sign in again",
                    )
                })?
            }
        };
        match super::get(enterprise, &github, query).await {
            Err(GitError::TokenInvalid) => Err(PluginError::http(
                401,
                "git_provider_token_invalid",
                "GitHub refused the token the sign-in provider holds; link GitHub again in its account console",
            )),
            result => Ok(result?),
        }
    }

    fn manages_tokens(&self) -> bool {
        true
    }
}

/// The token in the broker's answer: Keycloak hands back what GitHub sent it, form-encoded
/// (`access_token=...&scope=...`), or JSON for providers that answer JSON.
pub fn token_from_answer(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        return json.get("access_token")?.as_str().map(str::to_owned);
    }
    form_urlencoded::parse(body)
        .find(|(name, _)| name == "access_token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_in_either_form() {
        assert_eq!(
            token_from_answer(b"access_token=gho_x&scope=repo&token_type=bearer").as_deref(),
            Some("gho_x")
        );
        assert_eq!(
            token_from_answer(br#"{"access_token": "gho_y"}"#).as_deref(),
            Some("gho_y")
        );
        assert_eq!(token_from_answer(b"error=nope"), None);
    }
}
