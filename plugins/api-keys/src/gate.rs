//! The middleware: a request with `Authorization: Bearer ohk_...` is its key owner's. It runs just before the
//! sign-in gates (`order::AUTHENTICATION - 10`), so that an enterprise host's session gate finds the identity
//! established and lets the request through, and so that the host's routes answer as for a signed-in owner.
//!
//! An unknown, revoked or expired key is a 401 `invalid_api_key` (never a fallback to no key: a script with a
//! dead key must learn it); a `read` key on an unsafe method is a 403 `insufficient_scope`.

use std::sync::Arc;

use openhost_plugin_api::prelude::*;

use crate::{key::from_authorization, policy::Policy, store::KeyStore, time::now};

pub struct KeyGate {
    pub keys: Arc<KeyStore>,
    pub policy: Arc<Policy>,
}

/// 401 for a key that opens nothing, with the challenge RFC 6750 asks for.
fn invalid_key() -> MiddlewareAction {
    MiddlewareAction::respond(
        Response::error(401, "invalid_api_key", "this API key is unknown, revoked or expired")
            .with_header("www-authenticate", "Bearer error=\"invalid_token\""),
    )
}

#[middleware]
impl Middleware for KeyGate {
    fn order(&self) -> i32 {
        order::AUTHENTICATION - 10
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let Some(secret) = request.header("authorization").and_then(from_authorization) else {
            return Ok(MiddlewareAction::next());
        };
        let Some((digest, record)) = self.keys.find(secret).await? else {
            return Ok(invalid_key());
        };
        if self.policy.is_revoked(&record.owner.user_id) {
            // Offboarded: what is presented is deleted too, so it stays dead if the user is listed no more.
            if let Err(e) = self.keys.revoke(&record.owner.user_id, &record.id).await {
                tracing::warn!("deleting a revoked user's API key failed: {e}");
            }
            return Ok(invalid_key());
        }
        if self.policy.has_ended(&record, now()) {
            return Ok(invalid_key());
        }
        if !record.scope.allows(request.method()) {
            return Ok(MiddlewareAction::respond(
                Response::error(
                    403,
                    "insufficient_scope",
                    &format!(
                        "this API key may only read; {} needs a key with scope \"full\"",
                        request.method()
                    ),
                )
                .with_header("www-authenticate", "Bearer error=\"insufficient_scope\""),
            ));
        }
        if let Err(e) = self.keys.touch(&digest, &record).await {
            // The request is still its owner's; only the "last used" time lags.
            tracing::warn!("noting an API key's use failed: {e}");
        }
        Ok(MiddlewareAction::next().with_identity(record.identity()))
    }
}
