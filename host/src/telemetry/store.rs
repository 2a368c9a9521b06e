//! `openhost_store_operation_duration_seconds{op}`: a [`Store`] decorator that times every operation of every
//! namespace. Put in front of the store only when metrics are on, so that it costs nothing otherwise.

use std::{sync::Arc, time::Duration, time::Instant};

use metrics::Histogram;

use super::names;
use crate::{
    lease::LeaseBackend,
    store::{Entries, Namespace, Store, StoreError, StoreFuture},
};

/// One histogram per operation.
struct OperationTimers {
    get: Histogram,
    put: Histogram,
    delete: Histogram,
    compare_and_swap: Histogram,
    scan_prefix: Histogram,
    flush: Histogram,
}

/// A store whose operations are timed.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    timers: Arc<OperationTimers>,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>) -> MeteredStore {
        let timer = |op: &'static str| metrics::histogram!(names::STORE_DURATION, "op" => op);
        MeteredStore {
            inner,
            timers: Arc::new(OperationTimers {
                get: timer("get"),
                put: timer("put"),
                delete: timer("delete"),
                compare_and_swap: timer("compare_and_swap"),
                scan_prefix: timer("scan_prefix"),
                flush: timer("flush"),
            }),
        }
    }
}

impl Store for MeteredStore {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>, StoreError> {
        Ok(Arc::new(MeteredNamespace {
            inner: self.inner.namespace(name)?,
            timers: Arc::clone(&self.timers),
        }))
    }

    fn flush_all(&self) -> Result<(), StoreError> {
        self.inner.flush_all()
    }

    fn sweep_expired(&self) -> StoreFuture<u64> {
        self.inner.sweep_expired()
    }

    fn lease_backend(&self) -> Arc<dyn LeaseBackend> {
        self.inner.lease_backend()
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<crate::store::KeyChange>> {
        self.inner.changes()
    }

    fn exclusive(&self) -> bool {
        self.inner.exclusive()
    }

    fn hand_over(&self) -> Result<(), StoreError> {
        self.inner.hand_over()
    }

    fn take_back(&self) -> Result<(), StoreError> {
        self.inner.take_back()
    }
}

struct MeteredNamespace {
    inner: Arc<dyn Namespace>,
    timers: Arc<OperationTimers>,
}

/// Records how long `operation` took, from now to its completion.
fn timed<T: Send + 'static>(histogram: &Histogram, operation: StoreFuture<T>) -> StoreFuture<T> {
    let (histogram, started) = (histogram.clone(), Instant::now());
    Box::pin(async move {
        let result = operation.await;
        histogram.record(started.elapsed().as_secs_f64());
        result
    })
}

impl Namespace for MeteredNamespace {
    fn get(&self, key: &[u8]) -> StoreFuture<Option<Vec<u8>>> {
        timed(&self.timers.get, self.inner.get(key))
    }

    fn put(&self, key: &[u8], value: &[u8]) -> StoreFuture<()> {
        timed(&self.timers.put, self.inner.put(key, value))
    }

    fn put_expiring(&self, key: &[u8], value: &[u8], ttl: Duration) -> StoreFuture<()> {
        timed(&self.timers.put, self.inner.put_expiring(key, value, ttl))
    }

    fn delete(&self, key: &[u8]) -> StoreFuture<bool> {
        timed(&self.timers.delete, self.inner.delete(key))
    }

    fn compare_and_swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<&[u8]>) -> StoreFuture<bool> {
        timed(
            &self.timers.compare_and_swap,
            self.inner.compare_and_swap(key, expected, new),
        )
    }

    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> StoreFuture<Entries> {
        timed(&self.timers.scan_prefix, self.inner.scan_prefix(prefix, limit))
    }

    fn flush(&self) -> StoreFuture<()> {
        timed(&self.timers.flush, self.inner.flush())
    }
}
