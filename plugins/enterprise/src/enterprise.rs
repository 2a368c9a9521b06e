//! What every component of the plugin shares (its config, keys, sign-in provider, tokens and sessions), and the
//! two ways a user's sign-in ends: they sign out, or their tokens end and they must sign in again.

use std::sync::Arc;

use openhost_plugin_api::{Header, Host, PluginError};

use crate::{
    config::EnterpriseConfig,
    keys::Keyring,
    provider::Provider,
    session::{Session, Sessions},
    tokens::{AccessError, Tokens},
};

/// Everything the plugin's components share.
pub struct Enterprise {
    pub host: Host,
    pub config: EnterpriseConfig,
    pub keys: Arc<Keyring>,
    pub provider: Arc<Provider>,
    pub tokens: Tokens,
    pub sessions: Sessions,
}

impl Enterprise {
    /// Ends `session` server-side (a copied cookie dies with it); the user's tokens go with their last session.
    pub async fn end_session(&self, session: &Session) -> Result<(), PluginError> {
        let uid = session.identity.user_id.as_str();
        if self.sessions.revoke(&session.sid, uid).await? {
            self.tokens.forget(uid).await?;
        }
        Ok(())
    }

    /// A usable access token of `uid`'s sign-in (see [`Tokens::access_token`]); when their tokens have ended,
    /// so have their sessions, and the answer tells the client to sign in again.
    pub async fn access_token(&self, uid: &str, rejected: Option<&str>) -> Result<String, PluginError> {
        match self.tokens.access_token(uid, rejected).await {
            Ok(token) => Ok(token),
            Err(AccessError::Failed(error)) => Err(error),
            Err(AccessError::Ended) => Err(self.sign_in_again(uid).await),
        }
    }

    /// Ends the user's tokens and sessions; the answer (401 `reauth_required`) clears the session cookie.
    async fn sign_in_again(&self, uid: &str) -> PluginError {
        if let Err(e) = self.tokens.forget(uid).await {
            tracing::error!(user = uid, "deleting tokens failed: {e}");
        }
        if let Err(e) = self.sessions.revoke_all(uid).await {
            tracing::error!(user = uid, "ending sessions failed: {e}");
        }
        PluginError::Http {
            status: 401,
            code: "reauth_required".into(),
            message: "GitHub access has ended; sign in again".into(),
            headers: vec![Header::new("set-cookie", &self.sessions.cookie_header(None))].into(),
        }
    }
}
