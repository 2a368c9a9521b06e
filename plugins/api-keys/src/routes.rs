//! `POST /api/keys`, `GET /api/keys`, `DELETE /api/keys/{id}`: a signed-in user's keys. A request made with an
//! API key cannot manage keys (a leaked key must not mint more): 403 `insufficient_scope`.

use std::sync::Arc;

use openhost_plugin_api::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::{
    policy::{Policy, Refusal},
    record::{AUTH_KIND, Owner, Scope},
    store::{CreateError, KeyStore},
    time::{now, parse_rfc3339},
};

/// The longest name a key may have, in characters.
const MAX_NAME_CHARS: usize = 100;

/// `POST /api/keys`'s body.
#[derive(Debug, Deserialize)]
struct CreateBody {
    name: Option<String>,
    expires_at: Option<String>,
    scope: Option<String>,
}

/// What the routes share: the keys and the policy the middleware also holds.
pub struct Keys {
    pub store: Arc<KeyStore>,
    pub policy: Arc<Policy>,
}

pub fn router(keys: Keys) -> Router<Keys> {
    Router::with_state(keys)
        .post("/api/keys", create)
        .get("/api/keys", list)
        .delete("/api/keys/{id}", revoke)
}

/// Who may manage keys: a signed-in user, not a key.
fn manager(request: &Request) -> Result<Identity, PluginError> {
    let identity = request
        .identity
        .clone()
        .ok_or_else(|| PluginError::http(401, "not_authenticated", "sign in to manage API keys"))?;
    if identity.auth_kind.as_str() == AUTH_KIND {
        return Err(PluginError::http(
            403,
            "insufficient_scope",
            "an API key cannot manage API keys; sign in",
        ));
    }
    Ok(identity)
}

fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::http(400, "invalid_request", message)
}

async fn create(keys: &Keys, request: Request) -> Result<Response, PluginError> {
    let Keys { store, policy } = keys;
    let identity = manager(&request)?;
    let body: CreateBody = request.json()?;
    let name = body.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if name.is_empty() {
        return Err(invalid("`name` is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`name` must be at most {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    let scope = match body.scope.as_deref() {
        None => Scope::Full,
        Some(text) => Scope::parse(text).ok_or_else(|| invalid("`scope` must be \"read\" or \"full\""))?,
    };
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(text) => {
            let at = parse_rfc3339(text)
                .ok_or_else(|| invalid("`expires_at` must be an RFC 3339 time, such as 2027-01-31T00:00:00Z"))?;
            if at <= now() {
                return Err(invalid("`expires_at` is in the past"));
            }
            Some(at)
        }
    };
    let owner = Owner::of(&identity.as_view());
    let expires_at = policy
        .expiry_for(&owner.user_id, now(), expires_at)
        .map_err(|refusal| match refusal {
            Refusal::TooLong(_) => invalid(refusal.to_string()),
            Refusal::Revoked => PluginError::http(403, "api_keys_revoked", refusal.to_string()),
        })?;
    let (record, secret) = match store.create(owner, name, scope, expires_at).await {
        Ok(made) => made,
        Err(CreateError::TooMany(n)) => {
            return Err(PluginError::http(
                409,
                "too_many_api_keys",
                CreateError::TooMany(n).to_string(),
            ));
        }
        Err(CreateError::Busy) => {
            return Err(PluginError::http(503, "api_keys_busy", CreateError::Busy.to_string()));
        }
        Err(CreateError::Plugin(e)) => return Err(e),
    };
    tracing::info!(user = %record.owner.user_id, key = %record.id, scope = record.scope.as_str(), "API key created");
    let mut json = record.to_json(policy.ends_at(&record));
    json["key"] = Value::String(secret);
    Ok(Response::json(201, &json))
}

async fn list(keys: &Keys, request: Request) -> Result<Response, PluginError> {
    let identity = manager(&request)?;
    let records = keys.store.list(identity.user_id.as_str()).await?;
    Ok(Response::json(
        200,
        &Value::Array(
            records
                .iter()
                .map(|record| record.to_json(keys.policy.ends_at(record)))
                .collect(),
        ),
    ))
}

async fn revoke(keys: &Keys, request: Request) -> Result<Response, PluginError> {
    let identity = manager(&request)?;
    let id = request.param("id").unwrap_or_default();
    if !keys.store.revoke(identity.user_id.as_str(), id).await? {
        return Err(PluginError::http(
            404,
            "api_key_not_found",
            "you have no API key with this id",
        ));
    }
    tracing::info!(user = %identity.user_id, key = %id, "API key revoked");
    Ok(Response {
        status: 204,
        headers: Vec::new().into(),
        body: Vec::new().into(),
    })
}
