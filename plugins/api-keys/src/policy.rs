//! The operator's rules for keys (docs/security.md, "API keys"): how long a key may live, and whose keys are
//! revoked. A key is a credential that outlives any browser session, and this plugin cannot see whether its owner
//! still has an account elsewhere (the enterprise plugin's sign-in is another plugin), so the operator decides:
//!
//! - `max_lifetime_days` (default 90; 0: no limit) bounds every key: one created without `expires_at` gets that
//!   lifetime, a later `expires_at` is refused, and a key stored earlier without one ends that long after it was
//!   made. Lowering it takes effect on every key at the next reload.
//! - `revoke_keys_of = ["oidc:alice"]` offboards users: their keys are refused (401 `invalid_api_key`) and
//!   deleted when presented, and they may not make new ones (403 `api_keys_revoked`).

use std::collections::HashSet;

use crate::record::KeyRecord;

/// Seconds in a day.
const DAY: u64 = 24 * 60 * 60;

/// What `[plugins.api-keys.config]` says about keys' lives.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// In seconds; `None`: keys live until they are revoked or reach their own `expires_at`.
    max_lifetime: Option<u64>,
    revoked_users: HashSet<String>,
}

/// Why a key may not be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("`expires_at` is later than this server lets a key live ({0} days)")]
    TooLong(u64),
    #[error("the API keys of this user were revoked by the operator")]
    Revoked,
}

impl Policy {
    pub fn new(max_lifetime_days: u64, revoked_users: Vec<String>) -> Policy {
        Policy {
            max_lifetime: (max_lifetime_days > 0).then(|| max_lifetime_days.saturating_mul(DAY)),
            revoked_users: revoked_users.into_iter().collect(),
        }
    }

    /// Whether the operator revoked `user_id`'s keys.
    pub fn is_revoked(&self, user_id: &str) -> bool {
        self.revoked_users.contains(user_id)
    }

    /// The expiry a key that `user_id` makes at `now` gets, asked for `requested`.
    pub fn expiry_for(&self, user_id: &str, now: u64, requested: Option<u64>) -> Result<Option<u64>, Refusal> {
        if self.is_revoked(user_id) {
            return Err(Refusal::Revoked);
        }
        let Some(lifetime) = self.max_lifetime else {
            return Ok(requested);
        };
        let latest = now.saturating_add(lifetime);
        match requested {
            Some(at) if at > latest => Err(Refusal::TooLong(lifetime / DAY)),
            Some(at) => Ok(Some(at)),
            None => Ok(Some(latest)),
        }
    }

    /// When a stored key stops working: its own expiry or the end of the longest lifetime, whichever is first.
    pub fn ends_at(&self, record: &KeyRecord) -> Option<u64> {
        let by_lifetime = self
            .max_lifetime
            .map(|lifetime| record.created_at.saturating_add(lifetime));
        match (record.expires_at, by_lifetime) {
            (Some(own), Some(limit)) => Some(own.min(limit)),
            (own, limit) => own.or(limit),
        }
    }

    /// Whether a stored key opens nothing at `now`.
    pub fn has_ended(&self, record: &KeyRecord, now: u64) -> bool {
        self.is_revoked(&record.owner.user_id) || self.ends_at(record).is_some_and(|end| end <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Owner, Scope};

    fn record(created_at: u64, expires_at: Option<u64>) -> KeyRecord {
        KeyRecord {
            id: "id".into(),
            name: "n".into(),
            prefix: "ohk_".into(),
            scope: Scope::Full,
            owner: Owner {
                user_id: "oidc:a".into(),
                login: "a".into(),
            },
            created_at,
            last_used_at: None,
            expires_at,
        }
    }

    #[test]
    fn lifetimes_bound_new_and_stored_keys() {
        let policy = Policy::new(90, Vec::new());
        assert_eq!(policy.expiry_for("u", 1000, None), Ok(Some(1000 + 90 * DAY)));
        assert_eq!(policy.expiry_for("u", 1000, Some(2000)), Ok(Some(2000)));
        assert_eq!(
            policy.expiry_for("u", 1000, Some(1001 + 90 * DAY)),
            Err(Refusal::TooLong(90))
        );
        let old_forever_key = record(1000, None);
        assert!(!policy.has_ended(&old_forever_key, 1000 + 90 * DAY - 1));
        assert!(policy.has_ended(&old_forever_key, 1000 + 90 * DAY));
        assert!(policy.has_ended(&record(1000, Some(1500)), 1500));

        let unlimited = Policy::new(0, Vec::new());
        assert_eq!(unlimited.expiry_for("u", 1000, None), Ok(None));
        assert!(!unlimited.has_ended(&old_forever_key, u64::MAX));
    }

    #[test]
    fn revoked_users_keys_end_and_none_are_made() {
        let policy = Policy::new(0, vec!["oidc:a".into()]);
        assert!(policy.has_ended(&record(1000, None), 1001));
        assert_eq!(policy.expiry_for("oidc:a", 1000, None), Err(Refusal::Revoked));
        assert_eq!(policy.expiry_for("oidc:ab", 1000, None), Ok(None));
    }
}
