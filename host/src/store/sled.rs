//! The embedded default store: one sled database in `data_dir`, one tree per namespace.
//!
//! The database can be handed to another process and taken back ([`Store::hand_over`], a host upgrade). The
//! store keeps a list of the namespaces it handed out; handing over makes each let go of its trees (kept behind
//! a lock an operation only reads) and drops the database's last handle, which releases sled's lock; taking
//! back reopens them.
//!
//! Expiries live in a companion tree per namespace (key -> deadline, milliseconds since the Unix epoch, big
//! endian), so that values keep the bytes they always had. Every write goes through one transaction over both
//! trees: a value and its expiry never disagree, even between two writers of one key. Until a key is written with
//! an expiry, no companion tree holds one and a read skips its lookup there: most deployments never write one,
//! and a read is then one lookup, not two.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, RwLock, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use ::sled::{
    IVec, Transactional,
    transaction::{ConflictableTransactionResult, TransactionError, TransactionalTree},
};

use super::{Entries, ExportedEntry, Namespace, Store, StoreError, StoreFuture, done, ttl_millis};
use crate::lease::{LeaseBackend, memory::MemoryLeases};

/// Companion trees are named this plus their namespace's name: no namespace name starts with a NUL byte.
const EXPIRY_TREE: &str = "\0expiry:";

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn deadline(stored: &[u8]) -> i64 {
    stored.try_into().map_or(i64::MAX, i64::from_be_bytes)
}

/// Whether a companion tree's entry (if any) says the key is past its deadline.
fn is_expired(entry: Option<&IVec>, now: i64) -> bool {
    entry.is_some_and(|stored| deadline(stored) <= now)
}

impl From<::sled::Error> for StoreError {
    fn from(e: ::sled::Error) -> Self {
        StoreError::Backend(e.into())
    }
}

/// The embedded default: one sled database in `data_dir`.
pub struct SledStore {
    dir: PathBuf,
    /// `None` while another process has it.
    db: RwLock<Option<::sled::Db>>,
    /// Every namespace handed out (by name), so that handing the database over can make them let go of it.
    namespaces: Mutex<Vec<(String, Weak<TreesCell>)>>,
    /// Only this process opens the database, so its leases can live in its memory.
    leases: Arc<MemoryLeases>,
    /// Whether any companion tree may hold an expiry: read from the database when it is opened, set by the first
    /// write of an expiring key. Only this process writes the database, so while it is false no key expires.
    expiring: Arc<AtomicBool>,
}

/// A namespace's tree and its companion (key -> deadline, for the keys that expire).
type Trees = (::sled::Tree, ::sled::Tree);

/// A namespace's trees; `None` while another process has the database.
type TreesCell = RwLock<Option<Trees>>;

/// How often [`SledStore::open_waiting`] and a take-back look again whether the database's lock is free.
const LOCK_WAIT_STEP: Duration = Duration::from_millis(20);
/// How long taking the database back waits for its lock: whoever had it has already let go (the new process
/// exited, or its store was dropped), so only its last moments are waited for.
const TAKE_BACK_WAIT: Duration = Duration::from_secs(2);

fn handed_over() -> StoreError {
    StoreError::Unavailable("the database has been handed to another openhost process".into())
}

