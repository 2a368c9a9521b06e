//! Leases: single-flight across processes. A lease is a name one holder at a time may hold; it lapses after its
//! time to live unless renewed, so a holder that dies (SIGKILL, a lost machine) frees it without anyone's help,
//! and a holder that lives keeps it for as long as it works: [`Leases`] renews every held lease at a third of its
//! time to live until it is released.
//!
//! Where the names live is the store's business ([`LeaseBackend`]): in this process for sled (one process owns
//! the database), in the `openhost_leases` table for PostgreSQL (every host on the database). Plugins reach this
//! through the host services (`lease_acquire`, `lease_release`, interface 1.3), under names of their own.

pub mod memory;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use ring::rand::{SecureRandom, SystemRandom};
use tokio::{sync::Notify, task::AbortHandle, time::Instant};

use crate::store::{StoreError, StoreFuture};

/// The shortest time to live a lease gets: renewals run at a third of it.
pub const MIN_TTL: Duration = Duration::from_millis(500);
/// The longest a caller waits for a lease.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// The longest pause between two attempts to take a lease held elsewhere.
const MAX_POLL: Duration = Duration::from_millis(100);

/// Where lease records live. Each call is atomic on its own.
pub trait LeaseBackend: Send + Sync {
    /// Takes `name` for `holder` for `ttl` if nobody holds it or its holder let it lapse; `true` if taken.
    fn try_take(&self, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool>;
    /// Extends `holder`'s lease to `ttl` from now; `false` if it lapsed and was taken by another.
    fn renew(&self, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool>;
    /// Gives the lease back if `holder` still holds it.
    fn release(&self, name: &str, holder: &str) -> StoreFuture<()>;
}

/// A lease this process holds.
struct Held {
    name: String,
    holder: String,
    renewal: AbortHandle,
}

/// The lease service of one host: takes, renews and releases leases through a [`LeaseBackend`].
pub struct Leases {
    backend: Arc<dyn LeaseBackend>,
    runtime: tokio::runtime::Handle,
    held: Mutex<HashMap<u64, Held>>,
    next_id: AtomicU64,
    /// Wakes this process's waiters when one of its leases is released (other processes' releases are found by
    /// polling).
    released: Notify,
}

impl Leases {
    pub fn new(backend: Arc<dyn LeaseBackend>, runtime: tokio::runtime::Handle) -> Arc<Leases> {
        Arc::new(Leases {
            backend,
            runtime,
            held: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            released: Notify::new(),
        })
    }

    /// Waits up to `wait` (at most [`MAX_WAIT`]) to hold `name` for `ttl` (at least [`MIN_TTL`]), renewed until
    /// [`Leases::release`]. The lease's id, or `None` if another holder kept it all that time.
    pub async fn acquire(
        self: &Arc<Self>,
        name: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let ttl = ttl.max(MIN_TTL);
        let deadline = Instant::now() + wait.min(MAX_WAIT);
        let holder = new_holder();
        let mut pause = Duration::from_millis(5);
        loop {
            // Made before the attempt, so that a release between the attempt and the wait still wakes us.
            let released = self.released.notified();
            if self.backend.try_take(name, &holder, ttl).await? {
                return Ok(Some(self.hold(name, holder, ttl)));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::select! {
                _ = released => {}
                _ = tokio::time::sleep(pause.min(deadline - now)) => {}
            }
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// Gives a lease back, if `id` is one of `owner`'s (the name starts with it). Returns at once: the record is
    /// removed in the background, then this process's waiters try again.
    pub fn release(self: &Arc<Self>, id: u64, owner: &str) {
        let held = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            match held.get(&id) {
                Some(lease) if lease.name.starts_with(owner) => held.remove(&id),
                _ => None,
            }
        };
        let Some(lease) = held else {
            return;
        };
        lease.renewal.abort();
        let leases = Arc::clone(self);
        self.runtime.spawn(async move {
            if let Err(e) = leases.backend.release(&lease.name, &lease.holder).await {
                // It lapses by itself at the end of its time to live.
                tracing::warn!(lease = %lease.name, "releasing a lease failed: {e}");
            }
            leases.released.notify_waiters();
        });
    }

    /// How many leases this process holds.
    pub fn held(&self) -> usize {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn hold(self: &Arc<Self>, name: &str, holder: String, ttl: Duration) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let renewal = self
            .runtime
            .spawn(renew(Arc::clone(&self.backend), name.to_owned(), holder.clone(), ttl))
            .abort_handle();
        let lease = Held {
            name: name.to_owned(),
            holder,
            renewal,
        };
        self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(id, lease);
        id
    }
}

/// Keeps a lease alive until aborted: a renewal every third of its time to live leaves two more tries before it
/// could lapse.
async fn renew(backend: Arc<dyn LeaseBackend>, name: String, holder: String, ttl: Duration) {
    loop {
        tokio::time::sleep(ttl / 3).await;
        match backend.renew(&name, &holder, ttl).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(lease = %name, "a lease lapsed while held (its holder was stalled past its time to live)");
                return;
            }
            Err(e) => tracing::warn!(lease = %name, "renewing a lease failed; retrying: {e}"),
        }
    }
}

/// A holder's identity: unique across processes and restarts.
fn new_holder() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness two holders could share an identity; a clock-based one is still unique per process.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos ^ u128::from(std::process::id())).to_be_bytes();
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leases() -> Arc<Leases> {
        Leases::new(
            Arc::new(memory::MemoryLeases::default()),
            tokio::runtime::Handle::current(),
        )
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_a_release_wakes_a_waiter() {
        let leases = leases();
        let ttl = Duration::from_secs(5);
        let first = leases.acquire("p/x", ttl, Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(
            leases.acquire("p/x", ttl, Duration::from_millis(50)).await.unwrap(),
            None
        );
        assert!(
            leases.acquire("p/y", ttl, Duration::ZERO).await.unwrap().is_some(),
            "names are separate"
        );
        let waiter = {
            let leases = Arc::clone(&leases);
            tokio::spawn(async move { leases.acquire("p/x", ttl, Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        leases.release(first, "q/");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "another owner's release does nothing");
        leases.release(first, "p/");
        let started = Instant::now();
        assert!(waiter.await.unwrap().unwrap().is_some());
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_held_lease_is_renewed_and_an_abandoned_one_lapses() {
        let leases = leases();
        let ttl = MIN_TTL;
        leases.acquire("p/held", ttl, Duration::ZERO).await.unwrap().unwrap();
        tokio::time::sleep(ttl * 3).await;
        assert_eq!(
            leases.acquire("p/held", ttl, Duration::ZERO).await.unwrap(),
            None,
            "renewed"
        );

        // A holder that stops renewing (a killed process) loses the lease after its time to live.
        let backend = memory::MemoryLeases::default();
        assert!(backend.try_take("p/dead", "gone", ttl).await.unwrap());
        let other = Leases::new(Arc::new(backend), tokio::runtime::Handle::current());
        let started = Instant::now();
        assert!(
            other
                .acquire("p/dead", ttl, Duration::from_secs(5))
                .await
                .unwrap()
                .is_some()
        );
        assert!(started.elapsed() >= ttl - Duration::from_millis(50));
    }
}
