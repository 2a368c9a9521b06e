//! `/api/secrets`: the user's own secrets, in the shapes of the OpenHands frontend (`frontend/src/api/
//! secrets-service.ts` at d6fab190bf). Names and descriptions are listed; values are written once and never
//! returned. A secret's id in the path is its name.

use openhost_plugin_api::{Identity, Response};
use serde_json::{Map, Value, json};

use crate::{
    api::{Failure, Outcome, PathParams, json_object, ok_json, signed_in},
    app::Serving,
    settings::Secret,
    user_records::RecordError,
    user_secrets::CustomSecret,
};

const MAX_NAME_LEN: usize = 64;
const MAX_VALUE_LEN: usize = 64 * 1024;
const MAX_DESCRIPTION_LEN: usize = 4096;
const MAX_SECRETS: usize = 256;

/// `GET /api/secrets`: `{"custom_secrets": [{"name", "description"}]}`.
pub async fn list(app: &Serving<'_>, identity: Option<&Identity>) -> Outcome {
    let identity = signed_in(identity)?;
    let stored = app.secrets.get(&identity.user_id).await?.unwrap_or_default();
    let secrets: Vec<Value> = stored
        .custom_secrets
        .iter()
        .map(|(name, secret)| json!({"name": name, "description": secret.description}))
        .collect();
    ok_json(&json!({"custom_secrets": secrets}))
}

/// `POST /api/secrets` `{"name", "value", "description"?}`: 201, or 400 `secret_exists`.
pub async fn create(app: &Serving<'_>, identity: Option<&Identity>, body: &[u8]) -> Outcome {
    let identity = signed_in(identity)?;
    let object = json_object(body, "invalid_request")?;
    let name = name(&object)?;
    let value = text(&object, "value", MAX_VALUE_LEN)?.ok_or_else(|| invalid("`value` is required"))?;
    let description = text(&object, "description", MAX_DESCRIPTION_LEN)?.unwrap_or_default();
    app.secrets
        .update(&identity.user_id, |secrets| {
            if secrets.custom_secrets.contains_key(&name) {
                return Err(RecordError::SecretExists(name.clone()));
            }
            if secrets.custom_secrets.len() >= MAX_SECRETS {
                return Err(RecordError::Invalid(format!("at most {MAX_SECRETS} secrets per user")));
            }
            let secret = CustomSecret {
                value: Secret::new(value.clone()),
                description: description.clone(),
            };
            secrets.custom_secrets.insert(name.clone(), secret);
            Ok(())
        })
        .await
        .map_err(secret_error)?;
    Ok(Response::json(201, &json!({"message": "Secret created successfully"})))
}

/// `PUT /api/secrets/{name}` `{"name", "description"?}`: renames or re-describes; the value stays.
pub async fn update(app: &Serving<'_>, params: &PathParams, identity: Option<&Identity>, body: &[u8]) -> Outcome {
    let identity = signed_in(identity)?;
    let id = path_id(params);
    let object = json_object(body, "invalid_request")?;
    let name = name(&object)?;
    let description = text(&object, "description", MAX_DESCRIPTION_LEN)?.unwrap_or_default();
    ensure_exists(app, identity, &id).await?;
    app.secrets
        .update(&identity.user_id, |secrets| {
            let mut secret = secrets.custom_secrets.remove(&id).ok_or_else(|| missing(&id))?;
            if name != id && secrets.custom_secrets.contains_key(&name) {
                return Err(RecordError::SecretExists(name.clone()));
            }
            secret.description = description.clone();
            secrets.custom_secrets.insert(name.clone(), secret);
            Ok(())
        })
        .await
        .map_err(secret_error)?;
    ok_json(&json!({"message": "Secret updated successfully"}))
}

/// `DELETE /api/secrets/{name}`.
pub async fn delete(app: &Serving<'_>, params: &PathParams, identity: Option<&Identity>) -> Outcome {
    let identity = signed_in(identity)?;
    let id = path_id(params);
    ensure_exists(app, identity, &id).await?;
    app.secrets
        .update(&identity.user_id, |secrets| {
            secrets
                .custom_secrets
                .remove(&id)
                .map(|_| ())
                .ok_or_else(|| missing(&id))
        })
        .await
        .map_err(secret_error)?;
    ok_json(&json!({"message": "Secret deleted successfully"}))
}

fn invalid(message: &str) -> Failure {
    Failure::host(400, "invalid_request", message)
}

/// Answers 404 before anything is written for a secret that is not there (a user without settings keeps none).
async fn ensure_exists(app: &Serving<'_>, identity: &Identity, id: &str) -> Result<(), Failure> {
    let secrets = app.secrets.get(&identity.user_id).await?;
    match secrets.is_some_and(|s| s.custom_secrets.contains_key(id)) {
        true => Ok(()),
        false => Err(missing(id).into()),
    }
}

fn missing(id: &str) -> RecordError {
    RecordError::NoSuchSecret(id.to_owned())
}

/// Invalid input here is a request error, not a settings one.
fn secret_error(error: RecordError) -> Failure {
    match error {
        RecordError::Invalid(message) => invalid(&message),
        other => other.into(),
    }
}

/// The secret's name: `{id}` of `/api/secrets/{id}`, cut past the longest name (it is checked by lookup only).
fn path_id(params: &PathParams) -> String {
    params
        .iter()
        .find_map(|(name, value)| (name == "id").then_some(value.as_str()))
        .unwrap_or_default()
        .chars()
        .take(MAX_NAME_LEN + 1)
        .collect()
}

/// A secret name: 1 to 64 letters, digits and `_`, not starting with a digit (it becomes an environment
/// variable of the agent's sandbox).
fn name(object: &Map<String, Value>) -> Result<String, Failure> {
    let name = text(object, "name", MAX_NAME_LEN)?.ok_or_else(|| invalid("`name` is required"))?;
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(invalid(
            "`name` must be 1 to 64 letters, digits and `_`, not starting with a digit",
        ));
    }
    Ok(name)
}

fn text(object: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, Failure> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.len() <= max => Ok(Some(text.clone())),
        Some(Value::String(_)) => Err(invalid(&format!("`{key}` is longer than {max} bytes"))),
        Some(_) => Err(invalid(&format!("`{key}` must be a string"))),
    }
}
