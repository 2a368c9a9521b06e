//! The audit trail of the admin API: who changed which plugin setting, when, from what to what. Kept in the
//! store (namespace `admin_audit`), so that every instance on one PostgreSQL database shares it; a key sorts
//! newest first. Entries hold config as written, `${VAR}` placeholders and all: never a resolved secret.

use std::{sync::Arc, time::SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::{Namespace, StoreError};

/// The store namespace of the trail.
pub const NAMESPACE: &str = "admin_audit";
/// The most entries one read answers.
pub const MAX_READ: usize = 1000;

/// Why the trail could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit trail: {0}")]
    Store(#[from] StoreError),
    #[error("the audit entry cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// One change, as `GET /admin/api/audit` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    /// The admin token's name.
    pub who: String,
    /// The plugin changed; `None` for a reload.
    pub plugin: Option<String>,
    /// `enabled`, `order`, `config` or `reload`.
    pub change: String,
    pub before: Value,
    pub after: Value,
}

/// The trail, over its store namespace.
#[derive(Clone)]
pub struct AuditLog {
    entries: Arc<dyn Namespace>,
}

impl AuditLog {
    pub fn new(entries: Arc<dyn Namespace>) -> AuditLog {
        AuditLog { entries }
    }

    /// Records a change made now, durably.
    pub async fn record(
        &self,
        who: &str,
        plugin: Option<&str>,
        change: &str,
        before: Value,
        after: Value,
    ) -> Result<AuditEntry, AuditError> {
        let millis = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        let entry = AuditEntry {
            at: rfc3339(millis),
            who: who.to_owned(),
            plugin: plugin.map(str::to_owned),
            change: change.to_owned(),
            before,
            after,
        };
        let value = serde_json::to_vec(&entry)?;
        self.entries.put(&key(millis), &value).await?;
        self.entries.flush().await?;
        Ok(entry)
    }

    /// The newest `limit` entries, newest first. An entry that does not read (written by a later version) is
    /// left out.
    pub async fn newest(&self, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let found = self.entries.scan_prefix(b"", limit.min(MAX_READ)).await?;
        Ok(found
            .into_iter()
            .filter_map(|(_, value)| serde_json::from_slice(&value).ok())
            .collect())
    }
}

/// A key that sorts newest first: the time counted down from the end of time, then random bytes, so that two
/// changes in one millisecond (on two instances) both stay.
fn key(millis: u64) -> Vec<u8> {
    let mut key = (u64::MAX - millis).to_be_bytes().to_vec();
    let mut random = [0u8; 8];
    // Without randomness the key is still unique enough for one instance; never a reason to lose the entry.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    key.extend_from_slice(&random);
    key
}

/// Unix milliseconds as RFC 3339 (`2026-12-03T21:30:00.123Z`).
fn rfc3339(millis: u64) -> String {
    let seconds = millis / 1000;
    let days = (seconds / 86_400) as i64;
    let in_day = seconds % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_rfc_3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_333_400_123), "2026-12-03T21:30:00.123Z");
    }

    #[test]
    fn later_changes_sort_first() {
        assert!(key(2_000) < key(1_000));
    }
}