/// Whether any namespace of `db` holds a key with an expiry.
fn holds_expiring(db: &::sled::Db) -> Result<bool, StoreError> {
    for name in db.tree_names() {
        if name.starts_with(EXPIRY_TREE.as_bytes()) && !db.open_tree(&name)?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The trees of namespace `name` in `db`, created if new.
fn open_trees(db: &::sled::Db, name: &str) -> Result<Trees, StoreError> {
    Ok((db.open_tree(name)?, db.open_tree(format!("{EXPIRY_TREE}{name}"))?))
}

impl SledStore {
    /// Opens (or creates) the database. A second process on the same directory, or a damaged database, is an
    /// error here with sled's reason, not a panic later.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_waiting(dir, Duration::ZERO)
    }

    /// Opens the database once the process that holds it lets go, waiting up to `wait` (a host upgrade: the old
    /// process releases it while the new one starts).
    pub fn open_waiting(dir: &Path, wait: Duration) -> Result<SledStore, StoreError> {
        let loosened = crate::data_dir::make_private(dir).map_err(|e| StoreError::Backend(e.into()))?;
        if loosened > 0 {
            tracing::warn!(entries = loosened, dir = %dir.display(), "the data directory was readable by other users; made it private");
        }
        let db = open_db_waiting(dir, wait)?;
        let expiring = holds_expiring(&db)?;
        Ok(SledStore {
            dir: dir.to_owned(),
            db: RwLock::new(Some(db)),
            namespaces: Mutex::default(),
            leases: Arc::default(),
            expiring: Arc::new(AtomicBool::new(expiring)),
        })
    }
}

/// [`open_db`], trying again while another holder lets go of the lock, for up to `wait`.
fn open_db_waiting(dir: &Path, wait: Duration) -> Result<::sled::Db, StoreError> {
    let started = Instant::now();
    loop {
        match open_db(dir) {
            Err(StoreError::Locked) if started.elapsed() < wait => std::thread::sleep(LOCK_WAIT_STEP),
            other => return other,
        }
    }
}

fn open_db(dir: &Path) -> Result<::sled::Db, StoreError> {
    ::sled::Config::new().path(dir).open().map_err(|e| match e {
        // sled reports a held lock as an `Other` I/O error whose text says so.
        ::sled::Error::Io(io)
            if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock") =>
        {
            StoreError::Locked
        }
        ::sled::Error::Corruption { .. } => StoreError::Backend(
            "the database is corrupted: sled cannot read its files (restore the data directory from a backup)".into(),
        ),
        other => StoreError::from(other),
    })
}

impl SledStore {
    /// The open database.
    fn current(&self) -> Result<::sled::Db, StoreError> {
        let db = self.db.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        db.clone().ok_or_else(handed_over)
    }

    fn open_namespace(&self, name: &str) -> Result<SledNamespace, StoreError> {
        let trees = Arc::new(RwLock::new(Some(open_trees(&self.current()?, name)?)));
        let mut namespaces = self.namespaces.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        namespaces.retain(|(_, namespace)| namespace.strong_count() > 0);
        namespaces.push((name.to_owned(), Arc::downgrade(&trees)));
        Ok(SledNamespace {
            trees,
            expiring: Arc::clone(&self.expiring),
        })
    }

    /// Sets the trees of every namespace still in use: `None` to let go of the database, reopened to take it back.
    fn reset_namespaces(
        &self,
        mut trees_of: impl FnMut(&str) -> Result<Option<Trees>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut namespaces = self.namespaces.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        namespaces.retain(|(_, namespace)| namespace.strong_count() > 0);
        for (name, namespace) in namespaces.iter() {
            if let Some(cell) = namespace.upgrade() {
                *cell.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = trees_of(name)?;
            }
        }
        Ok(())
    }

    /// The names of the namespaces that exist.
    fn namespace_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .current()?
            .tree_names()
            .iter()
            .filter(|name| name.as_ref() != b"__sled__default" && !name.starts_with(EXPIRY_TREE.as_bytes()))
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect())
    }

    /// Every namespace and its live entries, for copying the database elsewhere (`openhost store migrate`).
    pub fn export(&self) -> Result<Vec<(String, Vec<ExportedEntry>)>, StoreError> {
        let now = now_millis();
        let mut namespaces = Vec::new();
        for name in self.namespace_names()? {
            let (tree, expiry) = self.open_namespace(&name)?.trees()?;
            let mut entries = Vec::new();
            for entry in tree.iter() {
                let (key, value) = entry?;
                let ttl = match expiry.get(&key)? {
                    Some(stored) if deadline(&stored) <= now => continue,
                    Some(stored) => Some(Duration::from_millis((deadline(&stored) - now).unsigned_abs())),
                    None => None,
                };
                entries.push((key.to_vec(), value.to_vec(), ttl));
            }
            namespaces.push((name, entries));
        }
        Ok(namespaces)
    }
}

