//! Whoever signs users in and issues their tokens: the GitHub App, or an OpenID Connect provider ([`oidc`]).
//! Both are reached through one OAuth client over the host's HTTP service ([`oauth_client`]); the sign-in routes
//! (crate::sign_in) start and finish sign-ins with it, and the token refresh (crate::tokens) renews what it
//! issued.

pub mod oauth_client;
pub mod oidc;

use oauth2::{AuthType, AuthUrl, Client, ClientId, ClientSecret, RedirectUrl, TokenUrl};
use openhost_plugin_api::{Host, PluginError};

use crate::config::{EnterpriseConfig, SignIn};
use oauth_client::{OAuthClient, TokenIssuer};
use oidc::Oidc;

/// Where a GitHub App's sign-in comes back to.
pub const GITHUB_CALLBACK_PATH: &str = "/oauth/github/callback";

/// The sign-in's provider.
// One per plugin, behind an `Arc`: the variants' sizes are paid once.
#[allow(clippy::large_enum_variant)]
pub enum Provider {
    /// The GitHub App's OAuth client.
    Github(OAuthClient),
    /// The OpenID Connect provider, its endpoints discovered when first needed.
    Oidc(Oidc),
}

impl Provider {
    /// The provider the config names. The GitHub App's endpoints are known now; an OpenID Connect provider's are
    /// discovered at the first sign-in.
    pub fn new(config: &EnterpriseConfig) -> Result<Provider, String> {
        Ok(match &config.sign_in {
            SignIn::Github(app) => {
                let web = &config.github_web_url;
                let client = Client::new(ClientId::new(app.client_id.clone()))
                    .set_client_secret(ClientSecret::new(app.client_secret.clone()))
                    .set_auth_uri(
                        AuthUrl::new(format!("{web}/login/oauth/authorize"))
                            .map_err(|e| format!("github_web_url: {e}"))?,
                    )
                    .set_token_uri(
                        TokenUrl::new(format!("{web}/login/oauth/access_token"))
                            .map_err(|e| format!("github_web_url: {e}"))?,
                    )
                    .set_redirect_uri(
                        RedirectUrl::new(format!("{}{GITHUB_CALLBACK_PATH}", config.public_url))
                            .map_err(|e| format!("public_url: {e}"))?,
                    )
                    // The secret goes in the request body, as GitHub expects.
                    .set_auth_type(AuthType::RequestBody);
                Provider::Github(client)
            }
            SignIn::Oidc(oidc) => Provider::Oidc(Oidc::new(oidc.clone(), &config.public_url)),
        })
    }

    /// The OAuth client that exchanges the sign-in's codes and refreshes its tokens.
    pub async fn client(&self, host: &Host) -> Result<OAuthClient, PluginError> {
        match self {
            Provider::Github(client) => Ok(client.clone()),
            Provider::Oidc(oidc) => oidc.client(host).await,
        }
    }

    /// Who issues the sign-in's tokens.
    pub fn issuer(&self) -> TokenIssuer {
        match self {
            Provider::Github(_) => TokenIssuer::Github,
            Provider::Oidc(_) => TokenIssuer::IdentityProvider,
        }
    }

    /// The OpenID Connect provider, when it signs users in.
    pub fn oidc(&self) -> Option<&Oidc> {
        match self {
            Provider::Github(_) => None,
            Provider::Oidc(oidc) => Some(oidc),
        }
    }
}
