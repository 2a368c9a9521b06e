//! One JSON record per user in a store namespace (`settings`, `secrets`): read, and read-modify-write with
//! compare-and-swap so that two concurrent updates both land, flushed before the update returns. Records hold
//! secrets, so they are sealed under the [`HostKey`] before they reach the store.
//!
//! Updates of one record in one process take turns: racing would only make all but one lose their
//! compare-and-swap and retry, round trips that PostgreSQL makes expensive (64 parallel saves of one record:
//! docs/benchmarks.md). Updates from other processes still meet the compare-and-swap.

use std::{
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, Mutex},
};

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    host_key::{self, HostKey},
    store::{Namespace, StoreError},
};

/// A settings update that cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Invalid(String),
    #[error("a secret named `{0}` exists already")]
    SecretExists(String),
    #[error("no secret named `{0}`")]
    NoSuchSecret(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored settings of this user are unreadable: {0}")]
    Corrupt(String),
}

/// The records of one kind, keyed by user id.
pub struct UserRecords<T> {
    namespace: Arc<dyn Namespace>,
    /// The namespace's name: with the user id, it names a record in the sealed bytes.
    label: &'static str,
    key: Arc<HostKey>,
    /// User id -> the turn of this process's updates of that record. Entries nobody holds are dropped as new
    /// ones are made.
    writers: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for UserRecords<T> {
    fn clone(&self) -> Self {
        UserRecords {
            namespace: Arc::clone(&self.namespace),
            label: self.label,
            key: Arc::clone(&self.key),
            writers: Arc::clone(&self.writers),
            record: PhantomData,
        }
    }
}

/// What [`UserRecords::seal_plain_records`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SealReport {
    pub sealed_now: usize,
    pub already_sealed: usize,
}

impl<T: Serialize + DeserializeOwned + Default> UserRecords<T> {
    pub fn new(namespace: Arc<dyn Namespace>, label: &'static str, key: Arc<HostKey>) -> Self {
        UserRecords {
            namespace,
            label,
            key,
            writers: Arc::default(),
            record: PhantomData,
        }
    }

    fn writer(&self, user_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        writers.retain(|_, turn| Arc::strong_count(turn) > 1);
        Arc::clone(writers.entry(user_id.to_owned()).or_default())
    }

    /// The record of `user_id`, if one was stored.
    pub async fn get(&self, user_id: &str) -> Result<Option<T>, RecordError> {
        self.namespace
            .get(user_id.as_bytes())
            .await?
            .map(|bytes| self.decode(user_id.as_bytes(), &bytes))
            .transpose()
    }

    /// At startup: seals every record still stored in plain JSON (written before records were encrypted), and
    /// checks that every sealed one opens, so a wrong host key stops the start instead of failing users later.
    pub async fn seal_plain_records(&self) -> Result<SealReport, RecordError> {
        let mut report = SealReport::default();
        for (user, bytes) in self.namespace.scan_prefix(b"", usize::MAX).await? {
            if host_key::is_sealed(&bytes) {
                self.open(&user, &bytes)?;
                report.already_sealed += 1;
                continue;
            }
            let sealed = self.seal(&user, &bytes)?;
            // A concurrent writer can only have sealed it already.
            if self
                .namespace
                .compare_and_swap(&user, Some(&bytes), Some(&sealed))
                .await?
            {
                report.sealed_now += 1;
            }
        }
        self.namespace.flush().await?;
        Ok(report)
    }

    fn record_name(&self, user: &[u8]) -> Vec<u8> {
        [self.label.as_bytes(), b"\0", user].concat()
    }

    fn seal(&self, user: &[u8], plain: &[u8]) -> Result<Vec<u8>, RecordError> {
        self.key
            .seal(&self.record_name(user), plain)
            .map_err(|e| RecordError::Corrupt(e.to_string()))
    }

    fn open(&self, user: &[u8], sealed: &[u8]) -> Result<Vec<u8>, RecordError> {
        self.key
            .open(&self.record_name(user), sealed)
            .map_err(|e| RecordError::Corrupt(format!("a record in `{}` does not open: {e}", self.label)))
    }

    fn decode(&self, user: &[u8], bytes: &[u8]) -> Result<T, RecordError> {
        if host_key::is_sealed(bytes) {
            decode(&self.open(user, bytes)?)
        } else {
            decode(bytes)
        }
    }

    /// Applies `change` to the stored record (or a default one) and stores it; `change` may run more than once
    /// if another update lands in between. Nothing is written when `change` fails.
    pub async fn update(
        &self,
        user_id: &str,
        mut change: impl FnMut(&mut T) -> Result<(), RecordError>,
    ) -> Result<T, RecordError> {
        let key = user_id.as_bytes();
        let writer = self.writer(user_id);
        let turn = writer.lock().await;
        let mut attempt = 0u32;
        loop {
            if attempt > 0 {
                // Lost a race for this record: wait a little, randomly, so that many writers of one record (one
                // user's parallel saves) take turns instead of all retrying at once.
                tokio::time::sleep(backoff(attempt)).await;
            }
            attempt = attempt.saturating_add(1);
            let current = self.namespace.get(key).await?;
            let mut record = match &current {
                Some(bytes) => self.decode(key, bytes)?,
                None => T::default(),
            };
            change(&mut record)?;
            let plain = serde_json::to_vec(&record).map_err(|e| RecordError::Corrupt(e.to_string()))?;
            let encoded = self.seal(key, &plain)?;
            if self
                .namespace
                .compare_and_swap(key, current.as_deref(), Some(&encoded))
                .await?
            {
                // The next writer need not wait for this one's flush: flushes of several writes can coincide
                // (sled writes them out together).
                drop(turn);
                self.namespace.flush().await?;
                return Ok(record);
            }
        }
    }
}

/// Up to 100 µs x 2^attempt (at most ~13 ms), uniformly at random.
fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling = 100u64 << attempt.min(7);
    // A fresh `RandomState` is seeded randomly per process and varied per instance: enough for jitter.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    std::time::Duration::from_micros(hasher.finish() % ceiling)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    // serde_json's message names a position, never the content.
    serde_json::from_slice(bytes).map_err(|e| RecordError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::store::{SledStore, Store};

    type Record = BTreeMap<String, String>;

    #[tokio::test]
    async fn plain_records_of_an_earlier_version_are_sealed_at_startup() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let namespace = store.namespace("settings").unwrap();
        namespace.put(b"alice", br#"{"llm_api_key":"sk-plain"}"#).await.unwrap();
        let key = Arc::new(HostKey::resolve(None, dir.path()).unwrap());
        let records = UserRecords::<Record>::new(Arc::clone(&namespace), "settings", key);
        assert_eq!(
            records.get("alice").await.unwrap().unwrap()["llm_api_key"],
            "sk-plain",
            "read as before"
        );

        let report = records.seal_plain_records().await.unwrap();
        assert_eq!((report.sealed_now, report.already_sealed), (1, 0));
        let stored = namespace.get(b"alice").await.unwrap().unwrap();
        assert!(host_key::is_sealed(&stored) && !stored.windows(8).any(|w| w == b"sk-plain"));
        assert_eq!(records.get("alice").await.unwrap().unwrap()["llm_api_key"], "sk-plain");
        let report = records.seal_plain_records().await.unwrap();
        assert_eq!((report.sealed_now, report.already_sealed), (0, 1));

        // Sealed for alice, it does not open as bob's.
        namespace.put(b"bob", &stored).await.unwrap();
        assert!(records.get("bob").await.is_err());
    }
}