impl Store for SledStore {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>, StoreError> {
        Ok(Arc::new(self.open_namespace(name)?))
    }

    fn flush_all(&self) -> Result<(), StoreError> {
        match self.current() {
            Ok(db) => {
                db.flush()?;
                Ok(())
            }
            // Flushed when it was handed over; the other process owns it now.
            Err(_) => Ok(()),
        }
    }

    fn exclusive(&self) -> bool {
        true
    }

    fn hand_over(&self) -> Result<(), StoreError> {
        let db = self.db.write().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        self.reset_namespaces(|_| Ok(None))?;
        if let Some(db) = db {
            db.flush()?;
            // The last handle: sled stops its threads and releases its lock (an operation still running holds a
            // clone for a moment; the other process waits for the lock).
            drop(db);
        }
        Ok(())
    }

    fn take_back(&self) -> Result<(), StoreError> {
        let mut db = self.db.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if db.is_none() {
            // The holder has let go, but its last handles may close a moment later (sled's threads stop after the
            // last handle; seen in a CI run): the lock is waited for, briefly.
            let reopened = open_db_waiting(&self.dir, TAKE_BACK_WAIT)?;
            // The other process may have written expiring keys while it had the database.
            self.expiring.store(holds_expiring(&reopened)?, Ordering::Release);
            self.reset_namespaces(|name| open_trees(&reopened, name).map(Some))?;
            *db = Some(reopened);
        }
        Ok(())
    }

    fn lease_backend(&self) -> Arc<dyn LeaseBackend> {
        Arc::clone(&self.leases) as Arc<dyn LeaseBackend>
    }

    fn sweep_expired(&self) -> StoreFuture<u64> {
        let namespaces: Result<Vec<_>, _> = self
            .namespace_names()
            .and_then(|names| names.iter().map(|name| self.open_namespace(name)?.trees()).collect());
        Box::pin(async move {
            let namespaces = namespaces?;
            tokio::task::spawn_blocking(move || {
                let mut removed = 0;
                for (tree, expiry) in &namespaces {
                    removed += sweep(tree, expiry)?;
                }
                Ok(removed)
            })
            .await
            .map_err(|e| StoreError::Backend(format!("the sweep task failed: {e}").into()))?
        })
    }
}

struct SledNamespace {
    trees: Arc<TreesCell>,
    /// The store's: whether a read must look for an expiry.
    expiring: Arc<AtomicBool>,
}

/// Runs `write` as one transaction over a namespace's values and their expiries.
fn transaction<T>(
    (tree, expiry): (&::sled::Tree, &::sled::Tree),
    write: impl Fn(&TransactionalTree, &TransactionalTree) -> ConflictableTransactionResult<T, ()>,
) -> Result<T, StoreError> {
    (tree, expiry)
        .transaction(|(tree, expiry)| write(tree, expiry))
        .map_err(|e| match e {
            TransactionError::Storage(e) => StoreError::from(e),
            TransactionError::Abort(()) => StoreError::Backend("a store transaction was aborted".into()),
        })
}

/// Removes a namespace's keys past their deadline; how many.
fn sweep(tree: &::sled::Tree, expiry: &::sled::Tree) -> Result<u64, StoreError> {
    let now = now_millis();
    let mut removed = 0;
    for entry in expiry.iter() {
        let (key, stored) = entry?;
        if deadline(&stored) > now {
            continue;
        }
        // Re-checked inside the transaction: a writer may have renewed the key since.
        let swept = transaction((tree, expiry), |tree, expiry| {
            if !is_expired(expiry.get(&key)?.as_ref(), now) {
                return Ok(false);
            }
            tree.remove(&key)?;
            expiry.remove(&key)?;
            Ok(true)
        })?;
        removed += u64::from(swept);
    }
    Ok(removed)
}

impl SledNamespace {
    /// Whether `key`'s companion entry says it is past its deadline (no lookup while no key has an expiry).
    fn expired(&self, expiry: &::sled::Tree, key: &[u8], now: i64) -> Result<bool, StoreError> {
        if !self.expiring.load(Ordering::Acquire) {
            return Ok(false);
        }
        Ok(is_expired(expiry.get(key)?.as_ref(), now))
    }

