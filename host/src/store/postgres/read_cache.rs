//! Reads served without a round trip while the data has not changed (docs/operating.md, "Several instances").
//!
//! A `get` fills the cache; every write through any host on the database reaches every host's change listener
//! (`listener.rs`: a trigger notifies each changed key), which drops the key. Two rules keep a host from serving
//! a value older than a write another host acknowledged:
//!
//! - **A read that overlapped a change is not kept.** Each read takes a ticket (the count of changes seen so far)
//!   before it asks the database, and its answer is kept only if no change arrived meanwhile: an answer read
//!   before a write committed, but returning after the write's notification was applied, would otherwise stay.
//! - **A lease taken forgets everything.** What a lease guards (a token refresh) reads what the lease's last holder
//!   wrote before letting go, and that write's notification may still be on its way: the host that takes the
//!   lease reads from the database ([`ReadCache::forget_all`], called by `leases.rs`).
//! - **Nothing is kept longer than [`MAX_AGE`]**, nor past the key's own expiry. Notifications arrive within
//!   milliseconds; if the listener's connection stalls without breaking, this bounds how long another host's
//!   write can go unseen here. While the listener is not connected nothing is cached at all.
//!
//! Entries are whole values keyed by namespace and key; over [`MAX_BYTES`] the cache starts over. Reads are
//! counted as `openhost_store_reads_total{from="memory"|"database"}` (docs/operating.md, "Metrics").

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

/// The longest a value is served from the cache: the bound on seeing another host's acknowledged write late.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// The most value bytes kept; past it the cache is emptied and fills again with what is read.
const MAX_BYTES: usize = 32 << 20;

/// One value as read (`None`: the key was absent) and until when it may be served.
struct Entry {
    value: Option<Vec<u8>>,
    until: Instant,
}

#[derive(Default)]
struct Inner {
    /// Whether changes are being heard: nothing is served or kept otherwise.
    live: bool,
    /// How many changes were applied: a read's ticket.
    changes: u64,
    by_namespace: HashMap<Arc<str>, HashMap<Vec<u8>, Entry>>,
    bytes: usize,
}

impl Inner {
    fn clear(&mut self) {
        self.by_namespace.clear();
        self.bytes = 0;
    }
}

/// The metric counting reads by where they were answered from. Named here, not in `telemetry::names`: the
/// telemetry module wraps stores, and the store does not depend on it.
const READS: &str = "openhost_store_reads_total";

/// The cache of one PostgreSQL store, shared by its namespaces and its change listener.
pub struct ReadCache {
    inner: Mutex<Inner>,
    from_memory: metrics::Counter,
    from_database: metrics::Counter,
}

impl Default for ReadCache {
    /// An empty cache, not live until its listener says so. Its counters go to the recorder installed now.
    fn default() -> Self {
        ReadCache {
            inner: Mutex::default(),
            from_memory: metrics::counter!(READS, "from" => "memory"),
            from_database: metrics::counter!(READS, "from" => "database"),
        }
    }
}

/// What a read must present to keep its answer: the changes seen when it started.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    changes: u64,
    started: Instant,
}

