//! The state of a sign-in in progress: a signed, short-lived cookie ([`StateClaims`]) holding the OAuth `state`,
//! the PKCE verifier, the OpenID Connect `nonce` and where to go afterwards, claimed once at the callback (a
//! single-use marker in the plugin's KV store), and cleared by every answer that ends the sign-in.

use openhost_plugin_api::{PluginError, Request, Response};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::redirect::query_param;
use crate::{Enterprise, clock::now, config::EnterpriseConfig, keys::Keyring};

const STATE_COOKIE: &str = "openhost_oauth_state";
/// The state cookie's name over https: the prefix makes browsers refuse it from an insecure origin.
const SECURE_STATE_COOKIE: &str = "__Secure-openhost_oauth_state";
/// Where the single-use markers of completed sign-ins live (`oauth-state/<state>` -> expiry).
const USED_STATE_PREFIX: &str = "oauth-state/";
/// How many markers one sign-in looks at when sweeping expired ones.
const SWEEP_BATCH: u32 = 64;
const STATE_TYPE: &str = "oauth_state";
const STATE_TTL_SECS: u64 = 600;

/// What the sign-in state cookie carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct StateClaims {
    typ: String,
    pub state: String,
    pub verifier: String,
    pub redirect: String,
    pub exp: u64,
    /// The OpenID Connect sign-in's nonce, which its ID token must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl StateClaims {
    /// The claims of a sign-in starting now.
    pub fn new(state: String, verifier: String, redirect: String, nonce: Option<String>) -> StateClaims {
        StateClaims {
            typ: STATE_TYPE.to_owned(),
            state,
            verifier,
            redirect,
            exp: now() + STATE_TTL_SECS,
            nonce,
        }
    }
}

/// The claims of a state cookie whose signature, type and expiry check out. Pure, so it can be fuzzed.
pub fn verify_state_cookie(keys: &Keyring, cookie: Option<&str>, now: u64) -> Option<StateClaims> {
    let payload = keys.verify(cookie?)?;
    serde_json::from_slice::<StateClaims>(&payload)
        .ok()
        .filter(|claims| claims.typ == STATE_TYPE && claims.exp > now)
}

/// The state cookie as this server sets it: its name and attributes follow `public_url`.
pub struct StateCookie {
    name: &'static str,
    secure: bool,
}

impl StateCookie {
    pub fn new(config: &EnterpriseConfig) -> StateCookie {
        StateCookie {
            name: if config.is_https() {
                SECURE_STATE_COOKIE
            } else {
                STATE_COOKIE
            },
            secure: config.secure_cookies(),
        }
    }

    /// The `Set-Cookie` value carrying `value` (a signed [`StateClaims`]), or clearing the cookie.
    pub fn header(&self, value: Option<&str>) -> String {
        let (value, max_age) = value.map_or(("", 0), |v| (v, STATE_TTL_SECS));
        let secure = if self.secure { "; Secure" } else { "" };
        // Every provider's callback is under /oauth.
        format!(
            "{}={value}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name
        )
    }

    /// An answer refusing a sign-in callback, clearing the state cookie.
    pub fn refuse(&self, status: u16, code: &str, message: &str) -> Response {
        Response::error(status, code, message).with_header("set-cookie", &self.header(None))
    }

    /// A failure of a sign-in callback: an HTTP answer (a rejected code, a provider out of reach) goes out with
    /// the state cookie cleared; anything else stays an error.
    pub fn refused(&self, error: PluginError) -> Result<Response, PluginError> {
        match error.http_response() {
            Some(response) => Ok(response.with_header("set-cookie", &self.header(None))),
            None => Err(error),
        }
    }

    /// The state and code of a callback, checked: the state signed by this server, unexpired, matching the
    /// query's `state`, and claimed now for the first and only time; a code present. `Err` is the answer (the
    /// state cookie cleared).
    pub async fn claim(
        &self,
        enterprise: &Enterprise,
        request: &Request,
        provider: &str,
    ) -> Result<(StateClaims, String), Response> {
        let fail = |status: u16, code: &str, message: &str| self.refuse(status, code, message);
        if query_param(request, "error").is_some() {
            return Err(fail(
                401,
                "oauth_denied",
                &format!("the {provider} sign-in was cancelled or denied"),
            ));
        }
        let claims = verify_state_cookie(&enterprise.keys, request.cookie(self.name).as_deref(), now());
        let state = query_param(request, "state");
        let (Some(claims), Some(state)) = (claims, state) else {
            return Err(fail(
                400,
                "oauth_state_invalid",
                "the sign-in state is missing or expired; start again",
            ));
        };
        if !bool::from(claims.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(fail(
                400,
                "oauth_state_invalid",
                "the sign-in state does not match; start again",
            ));
        }
        // Single use: the first callback with this state claims it.
        let store_failed = |e: PluginError| {
            e.http_response()
                .unwrap_or_else(|| fail(500, "store_failed", "try again"))
        };
        sweep_used_states(enterprise).await.map_err(store_failed)?;
        let used_key = format!("{USED_STATE_PREFIX}{}", claims.state);
        let expiry = claims.exp.to_string();
        if !enterprise
            .host
            .kv_compare_and_swap(used_key.as_bytes(), None, Some(expiry.as_bytes()))
            .await
            .map_err(store_failed)?
        {
            return Err(fail(
                400,
                "oauth_state_invalid",
                "this sign-in was already completed; start again",
            ));
        }
        let Some(code) = query_param(request, "code") else {
            return Err(fail(
                400,
                "oauth_state_invalid",
                &format!("{provider} sent no code; start again"),
            ));
        };
        Ok((claims, code))
    }
}

/// Deletes expired single-use markers, a batch per sign-in: anyone can complete sign-ins, so the markers must not
/// pile up. A marker is kept only while its state could still be presented (10 minutes).
async fn sweep_used_states(enterprise: &Enterprise) -> Result<(), PluginError> {
    let host = &enterprise.host;
    let now = now();
    for (key, value) in host.kv_scan_prefix(USED_STATE_PREFIX.as_bytes(), SWEEP_BATCH).await? {
        let expiry = std::str::from_utf8(&value)
            .ok()
            .and_then(|text| text.parse::<u64>().ok());
        if expiry.is_none_or(|expiry| expiry <= now) {
            host.kv_delete(&key).await?;
        }
    }
    Ok(())
}
