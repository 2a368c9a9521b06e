//! The OAuth web flow: authorization (auto-approved for the "browser user") and the token endpoint (codes,
//! PKCE, rotating refresh tokens), with GitHub's habit of answering errors with HTTP 200.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Value, json};
use warp::http::{HeaderMap, Method, StatusCode};

use super::{
    CLIENT_ID, CLIENT_SECRET,
    answer::Answer,
    now, random_token,
    state::{Grant, Inner},
};

pub(super) fn oauth(
    inner: &mut Inner,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    match (method.as_str(), path) {
        ("GET", "/login/oauth/authorize") => authorize(inner, query),
        ("POST", "/login/oauth/access_token") => {
            let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
            let mut params = query.clone();
            if content_type.starts_with("application/json") {
                if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
                    params.extend(map.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_owned()))));
                }
            } else {
                params.extend(params_from(body));
            }
            let wants_json = headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/json"));
            let result = access_token(inner, &params);
            let grant_kind = if params.get("grant_type").map(String::as_str) == Some("refresh_token") {
                "refresh"
            } else {
                "code"
            };
            let key = format!("POST /login/oauth/access_token ({grant_kind})");
            *inner.calls.entry(key).or_default() += 1;
            let value = result.unwrap_or_else(|(error, description)| {
                json!({
                    "error": error,
                    "error_description": description,
                    "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
                })
            });
            // GitHub answers token errors with HTTP 200.
            if wants_json {
                Answer::json(StatusCode::OK, value)
            } else {
                let pairs: Vec<(String, String)> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                    .collect();
                Answer {
                    status: StatusCode::OK,
                    headers: vec![(
                        "content-type".into(),
                        "application/x-www-form-urlencoded; charset=utf-8".into(),
                    )],
                    body: form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs)
                        .finish()
                        .into_bytes(),
                }
            }
        }
        _ => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// `DELETE /applications/{client_id}/token` with the app's credentials (Basic auth) and `{"access_token"}`:
/// revokes that token, 204; GitHub answers 404 for a token it does not know and 401/404 for wrong credentials.
pub(super) fn revoke_token(inner: &mut Inner, path: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    if path != format!("/applications/{CLIENT_ID}/token") || !authorized {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    }
    let token = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned));
    match token.and_then(|token| inner.tokens.remove(&token)) {
        Some(_) => {
            inner.revoked += 1;
            Answer {
                status: StatusCode::NO_CONTENT,
                headers: Vec::new(),
                body: Vec::new(),
            }
        }
        None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

pub(super) fn params_from(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub(super) fn authorize(inner: &mut Inner, query: &HashMap<String, String>) -> Answer {
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(redirect_uri) = query.get("redirect_uri").cloned() else {
        return Answer::message(StatusCode::BAD_REQUEST, "redirect_uri is required by this fake");
    };
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut back = form_urlencoded::Serializer::new(String::new());
    if std::mem::take(&mut inner.faults.deny_authorization) {
        back.append_pair("error", "access_denied");
        back.append_pair("error_description", "The user has denied your application access.");
        back.append_pair(
            "error_uri",
            "https://docs.github.com/apps/troubleshooting-authorization-request-errors/#access-denied",
        );
    } else {
        let code = random_token("");
        let challenge = match query.get("code_challenge_method").map(String::as_str) {
            Some("S256") | None => query.get("code_challenge").cloned(),
            Some(_) => return Answer::message(StatusCode::BAD_REQUEST, "unsupported code_challenge_method"),
        };
        inner.grants.insert(
            code.clone(),
            Grant {
                user_id: inner.browser_user,
                redirect_uri: redirect_uri.clone(),
                challenge,
                expires_at: now() + 600,
            },
        );
        back.append_pair("code", &code);
    }
    if let Some(state) = query.get("state") {
        back.append_pair("state", state);
    }
    Answer::redirect(format!("{redirect_uri}{separator}{}", back.finish()))
}

pub(super) type TokenResult = Result<Value, (&'static str, &'static str)>;

pub(super) fn access_token(inner: &mut Inner, params: &HashMap<String, String>) -> TokenResult {
    if params.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || params.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return Err((
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ));
    }
    if params.get("grant_type").map(String::as_str) == Some("refresh_token") {
        let bad = ("bad_refresh_token", "The refresh token passed is incorrect or expired.");
        let token = params.get("refresh_token").ok_or(bad)?;
        // Single use: taken out whether or not it is still valid.
        let refresh = inner.refresh_tokens.remove(token).ok_or(bad)?;
        if refresh.expires_at <= now() {
            return Err(bad);
        }
        inner.tokens.remove(&refresh.access_token);
        return Ok(inner.issue_tokens(refresh.user_id));
    }
    let bad_code = ("bad_verification_code", "The code passed is incorrect or expired.");
    let code = params.get("code").ok_or(bad_code)?;
    let grant = inner.grants.remove(code).ok_or(bad_code)?;
    if grant.expires_at <= now() {
        return Err(bad_code);
    }
    if let Some(redirect_uri) = params.get("redirect_uri")
        && *redirect_uri != grant.redirect_uri
    {
        return Err((
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        ));
    }
    if let Some(challenge) = &grant.challenge {
        let verifier = params.get("code_verifier").ok_or(bad_code)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        if computed != *challenge {
            return Err(bad_code);
        }
    }
    Ok(inner.issue_tokens(grant.user_id))
}
