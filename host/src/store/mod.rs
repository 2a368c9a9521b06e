//! Persistent state behind a small trait with two implementations: the embedded sled database ([`sled`], the
//! default, one process) and PostgreSQL ([`postgres`], several processes on one database; docs/operating.md,
//! "Several instances"). One namespace per owner: `settings`, `secrets`, and `plugin/<name>` for each plugin.
//!
//! Every operation is a future, so that a store behind a network connection fits the same trait; the futures are
//! `'static` (they own what they need), so that they can cross the plugin ABI and be polled anywhere. sled answers
//! from its page cache at once: its futures are ready on the first poll. What makes a write durable is
//! [`Namespace::flush`], which must complete before a 2xx reports the write.

pub mod postgres;
pub mod sled;

use std::{future::Future, pin::Pin, sync::Arc};

pub use self::{postgres::PostgresStore, sled::SledStore};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Backend(String),
    /// The database cannot be reached (PostgreSQL down, the pool exhausted for too long).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

/// Key-value pairs, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

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
}