    /// The namespace's tree and its companion, unless the database has been handed over.
    fn trees(&self) -> Result<Trees, StoreError> {
        let trees = self.trees.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        trees.clone().ok_or_else(handed_over)
    }

    /// Runs `write` as one transaction over the values and their expiries.
    fn write<T>(
        &self,
        write: impl Fn(&TransactionalTree, &TransactionalTree) -> ConflictableTransactionResult<T, ()>,
    ) -> Result<T, StoreError> {
        let (tree, expiry) = self.trees()?;
        transaction((&tree, &expiry), write)
    }
}

impl Namespace for SledNamespace {
    fn get(&self, key: &[u8]) -> StoreFuture<Option<Vec<u8>>> {
        let read = || {
            let (tree, expiry) = self.trees()?;
            match tree.get(key)? {
                Some(value) if !self.expired(&expiry, key, now_millis())? => Ok(Some(value.to_vec())),
                _ => Ok(None),
            }
        };
        done(read())
    }

    fn put(&self, key: &[u8], value: &[u8]) -> StoreFuture<()> {
        done(self.write(|tree, expiry| {
            tree.insert(key, value)?;
            expiry.remove(key)?;
            Ok(())
        }))
    }

    fn put_expiring(&self, key: &[u8], value: &[u8], ttl: Duration) -> StoreFuture<()> {
        let deadline = now_millis().saturating_add(ttl_millis(ttl)).to_be_bytes();
        // Before the write: a read that finds the key finds the flag set.
        self.expiring.store(true, Ordering::Release);
        done(self.write(|tree, expiry| {
            tree.insert(key, value)?;
            expiry.insert(key, &deadline)?;
            Ok(())
        }))
    }

    fn delete(&self, key: &[u8]) -> StoreFuture<bool> {
        let now = now_millis();
        done(self.write(|tree, expiry| {
            let removed = tree.remove(key)?;
            let deadline = expiry.remove(key)?;
            Ok(removed.is_some() && !is_expired(deadline.as_ref(), now))
        }))
    }