impl ReadCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value of `key` if it is cached and still fresh: `Some(None)` is a cached absence.
    pub fn lookup(&self, namespace: &str, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let inner = self.lock();
        if !inner.live {
            self.from_database.increment(1);
            return None;
        }
        let found = inner
            .by_namespace
            .get(namespace)
            .and_then(|keys| keys.get(key))
            .filter(|entry| Instant::now() < entry.until)
            .map(|entry| entry.value.clone());
        match found {
            Some(_) => self.from_memory.increment(1),
            None => self.from_database.increment(1),
        }
        found
    }

    /// A ticket for a read about to ask the database; `None` while changes are not heard (nothing is kept).
    pub fn ticket(&self) -> Option<Ticket> {
        let inner = self.lock();
        inner.live.then(|| Ticket {
            changes: inner.changes,
            started: Instant::now(),
        })
    }

    /// Keeps what a read found, unless a change arrived since its ticket. `expires_in`: the key's own expiry as
    /// the database counted it when it answered, so counting from the ticket never serves it late.
    pub fn fill(
        &self,
        ticket: Ticket,
        namespace: &Arc<str>,
        key: &[u8],
        value: Option<&[u8]>,
        expires_in: Option<Duration>,
    ) {
        let mut inner = self.lock();
        if !inner.live || inner.changes != ticket.changes {
            return;
        }
        let age = expires_in.map_or(MAX_AGE, |left| left.min(MAX_AGE));
        let size = key.len() + value.map_or(0, <[u8]>::len);
        if inner.bytes + size > MAX_BYTES {
            inner.clear();
        }
        inner.bytes += size;
        let entry = Entry {
            value: value.map(<[u8]>::to_vec),
            until: ticket.started + age,
        };
        let keys = inner.by_namespace.entry(Arc::clone(namespace)).or_default();
        if let Some(replaced) = keys.insert(key.to_vec(), entry) {
            let freed = key.len() + replaced.value.map_or(0, |v| v.len());
            inner.bytes = inner.bytes.saturating_sub(freed);
        }
    }

    /// A key changed (a write here, or any host's, heard from the database): it is read again, and no read in
    /// flight keeps its answer.
    pub fn changed(&self, namespace: &str, key: &[u8]) {
        let mut inner = self.lock();
        inner.changes += 1;
        let Some(keys) = inner.by_namespace.get_mut(namespace) else {
            return;
        };
        if let Some(removed) = keys.remove(key) {
            let freed = key.len() + removed.value.map_or(0, |v| v.len());
            inner.bytes = inner.bytes.saturating_sub(freed);
        }
    }

    /// Something in `namespace` changed that a notification could not name (a key too long to carry).
    pub fn namespace_changed(&self, namespace: &str) {
        let mut inner = self.lock();
        inner.changes += 1;
        if let Some(keys) = inner.by_namespace.remove(namespace) {
            let freed: usize = keys
                .iter()
                .map(|(key, entry)| key.len() + entry.value.as_ref().map_or(0, Vec::len))
                .sum();
            inner.bytes = inner.bytes.saturating_sub(freed);
        }
    }

    /// Everything is read again from the database, and no read in flight keeps its answer: this host took a
    /// lease, and must see every write made before its last holder let go, notified yet or not.
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.changes += 1;
        inner.clear();
    }

    /// Changes are heard from now on (`true`), or no longer (`false`): either way what is kept is dropped, since
    /// changes may have been missed in between.
    pub fn set_live(&self, live: bool) {
        let mut inner = self.lock();
        inner.changes += 1;
        inner.live = live;
        inner.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> ReadCache {
        let cache = ReadCache::default();
        cache.set_live(true);
        cache
    }

    #[test]
    fn a_read_is_served_again_until_its_key_changes() {
        let cache = live();
        let settings: Arc<str> = Arc::from("settings");
        assert_eq!(cache.lookup("settings", b"alice"), None);
        let ticket = cache.ticket().expect("live");
        cache.fill(ticket, &settings, b"alice", Some(b"v1"), None);
        assert_eq!(cache.lookup("settings", b"alice"), Some(Some(b"v1".to_vec())));
        cache.fill(cache.ticket().expect("live"), &settings, b"bob", None, None);
        assert_eq!(cache.lookup("settings", b"bob"), Some(None), "an absence is kept too");
        cache.changed("settings", b"alice");
        assert_eq!(cache.lookup("settings", b"alice"), None);
        assert_eq!(cache.lookup("settings", b"bob"), Some(None), "other keys stay");
        cache.namespace_changed("settings");
        assert_eq!(cache.lookup("settings", b"bob"), None);
    }

    #[test]
    fn a_lease_taken_forgets_what_is_kept_and_what_is_in_flight() {
        let cache = live();
        let tokens: Arc<str> = Arc::from("tokens");
        cache.fill(
            cache.ticket().expect("live"),
            &tokens,
            b"alice",
            Some(b"before-refresh"),
            None,
        );
        let in_flight = cache.ticket().expect("live");
        cache.forget_all();
        assert_eq!(cache.lookup("tokens", b"alice"), None, "read again from the database");
        cache.fill(in_flight, &tokens, b"alice", Some(b"before-refresh"), None);
        assert_eq!(
            cache.lookup("tokens", b"alice"),
            None,
            "a read begun before is not kept"
        );
        cache.fill(
            cache.ticket().expect("live"),
            &tokens,
            b"alice",
            Some(b"refreshed"),
            None,
        );
        assert_eq!(cache.lookup("tokens", b"alice"), Some(Some(b"refreshed".to_vec())));
    }

    #[test]
    fn a_read_that_overlapped_a_change_is_not_kept() {
        let cache = live();
        let settings: Arc<str> = Arc::from("settings");
        let ticket = cache.ticket().expect("live");
        // Another host's write is heard while the read is in flight: the read may hold the old value.
        cache.changed("settings", b"other-key");
        cache.fill(ticket, &settings, b"alice", Some(b"old"), None);
        assert_eq!(cache.lookup("settings", b"alice"), None);
    }

    #[test]
    fn nothing_is_kept_past_its_expiry_or_while_changes_are_not_heard() {
        let cache = live();
        let sessions: Arc<str> = Arc::from("sessions");
        let ticket = cache.ticket().expect("live");
        cache.fill(ticket, &sessions, b"s", Some(b"v"), Some(Duration::ZERO));
        assert_eq!(cache.lookup("sessions", b"s"), None, "expired as it was read");
        let ticket = cache.ticket().expect("live");
        cache.fill(ticket, &sessions, b"s", Some(b"v"), None);
        cache.set_live(false);
        assert_eq!(cache.lookup("sessions", b"s"), None);
        assert!(cache.ticket().is_none());
        cache.fill(ticket, &sessions, b"s", Some(b"v"), None);
        cache.set_live(true);
        assert_eq!(
            cache.lookup("sessions", b"s"),
            None,
            "dropped when the listener came back"
        );
    }

    #[test]
    fn the_cache_starts_over_past_its_size() {
        let cache = live();
        let big: Arc<str> = Arc::from("big");
        let value = vec![0u8; MAX_BYTES / 2];
        for key in [b"a", b"b", b"c"] {
            cache.fill(cache.ticket().expect("live"), &big, key, Some(&value), None);
        }
        assert_eq!(cache.lookup("big", b"a"), None);
        assert!(cache.lookup("big", b"c").is_some());
        assert!(cache.lock().bytes <= MAX_BYTES);
    }
}
