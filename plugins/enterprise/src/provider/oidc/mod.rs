//! An OpenID Connect provider (`login = "oidc"`; Keycloak is the one the product plans): discovery of its
//! endpoints, its OAuth client, and ID tokens verified against its keys ([`id_token`], with the key set cached and
//! fetched again when a token names a key it does not hold). Its sign-in routes are crate::sign_in::oidc; the
//! user is `oidc:<sub>`.

pub mod id_token;

use std::{sync::Arc, time::Instant};

use futures_util::lock::Mutex;
use oauth2::{AuthType, AuthUrl, Client, ClientId, ClientSecret, RedirectUrl, TokenUrl};
use openhost_plugin_api::{Header, Host, PluginError};
use serde::Deserialize;

use super::oauth_client::OAuthClient;
use crate::{config::OidcConfig, transport};
use id_token::{Expected, IdTokenError, KeySet, Person};

/// Where the provider sends the browser back.
pub const CALLBACK_PATH: &str = "/oauth/oidc/callback";
/// An unknown key id fetches the key set again, at most this often (a flood of such tokens costs one fetch a
/// second, not one each).
const REFETCH_AT_MOST_EVERY_MS: u128 = 1_000;
/// The largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The provider's endpoints (OpenID Connect Discovery 1.0).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// The provider this plugin signs users in with.
pub struct Oidc {
    pub config: OidcConfig,
    /// `{public_url}/oauth/oidc/callback`.
    redirect_url: String,
    discovered: Mutex<Option<Arc<Discovery>>>,
    keys: Mutex<Option<(Arc<KeySet>, Instant)>>,
}

/// The provider could not be asked.
fn unavailable(what: &str, detail: impl std::fmt::Display) -> PluginError {
    tracing::warn!("the OpenID Connect provider's {what}: {detail}");
    PluginError::http(
        502,
        "identity_provider_unavailable",
        "the sign-in provider cannot be reached; try again",
    )
}

impl Oidc {
    pub fn new(config: OidcConfig, public_url: &str) -> Oidc {
        Oidc {
            config,
            redirect_url: format!("{public_url}{CALLBACK_PATH}"),
            discovered: Mutex::new(None),
            keys: Mutex::new(None),
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        host: &Host,
        what: &str,
        url: &str,
    ) -> Result<T, PluginError> {
        let response = host
            .http(transport::request(
                "GET",
                url,
                vec![Header::new("accept", "application/json")],
                Vec::new(),
            ))
            .await
            .map_err(|e| unavailable(what, e))?;
        if response.status != 200 {
            return Err(unavailable(what, format!("HTTP {}", response.status)));
        }
        if response.body.len() > MAX_DOCUMENT_BYTES {
            return Err(unavailable(what, "the answer is too large"));
        }
        serde_json::from_slice(&response.body).map_err(|e| unavailable(what, e))
    }

    /// The provider's endpoints, discovered once (from `{issuer}/.well-known/openid-configuration`) and kept.
    pub async fn provider(&self, host: &Host) -> Result<Arc<Discovery>, PluginError> {
        let mut discovered = self.discovered.lock().await;
        if let Some(discovery) = discovered.as_ref() {
            return Ok(Arc::clone(discovery));
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let discovery: Discovery = self.get_json(host, "discovery document", &url).await?;
        // Discovery 1.0, 4.3: the document must name the issuer it was fetched for.
        if discovery.issuer.trim_end_matches('/') != self.config.issuer {
            return Err(unavailable(
                "discovery document",
                format!("it names issuer `{}`, not the configured one", discovery.issuer),
            ));
        }
        let discovery = Arc::new(discovery);
        *discovered = Some(Arc::clone(&discovery));
        Ok(discovery)
    }

    /// The OAuth client for the provider's endpoints; the secret goes in HTTP Basic, as OpenID Connect's default
    /// (`client_secret_basic`) asks.
    pub async fn client(&self, host: &Host) -> Result<OAuthClient, PluginError> {
        let provider = self.provider(host).await?;
        let invalid = |what: &str, e: oauth2::url::ParseError| unavailable(what, e);
        Ok(Client::new(ClientId::new(self.config.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.config.client_secret.clone()))
            .set_auth_uri(
                AuthUrl::new(provider.authorization_endpoint.clone())
                    .map_err(|e| invalid("authorization endpoint", e))?,
            )
            .set_token_uri(TokenUrl::new(provider.token_endpoint.clone()).map_err(|e| invalid("token endpoint", e))?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_url.clone()).map_err(|e| invalid("redirect URL", e))?)
            .set_auth_type(AuthType::BasicAuth))
    }

    /// The key set: the cached one, or fetched when there is none or (at most once a second) when it lacks the key
    /// a token names.
    async fn keys_for(&self, host: &Host, alg: &str, kid: Option<&str>) -> Result<Arc<KeySet>, PluginError> {
        let mut cached = self.keys.lock().await;
        if let Some((keys, fetched)) = cached.as_ref()
            && (keys.has(alg, kid) || fetched.elapsed().as_millis() < REFETCH_AT_MOST_EVERY_MS)
        {
            return Ok(Arc::clone(keys));
        }
        let provider = self.provider(host).await?;
        let keys: Arc<KeySet> = Arc::new(self.get_json(host, "key set", &provider.jwks_uri).await?);
        tracing::debug!(keys = keys.keys.len(), "fetched the OpenID Connect provider's keys");
        *cached = Some((Arc::clone(&keys), Instant::now()));
        Ok(keys)
    }

    /// Verifies an ID token of this sign-in: `Ok(Err(..))` is a token to refuse, `Err` a provider out of reach.
    pub async fn verify(
        &self,
        host: &Host,
        token: &str,
        nonce: &str,
        now: u64,
    ) -> Result<Result<Person, IdTokenError>, PluginError> {
        let header = match id_token::header(token) {
            Ok(header) => header,
            Err(e) => return Ok(Err(e)),
        };
        let keys = self.keys_for(host, &header.alg, header.kid.as_deref()).await?;
        let provider = self.provider(host).await?;
        Ok(id_token::verify(
            token,
            &keys,
            &Expected {
                issuer: &provider.issuer,
                client_id: &self.config.client_id,
                nonce,
                now,
            },
        ))
    }
}
