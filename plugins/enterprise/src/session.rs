//! Sessions: the signed session cookie and the server-side record that makes it valid (docs/security.md,
//! "Sessions").
//!
//! Cookie value: `base64url(payload).base64url(HMAC-SHA256(payload))`, payload `{typ, sid, uid, login, iat, exp}`.
//! The cookie is `__Host-openhost_session` when `public_url` is https (Secure, Path=/, no Domain: a sibling
//! subdomain cannot set or shadow it), else `openhost_session`; a request carrying it twice is refused.
//! A cookie is valid only while the record `session/<sid>` exists, so logout and revocation also stop a copied
//! cookie. Records are indexed by user (`user-sessions/<hex of uid>/<sid>`) to end all of a user's sessions at
//! once, to cap how many a user has, and to sweep the dead ones. The user id is hex-encoded because the index is
//! scanned by prefix and ids are not ours to choose (an OpenID Connect subject may hold `/`): user `oidc:a` must
//! never scan, count or delete the sessions of `oidc:a/b`. Earlier versions wrote `user-session/<uid>/<sid>`; such
//! entries are adopted into the new index the next time their user signs in or out ([`Sessions::adopt_legacy`]).
//!
//! Lifetimes: sliding (`session_ttl_secs`; past half its life a cookie is re-issued) within an absolute one
//! (`session_max_age_secs` from sign-in). A re-issue rotates the session id: the new record is written first, then
//! the old one is turned into a pointer to it by compare-and-swap, so a session revoked meanwhile stays revoked
//! (the swap fails and the new record is removed). The old cookie stays good for [`ROTATION_GRACE_SECS`], for the
//! requests a browser already had in flight with it, and only while its successor lives.

use std::sync::Arc;

use openhost_plugin_api::{Host, Identity, PluginError, RequestView};
use serde::{Deserialize, Serialize};

use crate::{
    clock::{now, now_millis},
    keys::Keyring,
    verified_cookies::VerifiedCookies,
};

/// The cookie's name over plain http (loopback development).
pub const COOKIE: &str = "openhost_session";
/// The cookie's name over https.
pub const HOST_COOKIE: &str = "__Host-openhost_session";
const SESSION_TYPE: &str = "session";
/// How many index entries one scan reads.
const SCAN_BATCH: u32 = 256;
/// How many sessions of any user one sign-in looks at when sweeping dead ones.
const SWEEP_SAMPLE: u32 = 64;
/// How long a rotated-away cookie still works (requests already in flight when the new one was issued).
pub const ROTATION_GRACE_SECS: u64 = 60;
/// How far revocation follows rotations in each direction.
const MAX_ROTATION_HOPS: usize = 8;

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
    /// When the user signed in (absent in records of earlier versions: then the cookie's `iat`).
    #[serde(default)]
    created: Option<u64>,
    /// The same in milliseconds, to tell the oldest of sessions started within one second.
    #[serde(default)]
    created_ms: Option<u64>,
    /// Set when the session was rotated: the session that replaced it, and until when this one still works.
    #[serde(default)]
    successor: Option<String>,
    #[serde(default)]
    grace_until: Option<u64>,
    /// The session this one replaced.
    #[serde(default)]
    predecessor: Option<String>,
}

impl Record {
    fn encode(&self) -> Result<Vec<u8>, PluginError> {
        serde_json::to_vec(self).map_err(|e| PluginError::other(e.to_string()))
    }

    /// Neither expired nor rotated away past its grace.
    fn is_live(&self, now: u64) -> bool {
        now < self.exp && self.grace_until.is_none_or(|until| now < until)
    }
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

/// How sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub ttl: u64,
    pub max_age: u64,
    pub max_per_user: u64,
    /// `Secure` cookies.
    pub secure: bool,
    /// https: the `__Host-` cookie name.
    pub https: bool,
    /// How its sessions' users signed in (`IdentityView::auth_kind`): `github_oauth` or `oidc`.
    pub auth_kind: &'static str,
}

