//! Sessions: the signed `openhost_session` cookie and the server-side record that makes it valid.
//!
//! Cookie value: `base64url(payload).base64url(HMAC-SHA256(payload))`, payload `{typ, sid, uid, login, iat, exp}`.
//! A cookie is valid only while the record `session/<sid>` exists, so logout and revocation also stop a copied
//! cookie. Records are indexed by user (`user-session/<uid>/<sid>`) to end all of a user's sessions at once.
//! Past half its life a cookie is re-issued (sliding expiry).

use std::sync::Arc;

use openhost_plugin_api::{Host, Identity, PluginError};
use serde::{Deserialize, Serialize};

use crate::{keys::Keyring, now};

pub const COOKIE: &str = "openhost_session";
const SESSION_TYPE: &str = "session";
/// How many sessions of one user are ended at once by [`Sessions::revoke_all`] per round.
const SCAN_BATCH: u32 = 256;

/// What a session cookie says, once its signature checked out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    typ: String,
    sid: String,
    uid: String,
    login: String,
    iat: u64,
    exp: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    uid: String,
    login: String,
    exp: u64,
}

/// Why a request has no valid session.
#[derive(Debug)]
pub enum SessionError {
    NoCredentials,
    Invalid,
    Expired,
    Store(PluginError),
}

impl SessionError {
    /// The 401 answer (`None` for a store failure, which is the host's 500).
    pub fn code(&self) -> Option<(&'static str, &'static str)> {
        match self {
            SessionError::NoCredentials => Some(("no_credentials", "sign in first")),
            SessionError::Invalid => Some(("invalid_session", "the session is not valid; sign in again")),
            SessionError::Expired => Some(("session_expired", "the session has expired; sign in again")),
            SessionError::Store(_) => None,
        }
    }
}

impl From<PluginError> for SessionError {
    fn from(error: PluginError) -> Self {
        SessionError::Store(error)
    }
}

/// A verified session.
pub struct Session {
    pub sid: String,
    pub identity: Identity,
    /// A `Set-Cookie` value when the cookie was re-issued.
    pub reissued: Option<String>,
}

pub struct Sessions {
    host: Host,
    keys: Arc<Keyring>,
    ttl: u64,
    secure: bool,
}

/// The claims of a session cookie whose signature and expiry check out; the server-side record is the caller's
/// to check. Pure, so it can be fuzzed.
pub fn verify_cookie(keys: &Keyring, cookie: Option<&str>, now: u64) -> Result<Claims, SessionError> {
    let cookie = cookie.filter(|c| !c.is_empty()).ok_or(SessionError::NoCredentials)?;
    let payload = keys.verify(cookie).ok_or(SessionError::Invalid)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| SessionError::Invalid)?;
    if claims.typ != SESSION_TYPE {
        return Err(SessionError::Invalid);
    }
    if now >= claims.exp {
        return Err(SessionError::Expired);
    }
    Ok(claims)
}

fn record_key(sid: &str) -> Vec<u8> {
    format!("session/{sid}").into_bytes()
}

fn index_prefix(uid: &str) -> Vec<u8> {
    format!("user-session/{uid}/").into_bytes()
}

impl Sessions {
    pub fn new(host: Host, keys: Arc<Keyring>, ttl: u64, secure: bool) -> Sessions {
        Sessions {
            host,
            keys,
            ttl,
            secure,
        }
    }

    /// `Set-Cookie` for a cookie value, or to clear the cookie when `None`.
    pub fn cookie_header(&self, value: Option<&str>) -> String {
        let (value, max_age) = match value {
            Some(value) => (value, self.ttl),
            None => ("", 0),
        };
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }

    fn sign(&self, claims: &Claims) -> Result<String, PluginError> {
        let payload = serde_json::to_vec(claims).map_err(|e| PluginError::other(e.to_string()))?;
        Ok(self.keys.sign(&payload))
    }

    /// Starts a session; returns the cookie value. The record is durable before this returns.
    pub async fn create(&self, uid: &str, login: &str) -> Result<String, PluginError> {
        let sid = hex::encode(
            self.keys
                .random::<16>()
                .map_err(|_| PluginError::other("no randomness"))?,
        );
        let iat = now();
        let claims = Claims {
            typ: SESSION_TYPE.to_owned(),
            sid: sid.clone(),
            uid: uid.to_owned(),
            login: login.to_owned(),
            iat,
            exp: iat + self.ttl,
        };
        let record = Record {
            uid: uid.to_owned(),
            login: login.to_owned(),
            exp: claims.exp,
        };
        let encoded = serde_json::to_vec(&record).map_err(|e| PluginError::other(e.to_string()))?;
        self.host.kv_put(&record_key(&sid), &encoded).await?;
        let mut index = index_prefix(uid);
        index.extend_from_slice(sid.as_bytes());
        self.host.kv_put(&index, b"").await?;
        self.host.kv_flush().await?;
        self.sign(&claims)
    }

    /// Verifies a cookie value against its signature, its expiry and the server-side record.
    pub async fn authenticate(&self, cookie: Option<&str>) -> Result<Session, SessionError> {
        let now = now();
        let claims = verify_cookie(&self.keys, cookie, now)?;
        let record = self
            .host
            .kv_get(&record_key(&claims.sid))
            .await?
            .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
            .ok_or(SessionError::Invalid)?;
        if record.uid != claims.uid {
            return Err(SessionError::Invalid);
        }
        let reissued = if now >= claims.iat + self.ttl / 2 {
            let renewed = Claims {
                iat: now,
                exp: now + self.ttl,
                ..claims.clone()
            };
            let record = Record {
                exp: renewed.exp,
                ..record
            };
            let encoded = serde_json::to_vec(&record).map_err(|e| PluginError::other(e.to_string()))?;
            self.host.kv_put(&record_key(&claims.sid), &encoded).await?;
            self.host.kv_flush().await?;
            Some(self.cookie_header(Some(&self.sign(&renewed)?)))
        } else {
            None
        };
        Ok(Session {
            sid: claims.sid,
            identity: Identity::new(&claims.uid, &claims.login, "github_oauth"),
            reissued,
        })
    }

    /// Ends one session; `true` if it was the user's last.
    pub async fn revoke(&self, sid: &str, uid: &str) -> Result<bool, PluginError> {
        self.host.kv_delete(&record_key(sid)).await?;
        let mut index = index_prefix(uid);
        index.extend_from_slice(sid.as_bytes());
        self.host.kv_delete(&index).await?;
        self.host.kv_flush().await?;
        Ok(self.host.kv_scan_prefix(&index_prefix(uid), 1).await?.is_empty())
    }

    /// Ends every session of a user.
    pub async fn revoke_all(&self, uid: &str) -> Result<(), PluginError> {
        let prefix = index_prefix(uid);
        loop {
            let entries = self.host.kv_scan_prefix(&prefix, SCAN_BATCH).await?;
            if entries.is_empty() {
                break;
            }
            for (key, _) in entries {
                let sid = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                self.host.kv_delete(&record_key(&sid)).await?;
                self.host.kv_delete(&key).await?;
            }
        }
        self.host.kv_flush().await
    }
}
