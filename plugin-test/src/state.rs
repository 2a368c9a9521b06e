//! What the test host keeps: the plugin's key-value namespace (with expiry), its leases, the HTTP answer and the
//! requests made, metric samples and log lines, all on a clock the test moves.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use openhost_plugin_api::{HttpRequest, LogLevel, MetricKind, Response};

/// Answers the plugin's outbound requests.
pub type HttpAnswer = Box<dyn Fn(&HttpRequest) -> Response + Send + Sync>;

/// One metric sample the plugin recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub kind: MetricKind,
    /// As the plugin named it (the host exports it as `openhost_plugin_<name>`).
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    /// The module that logged it, or `panic`.
    pub target: String,
    pub message: String,
}

/// A stored value and, if it expires, the clock reading (ms) from which it reads as absent.
struct Entry {
    value: Vec<u8>,
    expires_at: Option<u64>,
}

#[derive(Default)]
struct Inner {
    now_ms: u64,
    kv: BTreeMap<Vec<u8>, Entry>,
    /// Lease name -> the id of its holder.
    leases: BTreeMap<String, u64>,
    next_lease: u64,
    http_answer: Option<HttpAnswer>,
    http_requests: Vec<HttpRequest>,
    metrics: Vec<Sample>,
    logs: Vec<LogLine>,
}

/// The state of one test host.
#[derive(Default)]
pub struct State {
    inner: Mutex<Inner>,
}

impl State {
    /// A test that failed while holding the lock must not turn every later call into a second panic.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn advance(&self, by: Duration) {
        let mut inner = self.lock();
        inner.now_ms = inner.now_ms.saturating_add(millis(by));
    }

    pub fn kv_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let inner = self.lock();
        let now = inner.now_ms;
        inner
            .kv
            .get(key)
            .filter(|entry| live(entry, now))
            .map(|entry| entry.value.clone())
    }

    pub fn kv_keys(&self) -> Vec<Vec<u8>> {
        let inner = self.lock();
        let now = inner.now_ms;
        inner
            .kv
            .iter()
            .filter(|(_, entry)| live(entry, now))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Stores `value`, expiring after `ttl` if given.
    pub fn kv_put(&self, key: Vec<u8>, value: Vec<u8>, ttl: Option<Duration>) {
        let mut inner = self.lock();
        let expires_at = ttl.map(|ttl| inner.now_ms.saturating_add(millis(ttl)));
        inner.kv.insert(key, Entry { value, expires_at });
    }

    pub fn kv_delete(&self, key: &[u8]) -> bool {
        let mut inner = self.lock();
        let now = inner.now_ms;
        inner.kv.remove(key).is_some_and(|entry| live(&entry, now))
    }

    /// Sets `key` to `new` (removes it on `None`) if it now holds `expected` (`None`: absent).
    pub fn kv_compare_and_swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<Vec<u8>>) -> bool {
        let mut inner = self.lock();
        let now = inner.now_ms;
        let current = inner
            .kv
            .get(key)
            .filter(|entry| live(entry, now))
            .map(|e| e.value.as_slice());
        if current != expected {
            return false;
        }
        match new {
            Some(value) => {
                inner.kv.insert(
                    key.to_vec(),
                    Entry {
                        value,
                        expires_at: None,
                    },
                );
            }
            None => {
                inner.kv.remove(key);
            }
        }
        true
    }

    pub fn kv_scan_prefix(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let inner = self.lock();
        let now = inner.now_ms;
        inner
            .kv
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter(|(_, entry)| live(entry, now))
            .take(limit)
            .map(|(key, entry)| (key.clone(), entry.value.clone()))
            .collect()
    }

    /// Takes the lease `name` if nobody holds it. A held lease is renewed by its holder, as the host does, so a
    /// wait for it passes the whole `wait` on the clock and ends without it.
    pub fn lease_acquire(&self, name: &str, wait: Duration) -> Option<u64> {
        let mut inner = self.lock();
        if inner.leases.contains_key(name) {
            inner.now_ms = inner.now_ms.saturating_add(millis(wait));
            return None;
        }
        inner.next_lease += 1;
        let id = inner.next_lease;
        inner.leases.insert(name.to_owned(), id);
        Some(id)
    }

    pub fn lease_release(&self, id: u64) {
        self.lock().leases.retain(|_, holder| *holder != id);
    }

    pub fn set_http_answer(&self, answer: HttpAnswer) {
        self.lock().http_answer = Some(answer);
    }

    /// Records `request` and answers it; `None` if the test set no answer.
    pub fn http(&self, request: HttpRequest) -> Option<Response> {
        let mut inner = self.lock();
        let answer = inner.http_answer.as_ref().map(|answer| answer(&request));
        inner.http_requests.push(request);
        answer
    }

    pub fn http_requests(&self) -> Vec<HttpRequest> {
        self.lock().http_requests.clone()
    }

    pub fn record_metric(&self, sample: Sample) {
        self.lock().metrics.push(sample);
    }

    pub fn metrics(&self) -> Vec<Sample> {
        self.lock().metrics.clone()
    }

    pub fn log(&self, line: LogLine) {
        self.lock().logs.push(line);
    }

    pub fn logs(&self) -> Vec<LogLine> {
        self.lock().logs.clone()
    }
}

fn live(entry: &Entry, now_ms: u64) -> bool {
    entry.expires_at.is_none_or(|at| now_ms < at)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

thread_local! {
    /// The host whose plugin this thread last started: where log lines go. The SDK installs its log forwarding
    /// once per process, bound to the first host; tests run on threads of their own, so each test's lines land
    /// in its own host.
    static CAPTURING: RefCell<Option<Arc<State>>> = const { RefCell::new(None) };
}

/// Sends this thread's log lines to `state`.
pub fn capture_logs_of(state: &Arc<State>) {
    CAPTURING.with(|capturing| *capturing.borrow_mut() = Some(Arc::clone(state)));
}

/// Keeps a log line written on this thread in the capturing host, else in `fallback`.
pub fn log_on_this_thread(fallback: &State, line: LogLine) {
    CAPTURING.with(|capturing| match &*capturing.borrow() {
        Some(state) => state.log(line),
        None => fallback.log(line),
    });
}