pub struct Sessions {
    host: Host,
    keys: Arc<Keyring>,
    policy: SessionPolicy,
    verified: VerifiedCookies<Claims>,
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
    if claims.expired(now) {
        return Err(SessionError::Expired);
    }
    Ok(claims)
}

/// [`verify_cookie`], once per cookie text: a cookie verified before gives the claims `verified` remembers,
/// checked against the clock again.
pub fn verify_cookie_remembered(
    verified: &VerifiedCookies<Claims>,
    keys: &Keyring,
    cookie: Option<&str>,
    now: u64,
) -> Result<Claims, SessionError> {
    let Some(text) = cookie else {
        return verify_cookie(keys, cookie, now);
    };
    if let Some(claims) = verified.remembered(text) {
        if claims.expired(now) {
            verified.forget(text);
            return Err(SessionError::Expired);
        }
        return Ok(claims);
    }
    let claims = verify_cookie(keys, cookie, now)?;
    verified.remember(text, claims.clone());
    Ok(claims)
}

impl Claims {
    /// Whether the cookie has expired at `now` (seconds).
    pub fn expired(&self, now: u64) -> bool {
        now >= self.exp
    }
}

const RECORD_PREFIX: &str = "session/";

fn record_key(sid: &str) -> Vec<u8> {
    format!("{RECORD_PREFIX}{sid}").into_bytes()
}

fn index_prefix(uid: &str) -> Vec<u8> {
    format!("user-sessions/{}/", hex::encode(uid)).into_bytes()
}

/// The index of earlier versions, by the user id as it is: read only to adopt what it holds.
fn legacy_index_prefix(uid: &str) -> Vec<u8> {
    format!("user-session/{uid}/").into_bytes()
}

