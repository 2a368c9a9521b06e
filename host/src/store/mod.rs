//! Persistent state behind a small trait with two implementations: the embedded sled database ([`sled`], the
//! default, one process) and PostgreSQL ([`postgres`], several processes on one database; docs/operating.md,
//! "Several instances"). One namespace per owner: `settings`, `secrets`, and `plugin/<name>` for each plugin.
//!
//! Every operation is a future, so that a store behind a network connection fits the same trait; the futures are
//! `'static` (they own what they need), so that they can cross the plugin ABI and be polled anywhere. sled answers
//! from its page cache at once: its futures are ready on the first poll. What makes a write durable is
//! [`Namespace::flush`], which must complete before a 2xx reports the write.
//!
//! A key may carry an expiry ([`Namespace::put_expiring`]): from its deadline on it reads as absent to every
//! operation (get, delete, compare-and-swap, scans), on both stores alike, and [`Store::sweep_expired`] removes
//! it for good. Every other write makes the key permanent again.

pub mod postgres;
pub mod sled;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

pub use self::{postgres::PostgresStore, sled::SledStore};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Backend(String),
    /// The database cannot be reached (PostgreSQL down, the pool exhausted for too long, handed to another
    /// process).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Another process has the database open (sled allows one).
    #[error("the database is locked: another openhost process is using this data directory")]
    Locked,
}

/// Key-value pairs, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One entry as copied out of a store: key, value, and the time it has left if it expires.
pub type ExportedEntry = (Vec<u8>, Vec<u8>, Option<Duration>);

/// A store operation in progress.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// An answer that is already there.
pub(crate) fn done<T: Send + 'static>(result: Result<T, StoreError>) -> StoreFuture<T> {
    Box::pin(std::future::ready(result))
}

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

/// A database of namespaces.
pub trait Store: Send + Sync {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>, StoreError>;
    /// Flushes everything; used at shutdown.
    fn flush_all(&self) -> Result<(), StoreError>;
    /// Removes every expired key of every namespace; how many it removed. Expired keys already read as absent:
    /// this only gives their space back.
    fn sweep_expired(&self) -> StoreFuture<u64>;
    /// Where this store's leases live (crate::lease): as widely shared as the store itself.
    fn lease_backend(&self) -> Arc<dyn crate::lease::LeaseBackend>;
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

/// How often a serving host removes expired keys.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Removes expired keys every minute, for as long as the host serves. Several hosts on one database sweep it
/// each; a sweep finds what the last one left.
pub async fn sweep_periodically(store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        match store.sweep_expired().await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "removed expired keys"),
            Err(e) => tracing::warn!("removing expired keys failed: {e}"),
        }
    }
}

/// Milliseconds from `ttl` on, capped so that no store overflows on a huge one (about 292 million years).
pub(crate) fn ttl_millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2).min(i64::MAX / 2)
}