    fn compare_and_swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<&[u8]>) -> StoreFuture<bool> {
        let now = now_millis();
        done(self.write(|tree, expiry| {
            let current = tree.get(key)?;
            let deadline = expiry.get(key)?;
            let live = current.filter(|_| !is_expired(deadline.as_ref(), now));
            if live.as_deref() != expected {
                return Ok(false);
            }
            match new {
                Some(new) => tree.insert(key, new)?,
                None => tree.remove(key)?,
            };
            if deadline.is_some() {
                expiry.remove(key)?;
            }
            Ok(true)
        }))
    }

    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> StoreFuture<Entries> {
        let now = now_millis();
        let (tree, expiry) = match self.trees() {
            Ok(trees) => trees,
            Err(e) => return done(Err(e)),
        };
        let mut entries = Vec::new();
        for entry in tree.scan_prefix(prefix) {
            if entries.len() >= limit {
                break;
            }
            let (key, value) = match entry {
                Ok(entry) => entry,
                Err(e) => return done(Err(e.into())),
            };
            match self.expired(&expiry, &key, now) {
                Ok(true) => continue,
                Ok(false) => entries.push((key.to_vec(), value.to_vec())),
                Err(e) => return done(Err(e)),
            }
        }
        done(Ok(entries))
    }

    /// sled 0.34's `flush_async` can leave concurrent flushes never woken (spacejam/sled#1241, #1308; seen here
    /// as requests stuck until the plugin deadline under load), so the synchronous flush runs on a blocking thread.
    /// Needs a tokio runtime, which every caller in the host has.
    fn flush(&self) -> StoreFuture<()> {
        let tree = match self.trees() {
            Ok((tree, _)) => tree,
            Err(e) => return done(Err(e)),
        };
        Box::pin(async move {
            tokio::task::spawn_blocking(move || tree.flush())
                .await
                .map_err(|e| StoreError::Backend(format!("the flush task failed: {e}").into()))??;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn namespaces_are_separate_and_cas_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let a = store.namespace("plugin/a").unwrap();
        let b = store.namespace("plugin/b").unwrap();
        a.put(b"k", b"1").await.unwrap();
        assert_eq!(b.get(b"k").await.unwrap(), None);
        assert!(!a.compare_and_swap(b"k", Some(b"2"), Some(b"3")).await.unwrap());
        assert!(a.compare_and_swap(b"k", Some(b"1"), Some(b"3")).await.unwrap());
        assert!(a.compare_and_swap(b"new", None, Some(b"x")).await.unwrap());
        assert_eq!(a.scan_prefix(b"", 10).await.unwrap().len(), 2);
        assert_eq!(a.scan_prefix(b"", 1).await.unwrap().len(), 1);
        assert!(a.delete(b"k").await.unwrap());
        assert!(!a.delete(b"k").await.unwrap());
    }

    #[tokio::test]
    async fn an_expiry_is_kept_whether_written_now_or_found_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let a = store.namespace("plugin/a").unwrap();
            let b = store.namespace("plugin/b").unwrap();
            a.put(b"plain", b"1").await.unwrap();
            assert!(!store.expiring.load(Ordering::Acquire), "no expiry written yet");
            b.put_expiring(b"short", b"2", Duration::from_millis(1)).await.unwrap();
            b.put_expiring(b"long", b"3", Duration::from_secs(3600)).await.unwrap();
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(b.get(b"short").await.unwrap(), None);
            assert_eq!(b.scan_prefix(b"", 10).await.unwrap().len(), 1);
            assert_eq!(a.get(b"plain").await.unwrap().as_deref(), Some(&b"1"[..]));
            store.flush_all().unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert!(store.expiring.load(Ordering::Acquire), "read from the database");
        let b = store.namespace("plugin/b").unwrap();
        assert_eq!(b.get(b"short").await.unwrap(), None);
        assert_eq!(b.get(b"long").await.unwrap().as_deref(), Some(&b"3"[..]));
    }

    /// Regression: with `flush_async`, a burst of concurrent flushes left some never completing (and could block
    /// the runtime's workers, so the deadline is kept by a plain thread).
    #[test]
    fn concurrent_flushes_all_complete() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let namespace = store.namespace("plugin/x").unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            runtime.block_on(async {
                let writers = (0..64u32).map(|writer| {
                    let namespace = Arc::clone(&namespace);
                    tokio::spawn(async move {
                        for round in 0..20u32 {
                            namespace
                                .put(&writer.to_be_bytes(), &round.to_be_bytes())
                                .await
                                .unwrap();
                            namespace.flush().await.unwrap();
                        }
                    })
                });
                futures_util::future::join_all(writers).await;
            });
            let _ = done_tx.send(());
        });
        let finished = done_rx.recv_timeout(std::time::Duration::from_secs(60));
        assert!(finished.is_ok(), "some flushes never completed");
    }

    #[tokio::test]
    async fn a_handed_over_database_opens_elsewhere_and_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let namespace = store.namespace("plugin/x").unwrap();
        namespace.put(b"k", b"before").await.unwrap();
        store.hand_over().unwrap();
        assert!(matches!(namespace.get(b"k").await, Err(StoreError::Unavailable(_))));
        store.flush_all().unwrap();
        {
            // As the new process of an upgrade opens it: sled's threads let go of the lock a moment after the
            // last handle is dropped.
            let other = SledStore::open_waiting(dir.path(), Duration::from_secs(2))
                .expect("the lock is released once handed over");
            let there = other.namespace("plugin/x").unwrap();
            assert_eq!(there.get(b"k").await.unwrap().as_deref(), Some(&b"before"[..]));
            there.put(b"k", b"while away").await.unwrap();
            there.flush().await.unwrap();
        }
        store.take_back().unwrap();
        assert_eq!(namespace.get(b"k").await.unwrap().as_deref(), Some(&b"while away"[..]));
    }

    #[test]
    fn a_locked_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        let err = SledStore::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("locked"), "{err}");
    }
}
