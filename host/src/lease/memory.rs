//! Leases in this process's memory: what the sled store uses, since only one process can open its database.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use tokio::time::Instant;

use super::LeaseBackend;
use crate::store::{StoreFuture, done};

/// Lease records in a map: name -> (holder, end of its time to live).
#[derive(Default)]
pub struct MemoryLeases {
    records: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryLeases {
    fn with<T>(&self, change: impl FnOnce(&mut HashMap<String, (String, Instant)>) -> T) -> T {
        change(&mut self.records.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl LeaseBackend for MemoryLeases {
    fn try_take(&self, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool> {
        let now = Instant::now();
        done(Ok(self.with(|records| match records.get(name) {
            Some((_, until)) if *until > now => false,
            _ => {
                records.insert(name.to_owned(), (holder.to_owned(), now + ttl));
                true
            }
        })))
    }

    fn renew(&self, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool> {
        let now = Instant::now();
        done(Ok(self.with(|records| match records.get_mut(name) {
            Some((current, until)) if current == holder => {
                *until = now + ttl;
                true
            }
            _ => false,
        })))
    }

    fn release(&self, name: &str, holder: &str) -> StoreFuture<()> {
        self.with(|records| {
            if records.get(name).is_some_and(|(current, _)| current == holder) {
                records.remove(name);
            }
        });
        done(Ok(()))
    }
}
