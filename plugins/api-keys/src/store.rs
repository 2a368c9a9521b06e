//! The plugin's namespace: `digest/<sha256 hex>` -> the key's record (what a request with the key looks up, in
//! one read), and `owner/<hex user id>/<key id>` -> the digest (a user's list). A revoked key's entries are
//! deleted: nothing of it opens anything afterwards.

use openhost_plugin_api::{Host, PluginError};

use crate::{
    key::{NewKey, digest},
    record::{KeyRecord, Owner, Scope},
    time::now,
};

/// How stale `last_used_at` may be: a busy key is not rewritten on every request.
const LAST_USED_RESOLUTION_SECS: u64 = 60;
/// How many keys one listing reads at most (above any sane `max_keys_per_user`).
const LIST_LIMIT: u32 = 1000;
/// How long one creation may hold its user's creation lease (renewed by the host while held).
const CREATE_LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a creation waits for the other creations of its user.
const CREATE_LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a key was not made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("you have {0} API keys, the most this server keeps per user; revoke one first")]
    TooMany(usize),
    #[error("other API keys of yours are being created; try again")]
    Busy,
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// The keys, through the host's store.
pub struct KeyStore {
    host: Host,
    max_per_user: usize,
}

fn digest_key(digest: &str) -> Vec<u8> {
    format!("digest/{digest}").into_bytes()
}

fn owner_prefix(user_id: &str) -> Vec<u8> {
    format!("owner/{}/", hex::encode(user_id)).into_bytes()
}

fn owner_key(user_id: &str, id: &str) -> Vec<u8> {
    let mut key = owner_prefix(user_id);
    key.extend_from_slice(id.as_bytes());
    key
}

fn decode(bytes: &[u8]) -> Result<KeyRecord, PluginError> {
    serde_json::from_slice(bytes).map_err(|e| PluginError::other(format!("a stored API key is unreadable: {e}")))
}

fn encode(record: &KeyRecord) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(record).map_err(|e| PluginError::other(e.to_string()))
}

impl KeyStore {
    pub fn new(host: Host, max_per_user: usize) -> KeyStore {
        KeyStore { host, max_per_user }
    }

    /// Makes a key for `owner`; returns its record and the key itself (to show once).
    pub async fn create(
        &self,
        owner: Owner,
        name: String,
        scope: Scope,
        expires_at: Option<u64>,
    ) -> Result<(KeyRecord, String), CreateError> {
        // Count, then put: a user's creations take turns, on every host of the store, or parallel ones would
        // all count the same keys and pass the cap together.
        let lease = format!("create/{}", hex::encode(&owner.user_id));
        let Some(_one_at_a_time) = self.host.lease(&lease, CREATE_LEASE_TTL, CREATE_LEASE_WAIT).await? else {
            return Err(CreateError::Busy);
        };
        let existing = self
            .host
            .kv_scan_prefix(&owner_prefix(&owner.user_id), LIST_LIMIT)
            .await?
            .len();
        if existing >= self.max_per_user {
            return Err(CreateError::TooMany(existing));
        }
        let key = NewKey::generate().map_err(|e| PluginError::other(e.to_string()))?;
        let record = KeyRecord {
            id: key.id,
            name,
            prefix: key.prefix,
            scope,
            created_at: now(),
            last_used_at: None,
            expires_at,
            owner,
        };
        // The record first: an index entry never points at nothing it could not clean up.
        self.host.kv_put(&digest_key(&key.digest), &encode(&record)?).await?;
        self.host
            .kv_put(&owner_key(&record.owner.user_id, &record.id), key.digest.as_bytes())
            .await?;
        self.host.kv_flush().await?;
        Ok((record, key.secret))
    }

    /// The record of the key `secret`, if there is one (expired or not: the caller decides).
    pub async fn find(&self, secret: &str) -> Result<Option<(String, KeyRecord)>, PluginError> {
        let digest = digest(secret);
        match self.host.kv_get(&digest_key(&digest)).await? {
            Some(bytes) => Ok(Some((digest, decode(&bytes)?))),
            None => Ok(None),
        }
    }

    /// Notes that the key was used now, at most once a minute. Losing the race against a revocation must not bring
    /// the key back: the record is only replaced if it is still there unchanged.
    pub async fn touch(&self, digest: &str, record: &KeyRecord) -> Result<(), PluginError> {
        let now = now();
        if record
            .last_used_at
            .is_some_and(|used| now.saturating_sub(used) < LAST_USED_RESOLUTION_SECS)
        {
            return Ok(());
        }
        let before = encode(record)?;
        let after = encode(&KeyRecord {
            last_used_at: Some(now),
            ..record.clone()
        })?;
        self.host
            .kv_compare_and_swap(&digest_key(digest), Some(&before), Some(&after))
            .await?;
        Ok(())
    }

    /// `user_id`'s keys, oldest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<KeyRecord>, PluginError> {
        let mut records = Vec::new();
        for (_, digest) in self.host.kv_scan_prefix(&owner_prefix(user_id), LIST_LIMIT).await? {
            let digest = String::from_utf8_lossy(&digest).into_owned();
            if let Some(bytes) = self.host.kv_get(&digest_key(&digest)).await? {
                records.push(decode(&bytes)?);
            }
        }
        records.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(records)
    }

    /// Deletes `user_id`'s key `id`; whether it existed.
    pub async fn revoke(&self, user_id: &str, id: &str) -> Result<bool, PluginError> {
        let index = owner_key(user_id, id);
        let Some(digest) = self.host.kv_get(&index).await? else {
            return Ok(false);
        };
        let digest = String::from_utf8_lossy(&digest).into_owned();
        self.host.kv_delete(&digest_key(&digest)).await?;
        self.host.kv_delete(&index).await?;
        self.host.kv_flush().await?;
        Ok(true)
    }
}
