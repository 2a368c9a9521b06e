//! How a store operation ends: its future, and its error with the database's own error kept as the cause.

use std::{future::Future, pin::Pin};

/// What a database or the file system said, kept as the cause of a [`StoreError`].
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Backend(#[source] Cause),
    /// The database cannot be reached (PostgreSQL down, the pool exhausted for too long, handed to another
    /// process).
    #[error("the store is unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// Another process has the database open (sled allows one).
    #[error("the database is locked: another openhost process is using this data directory")]
    Locked,
}

/// A store operation in progress.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// An answer that is already there.
pub(crate) fn done<T: Send + 'static>(result: Result<T, StoreError>) -> StoreFuture<T> {
    Box::pin(std::future::ready(result))
}
