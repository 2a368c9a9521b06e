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

mod contract;
mod error;
pub mod postgres;
pub mod sled;

use std::{sync::Arc, time::Duration};

pub(crate) use self::{contract::ttl_millis, error::done};
pub use self::{
    contract::{Entries, ExportedEntry, KeyChange, Namespace, Store},
    error::{Cause, StoreError, StoreFuture},
    postgres::PostgresStore,
    sled::SledStore,
};

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
