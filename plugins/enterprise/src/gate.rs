//! The session gate: the middleware that requires a valid session on every route the host does not mark public,
//! so that a route the host adds later is protected without this plugin knowing it.

use std::sync::Arc;

use openhost_plugin_api::prelude::*;

use crate::{Enterprise, session::SessionError};

/// Requires a valid session on every route the host does not mark public, establishes the identity and re-issues
/// the cookie past half-life.
pub struct SessionGate {
    pub enterprise: Arc<Enterprise>,
}

#[middleware]
impl Middleware for SessionGate {
    fn order(&self) -> i32 {
        // After CORS, so its 401s carry CORS headers.
        order::AUTHENTICATION
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        // The host marks the routes that need no sign-in; every other request needs a session. No path is
        // matched here, so a route the host adds later is protected without this plugin knowing it. A request an
        // earlier middleware already identified (an API key, plugins/api-keys) is that user's.
        if request.method() == "OPTIONS" || request.is_public() || request.identity().is_some() {
            return Ok(MiddlewareAction::next());
        }
        let sessions = &self.enterprise.sessions;
        let session = match sessions.authenticate_request(request).await {
            Ok(session) => session,
            Err(SessionError::Store(error)) => return Err(error),
            Err(error) => {
                let (code, message) = error.code().unwrap_or(("invalid_session", "sign in again"));
                let mut response = Response::error(401, code, message);
                if !matches!(error, SessionError::NoCredentials) {
                    response
                        .headers
                        .push(Header::new("set-cookie", &sessions.cookie_header(None)));
                }
                return Ok(MiddlewareAction::Respond(response));
            }
        };
        let action = MiddlewareAction::next().with_identity(session.identity);
        Ok(match session.reissued {
            Some(cookie) => action.with_header("set-cookie", &cookie),
            None => action,
        })
    }
}
