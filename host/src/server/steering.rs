//! Steering the server from outside while it serves: pause and resume accepting, stop, and drain the open
//! connections (a host upgrade hands the listening socket to a new process; docs/reliability.md).
//!
//! Draining closes connections without dropping a request: first every response carries `connection: close`
//! for a grace period, so a busy keep-alive connection ends after its next answer and its client opens a new
//! one (which the new process accepts); then the connections still open are shut down gracefully: a request
//! being served finishes, an idle connection closes at once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::watch;

/// What the accept loop does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Yes,
    /// New connections wait in the listening socket's backlog.
    Paused,
    /// The loop ends; the server drains and returns.
    Stop,
}

/// A handle on a serving server.
#[derive(Clone)]
pub struct Steering {
    inner: Arc<Inner>,
}

struct Inner {
    accept: watch::Sender<Accept>,
    /// Responses end their connection.
    closing: AtomicBool,
    /// Bumped to shut every open connection down gracefully.
    shut_down: watch::Sender<u64>,
    open: AtomicUsize,
}

/// Counts one open connection until dropped.
pub struct Open(Steering);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.inner.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How often a drain checks whether the connections have closed.
const DRAIN_CHECK_EVERY: Duration = Duration::from_millis(10);

impl Default for Steering {
    fn default() -> Self {
        Steering::new()
    }
}

impl Steering {
    pub fn new() -> Steering {
        Steering {
            inner: Arc::new(Inner {
                accept: watch::Sender::new(Accept::Yes),
                closing: AtomicBool::new(false),
                shut_down: watch::Sender::new(0),
                open: AtomicUsize::new(0),
            }),
        }
    }

    pub fn set_accept(&self, accept: Accept) {
        self.inner.accept.send_replace(accept);
    }

    /// Accepting again, and responses keep their connections open again (an upgrade that failed).
    pub fn resume(&self) {
        self.inner.closing.store(false, Ordering::Release);
        self.set_accept(Accept::Yes);
    }

    pub(super) fn accept_changes(&self) -> watch::Receiver<Accept> {
        self.inner.accept.subscribe()
    }

    pub(super) fn shut_downs(&self) -> watch::Receiver<u64> {
        self.inner.shut_down.subscribe()
    }

    pub(super) fn opened(&self) -> Open {
        self.inner.open.fetch_add(1, Ordering::AcqRel);
        Open(self.clone())
    }

    /// Whether responses should end their connection now.
    pub fn closing(&self) -> bool {
        self.inner.closing.load(Ordering::Acquire)
    }

    /// How many connections are open.
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::Acquire)
    }

    /// Closes the open connections: for `grace` each response ends its connection, then those still open are
    /// shut down gracefully. Returns once none is open, or after `limit` with how many are left.
    pub async fn drain(&self, grace: Duration, limit: Duration) -> usize {
        let started = Instant::now();
        self.inner.closing.store(true, Ordering::Release);
        let mut shut_down = false;
        loop {
            let open = self.open_connections();
            if open == 0 || started.elapsed() >= limit {
                return open;
            }
            if !shut_down && started.elapsed() >= grace {
                shut_down = true;
                self.inner.shut_down.send_modify(|count| *count += 1);
            }
            tokio::time::sleep(DRAIN_CHECK_EVERY).await;
        }
    }
}