/// Whether `text` is a session id as [`Sessions::new_sid`] makes them (32 lowercase hex digits), so that a legacy
/// index entry of another user whose id extends this one's (`oidc:a/b/...` under `oidc:a/`) is never taken for
/// one of this user's.
fn is_sid(text: &[u8]) -> bool {
    text.len() == 32 && text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn index_key(uid: &str, sid: &str) -> Vec<u8> {
    let mut key = index_prefix(uid);
    key.extend_from_slice(sid.as_bytes());
    key
}

impl Sessions {
    pub fn new(host: Host, keys: Arc<Keyring>, policy: SessionPolicy) -> Sessions {
        Sessions {
            host,
            keys,
            policy,
            verified: VerifiedCookies::default(),
        }
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        if self.policy.https { HOST_COOKIE } else { COOKIE }
    }

    /// `Set-Cookie` for a cookie value that lives `max_age` seconds, or to clear the cookie when `None`.
    fn cookie_header_for(&self, value: Option<&str>, max_age: u64) -> String {
        let (value, max_age) = value.map_or(("", 0), |value| (value, max_age));
        let secure = if self.policy.secure { "; Secure" } else { "" };
        let name = self.cookie_name();
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }

    /// `Set-Cookie` for a fresh cookie, or to clear the cookie when `None`.
    pub fn cookie_header(&self, value: Option<&str>) -> String {
        self.cookie_header_for(value, self.policy.ttl.min(self.policy.max_age))
    }

    fn sign(&self, claims: &Claims) -> Result<String, PluginError> {
        let payload = serde_json::to_vec(claims).map_err(|e| PluginError::other(e.to_string()))?;
        Ok(self.keys.sign(&payload))
    }

    fn new_sid(&self) -> Result<String, PluginError> {
        let bytes = self
            .keys
            .random::<16>()
            .map_err(|_| PluginError::other("no randomness"))?;
        Ok(hex::encode(bytes))
    }

    async fn record(&self, sid: &str) -> Result<Option<(Vec<u8>, Record)>, PluginError> {
        Ok(self.host.kv_get(&record_key(sid)).await?.and_then(|bytes| {
            let record = serde_json::from_slice::<Record>(&bytes).ok()?;
            Some((bytes, record))
        }))
    }

    async fn put_record(&self, sid: &str, record: &Record) -> Result<(), PluginError> {
        self.host.kv_put(&record_key(sid), &record.encode()?).await?;
        self.host.kv_put(&index_key(&record.uid, sid), b"").await
    }

    async fn delete_record(&self, uid: &str, sid: &str) -> Result<(), PluginError> {
        self.host.kv_delete(&record_key(sid)).await?;
        self.host.kv_delete(&index_key(uid, sid)).await?;
        Ok(())
    }

    /// Starts a session; returns the cookie value. Makes room first: the user's dead sessions are swept, and
    /// past `max_sessions_per_user` the oldest live ones end (counted over the first [`SCAN_BATCH`] of the
    /// user's sessions, which bounds the cost of a sign-in). The record is durable before this returns.
    pub async fn create(&self, uid: &str, login: &str) -> Result<String, PluginError> {
        self.sweep_some().await?;
        let mut live = self.sweep_user(uid).await?;
        let max = usize::try_from(self.policy.max_per_user).unwrap_or(usize::MAX);
        if live.len() >= max {
            live.sort_by_key(|(_, created)| *created);
            for (sid, _) in &live[..=live.len() - max] {
                self.delete_record(uid, sid).await?;
                tracing::info!(user = %uid, "ended the oldest session: at max_sessions_per_user");
            }
        }
        let sid = self.new_sid()?;
        let iat = now();
        let exp = iat + self.policy.ttl.min(self.policy.max_age);
        let record = Record {
            uid: uid.to_owned(),
            login: login.to_owned(),
            exp,
            created: Some(iat),
            created_ms: Some(now_millis()),
            successor: None,
            grace_until: None,
            predecessor: None,
        };
        self.put_record(&sid, &record).await?;
        self.host.kv_flush().await?;
        self.sign(&Claims {
            typ: SESSION_TYPE.to_owned(),
            sid,
            uid: uid.to_owned(),
            login: login.to_owned(),
            iat,
            exp,
        })
    }

    /// The session of a request: its session cookie, present once.
    pub async fn authenticate_request(&self, request: &RequestView<'_>) -> Result<Session, SessionError> {
        let mut values = request.cookies(self.cookie_name());
        let first = values.next();
        if values.next().is_some() {
            // Two cookies of one name: one was planted (by a sibling subdomain, say); trust neither.
            return Err(SessionError::Invalid);
        }
        self.authenticate(first).await
    }

    /// Verifies a cookie value against its signature, its expiry and the server-side record; rotates it past
    /// half its life.
    pub async fn authenticate(&self, cookie: Option<&str>) -> Result<Session, SessionError> {
        let now = now();
        let claims = verify_cookie_remembered(&self.verified, &self.keys, cookie, now)?;
        let (bytes, record) = self.record(&claims.sid).await?.ok_or(SessionError::Invalid)?;
        if record.uid != claims.uid {
            return Err(SessionError::Invalid);
        }
        let created = record.created.unwrap_or(claims.iat);
        if now >= created.saturating_add(self.policy.max_age) || now >= record.exp {
            return Err(SessionError::Expired);
        }
        let identity = Identity::new(&claims.uid, &claims.login, self.policy.auth_kind);
        if let Some(successor) = &record.successor {
            // Rotated away: good for in-flight requests during the grace, and only while the successor lives.
            let successor_lives = self
                .record(successor)
                .await?
                .is_some_and(|(_, next)| next.uid == record.uid && next.is_live(now));
            if record.is_live(now) && successor_lives {
                return Ok(Session {
                    sid: successor.clone(),
                    identity,
                    reissued: None,
                });
            }
            return Err(SessionError::Invalid);
        }
        if now < claims.iat + self.policy.ttl / 2 {
            return Ok(Session {
                sid: claims.sid,
                identity,
                reissued: None,
            });
        }
        match self.rotate(&claims, bytes, record, created, now).await? {
            Some((sid, cookie)) => Ok(Session {
                sid,
                identity,
                reissued: Some(cookie),
            }),
            // A parallel request of the same browser rotated it first: this one rides on that rotation, as the
            // requests in flight during the grace do.
            None => Box::pin(self.authenticate(cookie)).await,
        }
    }

    /// Replaces session `claims.sid` by a new id: new record first, then the old one swapped (only if it is still
    /// exactly what was read) into a pointer to the new one. Returns the new id and its `Set-Cookie`; `None` when
    /// a parallel request rotated it first; an error when it was revoked meanwhile.
    async fn rotate(
        &self,
        claims: &Claims,
        old_bytes: Vec<u8>,
        old: Record,
        created: u64,
        now: u64,
    ) -> Result<Option<(String, String)>, SessionError> {
        let sid = self.new_sid()?;
        let exp = (now + self.policy.ttl).min(created.saturating_add(self.policy.max_age));
        let fresh = Record {
            exp,
            created: Some(created),
            successor: None,
            grace_until: None,
            predecessor: Some(claims.sid.clone()),
            ..old.clone()
        };
        self.put_record(&sid, &fresh).await?;
        let pointer = Record {
            successor: Some(sid.clone()),
            grace_until: Some(now + ROTATION_GRACE_SECS),
            ..old
        };
        let swapped = self
            .host
            .kv_compare_and_swap(&record_key(&claims.sid), Some(&old_bytes), Some(&pointer.encode()?))
            .await?;
        if !swapped {
            // Revoked, or rotated by a parallel request, since it was read: this new session must not outlive it.
            self.delete_record(&fresh.uid, &sid).await?;
            self.host.kv_flush().await?;
            let rotated_meanwhile = self
                .record(&claims.sid)
                .await?
                .is_some_and(|(_, now_stored)| now_stored.successor.is_some());
            return if rotated_meanwhile {
                Ok(None)
            } else {
                Err(SessionError::Invalid)
            };
        }
        self.host.kv_flush().await?;
        let renewed = Claims {
            sid: sid.clone(),
            iat: now,
            exp,
            ..claims.clone()
        };
        let cookie = self.cookie_header_for(Some(&self.sign(&renewed)?), exp - now);
        Ok(Some((sid, cookie)))
    }

    /// Ends one session, with the sessions it was rotated from and to; `true` if the user has no live session
    /// left.
    pub async fn revoke(&self, sid: &str, uid: &str) -> Result<bool, PluginError> {
        let mut ended = vec![sid.to_owned()];
        for follow_successor in [true, false] {
            let mut current = sid.to_owned();
            for _ in 0..MAX_ROTATION_HOPS {
                let Some((_, record)) = self.record(&current).await? else {
                    break;
                };
                let next = if follow_successor {
                    record.successor
                } else {
                    record.predecessor
                };
                let Some(next) = next else { break };
                ended.push(next.clone());
                current = next;
            }
        }
        for sid in &ended {
            self.delete_record(uid, sid).await?;
        }
        let live = self.sweep_user(uid).await?;
        self.host.kv_flush().await?;
        Ok(live.is_empty())
    }

    /// Deletes the user's dead sessions (expired, rotated past their grace, records gone) and returns the live
    /// ones with their sign-in times in milliseconds. Sweeps as a side effect of every sign-in and sign-out, so what an
    /// unauthenticated client cannot create anyway never piles up.
    async fn sweep_user(&self, uid: &str) -> Result<Vec<(String, u64)>, PluginError> {
        self.adopt_legacy(uid).await?;
        let prefix = index_prefix(uid);
        let now = now();
        let mut live = Vec::new();
        for (key, _) in self.host.kv_scan_prefix(&prefix, SCAN_BATCH).await? {
            let sid = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            match self.record(&sid).await? {
                Some((_, record)) if record.is_live(now) && record.successor.is_none() => {
                    let created_ms = record.created_ms.or(record.created.map(|s| s * 1000)).unwrap_or(0);
                    live.push((sid, created_ms));
                }
                Some((_, record)) if record.is_live(now) => {} // rotated, still in its grace
                _ => self.delete_record(uid, &sid).await?,
            }
        }
        Ok(live)
    }

    /// Deletes dead sessions of any user, a batch per sign-in: sessions of users who never come back must not
    /// stay forever. Session ids are random, so the batch (the first keys in order) is a sample that moves on as
    /// dead records go.
    async fn sweep_some(&self) -> Result<(), PluginError> {
        let now = now();
        for (key, bytes) in self.host.kv_scan_prefix(RECORD_PREFIX.as_bytes(), SWEEP_SAMPLE).await? {
            let sid = String::from_utf8_lossy(&key[RECORD_PREFIX.len()..]).into_owned();
            match serde_json::from_slice::<Record>(&bytes) {
                Ok(record) if record.is_live(now) => {}
                Ok(record) => self.delete_record(&record.uid, &sid).await?,
                Err(_) => self.host.kv_delete(&key).await.map(drop)?,
            }
        }
        Ok(())
    }

    /// Moves the user's entries of the earlier index (by the raw user id) into the current one: those whose
    /// record still names this user are indexed anew, every one of this user's is deleted from the old index.
    async fn adopt_legacy(&self, uid: &str) -> Result<(), PluginError> {
        let prefix = legacy_index_prefix(uid);
        for (key, _) in self.host.kv_scan_prefix(&prefix, SCAN_BATCH).await? {
            let rest = &key[prefix.len()..];
            if !is_sid(rest) {
                continue;
            }
            let sid = String::from_utf8_lossy(rest).into_owned();
            if self.record(&sid).await?.is_some_and(|(_, record)| record.uid == uid) {
                self.host.kv_put(&index_key(uid, &sid), b"").await?;
            }
            self.host.kv_delete(&key).await?;
        }
        Ok(())
    }

    /// Ends every session of a user.
    pub async fn revoke_all(&self, uid: &str) -> Result<(), PluginError> {
        self.adopt_legacy(uid).await?;
        let prefix = index_prefix(uid);
        loop {
            let entries = self.host.kv_scan_prefix(&prefix, SCAN_BATCH).await?;
            if entries.is_empty() {
                break;
            }
            for (key, _) in entries {
                let sid = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                self.delete_record(uid, &sid).await?;
            }
        }
        self.host.kv_flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(keys: &Keyring, sid: &str, exp: u64) -> String {
        let claims = format!(r#"{{"typ":"session","sid":"{sid}","uid":"1","login":"octocat","iat":100,"exp":{exp}}}"#);
        keys.sign(claims.as_bytes())
    }

    #[test]
    fn a_remembered_cookie_still_expires_and_an_unsigned_one_is_never_remembered() {
        let keys = Keyring::new(&[7u8; 32], &[]);
        let verified = VerifiedCookies::default();
        let good = cookie(&keys, "a", 200);
        assert!(verify_cookie_remembered(&verified, &keys, Some(&good), 150).is_ok());
        assert!(verified.remembered(&good).is_some());
        assert!(verify_cookie_remembered(&verified, &keys, Some(&good), 199).is_ok());
        assert!(matches!(
            verify_cookie_remembered(&verified, &keys, Some(&good), 200),
            Err(SessionError::Expired)
        ));
        assert!(verified.remembered(&good).is_none(), "forgotten once expired");

        let forged = cookie(&Keyring::new(&[8u8; 32], &[]), "b", 200);
        for _ in 0..2 {
            assert!(matches!(
                verify_cookie_remembered(&verified, &keys, Some(&forged), 150),
                Err(SessionError::Invalid)
            ));
        }
        assert!(verified.remembered(&forged).is_none(), "nothing unverified is kept");
        assert!(matches!(
            verify_cookie_remembered(&verified, &keys, None, 150),
            Err(SessionError::NoCredentials)
        ));
    }
}
