//! The idle instances of one sandboxed plugin, kept for the next requests: making an instance (and running its
//! start function) costs far more than a call. An instance that trapped or ran out of time is never put back.

use std::sync::Mutex;

use wasmtime::{Store, TypedFunc};

use super::exchange::Exchange;

/// One ready instance.
pub struct Warm {
    pub store: Store<Exchange>,
    pub handle_request: TypedFunc<(), i64>,
    pub handle_response: Option<TypedFunc<(i32, i32), ()>>,
}

/// Epoch ticks a call runs before its first yield: 1 to 2 ms, so that a call of a few microseconds almost never
/// yields (a yield costs the request a trip through the scheduler), and a long one yields every tick after.
const TICKS_BEFORE_YIELD: u64 = 2;

impl Warm {
    /// Starts the yield deadline from now: an idle instance's deadline passed while it waited in the pool.
    pub fn fresh_deadline(&mut self) {
        self.store.set_epoch_deadline(TICKS_BEFORE_YIELD);
    }

    /// Forgets the last request, so an idle instance holds no one's data (nor a large body's memory); the
    /// space of its text is kept for the next one.
    fn clear(&mut self) {
        let exchange = self.store.data_mut();
        exchange.request.clear();
        exchange.response.clear();
    }
}

/// Idle instances, at most `capacity`.
pub struct Pool {
    idle: Mutex<Vec<Warm>>,
    capacity: usize,
}

impl Pool {
    pub fn new(capacity: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::with_capacity(capacity)),
            capacity,
        }
    }

    /// An idle instance, if there is one.
    pub fn take(&self) -> Option<Warm> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop()
    }

    /// Keeps `warm` for a later request, unless the pool is full.
    pub fn give(&self, mut warm: Warm) {
        warm.clear();
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < self.capacity {
            idle.push(warm);
        }
    }
}
