//! The embedded default store: one sled database in `data_dir`, one tree per namespace.

use std::{path::Path, sync::Arc};

use super::{Entries, Namespace, Store, StoreError, StoreFuture, done};

impl From<::sled::Error> for StoreError {
    fn from(e: ::sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// The embedded default: one sled database in `data_dir`.
pub struct SledStore {
    db: ::sled::Db,
}

impl SledStore {
    /// Opens (or creates) the database. A second process on the same directory, or a damaged database, is an
    /// error here with sled's reason, not a panic later.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let loosened = crate::data_dir::make_private(dir).map_err(|e| StoreError::Backend(e.to_string()))?;
        if loosened > 0 {
            tracing::warn!(entries = loosened, dir = %dir.display(), "the data directory was readable by other users; made it private");
        }
        let db = ::sled::Config::new().path(dir).open().map_err(|e| match e {
            // sled reports a held lock as an `Other` I/O error whose text says so.
            ::sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock") =>
            {
                StoreError::Backend(
                    "the database is locked: another openhost process is using this data directory".to_owned(),
                )
            }
            ::sled::Error::Corruption { .. } => StoreError::Backend(
                "the database is corrupted: sled cannot read its files (restore the data directory from a backup)"
                    .to_owned(),
            ),
            other => StoreError::from(other),
        })?;
        Ok(SledStore { db })
    }
}

impl SledStore {
    /// Every namespace and its entries, for copying the database elsewhere (`openhost store migrate`).
    pub fn export(&self) -> Result<Vec<(String, Entries)>, StoreError> {
        let mut namespaces = Vec::new();
        for name in self.db.tree_names() {
            if name.as_ref() == b"__sled__default" {
                continue;
            }
            let tree = self.db.open_tree(&name)?;
            let entries = tree
                .iter()
                .map(|entry| {
                    let (key, value) = entry?;
                    Ok((key.to_vec(), value.to_vec()))
                })
                .collect::<Result<Entries, StoreError>>()?;
            namespaces.push((String::from_utf8_lossy(&name).into_owned(), entries));
        }
        Ok(namespaces)
    }
}

impl Store for SledStore {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>, StoreError> {
        Ok(Arc::new(SledNamespace {
            tree: self.db.open_tree(name)?,
        }))
    }

    fn flush_all(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

struct SledNamespace {
    tree: ::sled::Tree,
}

impl Namespace for SledNamespace {
    fn get(&self, key: &[u8]) -> StoreFuture<Option<Vec<u8>>> {
        done(
            self.tree
                .get(key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(StoreError::from),
        )
    }

    fn put(&self, key: &[u8], value: &[u8]) -> StoreFuture<()> {
        done(self.tree.insert(key, value).map(drop).map_err(StoreError::from))
    }

    fn delete(&self, key: &[u8]) -> StoreFuture<bool> {
        done(self.tree.remove(key).map(|v| v.is_some()).map_err(StoreError::from))
    }

    fn compare_and_swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<&[u8]>) -> StoreFuture<bool> {
        done(
            self.tree
                .compare_and_swap(key, expected, new)
                .map(|swapped| swapped.is_ok())
                .map_err(StoreError::from),
        )
    }

    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> StoreFuture<Entries> {
        done(
            self.tree
                .scan_prefix(prefix)
                .take(limit)
                .map(|entry| {
                    let (key, value) = entry?;
                    Ok((key.to_vec(), value.to_vec()))
                })
                .collect(),
        )
    }

    /// sled 0.34's `flush_async` can leave concurrent flushes never woken (spacejam/sled#1241, #1308; seen here
    /// as requests stuck until the plugin deadline under load), so the synchronous flush runs on a blocking thread.
    /// Needs a tokio runtime, which every caller in the host has.
    fn flush(&self) -> StoreFuture<()> {
        let tree = self.tree.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || tree.flush())
                .await
                .map_err(|e| StoreError::Backend(format!("the flush task failed: {e}")))??;
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

    #[test]
    fn a_locked_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        let err = SledStore::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("locked"), "{err}");
    }
}
