//! What every component of the plugin shares: its config, keys, OAuth client(s), token store and sessions.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use openhost_plugin_api::{Host, PluginError};

use crate::{
    config::EnterpriseConfig,
    keys::Keyring,
    oauth_client::{OAuthClient, TokenIssuer},
    oidc::Oidc,
    session::{self, Sessions},
    tokens::TokenStore,
};

/// Everything the plugin's components share.
pub struct Enterprise {
    pub host: Host,
    pub config: EnterpriseConfig,
    pub keys: Arc<Keyring>,
    /// The GitHub App's client (`login = "github"`).
    pub oauth: OAuthClient,
    /// The OpenID Connect provider (`login = "oidc"`).
    pub oidc: Option<Oidc>,
    pub tokens: TokenStore,
    pub sessions: Sessions,
    pub(crate) refresh_locks: Mutex<HashMap<String, Arc<futures_util::lock::Mutex<()>>>>,
}

impl Enterprise {
    /// Ends `session` server-side (a copied cookie dies with it); the user's tokens go with their last session.
    pub async fn end_session(&self, session: &session::Session) -> Result<(), PluginError> {
        let uid = session.identity.user_id.as_str();
        if self.sessions.revoke(&session.sid, uid).await? {
            self.forget_tokens(uid).await?;
        }
        Ok(())
    }

    /// Who issues the sign-in's tokens.
    pub fn token_issuer(&self) -> TokenIssuer {
        match self.oidc {
            Some(_) => TokenIssuer::IdentityProvider,
            None => TokenIssuer::Github,
        }
    }

    /// The OAuth client of the sign-in's provider, which also refreshes its tokens.
    pub async fn login_client(&self) -> Result<OAuthClient, PluginError> {
        match &self.oidc {
            Some(oidc) => oidc.client(&self.host).await,
            None => Ok(self.oauth.clone()),
        }
    }
}
