//! What every store implements: ordered key-value namespaces with expiry, and the store that hands them out
//! (with where its leases live).

use std::{sync::Arc, time::Duration};

use crate::{
    lease::LeaseBackend,
    store::error::{StoreError, StoreFuture},
};

/// Key-value pairs, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One entry as copied out of a store: key, value, and the time it has left if it expires.
pub type ExportedEntry = (Vec<u8>, Vec<u8>, Option<Duration>);

/// An ordered key-value namespace.
pub trait Namespace: Send + Sync {
    fn get(&self, key: &[u8]) -> StoreFuture<Option<Vec<u8>>>;
    fn put(&self, key: &[u8], value: &[u8]) -> StoreFuture<()>;
    /// Stores a value that reads as absent once `ttl` has passed.
    fn put_expiring(&self, key: &[u8], value: &[u8], ttl: Duration) -> StoreFuture<()>;
    /// `true` if the key existed.
    fn delete(&self, key: &[u8]) -> StoreFuture<bool>;
    /// Sets `key` to `new` (absent on `None`) if it currently equals `expected` (absent on `None`).
    fn compare_and_swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<&[u8]>) -> StoreFuture<bool>;
    /// At most `limit` entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> StoreFuture<Entries>;
    /// Makes every earlier write durable.
    fn flush(&self) -> StoreFuture<()>;
}

/// A key some process changed, as a store shared by several processes reports it ([`Store::changes`]).
#[derive(Debug, Clone)]
pub struct KeyChange {
    pub namespace: Arc<str>,
    /// `None`: any key of the namespace, or (with an empty namespace) anything at all.
    pub key: Option<Vec<u8>>,
}

impl KeyChange {
    /// Anything may have changed: changes were not heard for a while.
    pub fn anything() -> KeyChange {
        KeyChange {
            namespace: Arc::from(""),
            key: None,
        }
    }

    /// Whether this change may be of `key` in `namespace`.
    pub fn may_be(&self, namespace: &str, key: &[u8]) -> bool {
        self.namespace.is_empty() || (&*self.namespace == namespace && self.key.as_deref().is_none_or(|k| k == key))
    }
}

/// A database of namespaces.
pub trait Store: Send + Sync {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>, StoreError>;
    /// Flushes everything; used at shutdown.
    fn flush_all(&self) -> Result<(), StoreError>;
    /// Removes every expired key of every namespace; how many it removed. Expired keys already read as absent:
    /// this only gives their space back.
    fn sweep_expired(&self) -> StoreFuture<u64>;
    /// Changes made by any process sharing the store, as they are heard; `None` for a store only this process
    /// writes (nothing to hear).
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<KeyChange>> {
        None
    }
    /// Where this store's leases live (crate::lease): as widely shared as the store itself.
    fn lease_backend(&self) -> Arc<dyn LeaseBackend>;
    /// Whether only one process may have the database open (a host upgrade then hands it over).
    fn exclusive(&self) -> bool {
        false
    }
    /// Flushes and lets go of the database so that another process can open it (a host upgrade); every
    /// operation fails with `Unavailable` until [`Store::take_back`]. A store processes share keeps serving.
    fn hand_over(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Opens the database again after [`Store::hand_over`] (the new process failed and this one serves on).
    fn take_back(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Milliseconds from `ttl` on, capped so that no store overflows on a huge one (about 292 million years).
pub(crate) fn ttl_millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2).min(i64::MAX / 2)
}
