//! The `user_auth` override: who a request is for is whoever its session cookie names, and signing out ends
//! that session here (and the user's tokens with their last one).

use std::sync::Arc;

use openhost_plugin_api::prelude::*;

use crate::{Enterprise, session::SessionError};

/// `user_auth` override: the identity of a valid session cookie.
pub struct SessionAuth {
    pub enterprise: Arc<Enterprise>,
}

impl UserAuth for SessionAuth {
    async fn identify(&self, request: &RequestView<'_>) -> Result<Option<Identity>, PluginError> {
        match self.enterprise.sessions.authenticate_request(request).await {
            Ok(session) => Ok(Some(session.identity)),
            Err(SessionError::Store(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }

    /// Revokes the session server-side (a copied cookie dies with it), deletes the user's tokens when it was
    /// their last session, and clears the cookie.
    async fn sign_out(
        &self,
        request: &RequestView<'_>,
        identity: &IdentityView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        let sessions = &self.enterprise.sessions;
        let uid = identity.user_id();
        if let Ok(session) = sessions.authenticate_request(request).await
            && session.identity.user_id.as_str() == uid
        {
            self.enterprise.end_session(&session).await?;
        }
        tracing::info!(user = %uid, "signed out");
        Ok(vec![HeaderChange::Append(Header::new(
            "set-cookie",
            &sessions.cookie_header(None),
        ))])
    }
}
