//! What the host lends a plugin: logging, a namespaced key-value store (with optional expiry), outbound HTTP,
//! sleep, leases (single-flight across every host on the same store) and metrics (the host's Prometheus
//! recorder: a plugin's own copy of a metrics library would keep its own globals, which the host never sees).
//!
//! [`HostServices`] is the wire form, a prefix type the host owns: fields can be appended in later versions and a
//! plugin built against an older prefix simply never sees them. [`Host`] is the SDK form a plugin author uses.
//! Every future here is made by the host and is context-free: the host runs the I/O on its own runtime and the
//! future only waits for the result, so it can be awaited from plugin code without a tokio of its own.

use abi_stable::{
    sabi_types::RRef,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
    StableAbi,
};
use async_ffi::FfiFuture;

use std::time::Duration;

use crate::{Header, PluginError, Response};

/// The host's per-plugin state, opaque to the plugin. Only the host casts it back to its real type.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostContext {
    _opaque: [u8; 0],
}

/// A reference to the host's per-plugin state; passed back to every host service call.
pub type HostContextRef = RRef<'static, HostContext>;

/// Log severity, most severe first.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// What a metric sample does.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Adds the value (a whole number >= 0; a fraction is dropped) to a counter.
    Counter = 1,
    /// Sets a gauge to the value.
    Gauge = 2,
    /// Records the value in a histogram (seconds, for durations).
    Histogram = 3,
}

/// A label of a metric sample.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct MetricLabel<'a> {
    pub name: RStr<'a>,
    pub value: RStr<'a>,
}

/// A key and its value, from a prefix scan.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    pub key: RVec<u8>,
    pub value: RVec<u8>,
}

/// An outbound HTTP request, executed by the host's HTTP client.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Upper-case method.
    pub method: RString,
    pub url: RString,
    pub headers: RVec<Header>,
    pub body: RVec<u8>,
    /// 0 means the host's default.
    pub timeout_ms: u64,
}

type Ctx = HostContextRef;
type KvKey = RVec<u8>;

/// The host services table handed to `init`.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostServicesRef)))]
#[sabi(missing_field(option))]
pub struct HostServices {
    pub context: Ctx,
    /// The most verbose level the host will print; the plugin need not format anything finer.
    pub max_log_level: LogLevel,
    pub log: extern "C" fn(Ctx, LogLevel, RStr<'_>, RStr<'_>),
    pub kv_get: extern "C" fn(Ctx, KvKey) -> FfiFuture<RResult<ROption<RVec<u8>>, PluginError>>,
    /// Stores a value. Durable once `kv_flush` completes.
    pub kv_put: extern "C" fn(Ctx, KvKey, RVec<u8>) -> FfiFuture<RResult<(), PluginError>>,
    /// Removes a key; `true` if it existed.
    pub kv_delete: extern "C" fn(Ctx, KvKey) -> FfiFuture<RResult<bool, PluginError>>,
    /// Sets `key` to `new` (or removes it on `RNone`) only if it currently equals `expected` (`RNone`: absent).
    /// `true` if the swap happened.
    pub kv_compare_and_swap:
        extern "C" fn(Ctx, KvKey, ROption<RVec<u8>>, ROption<RVec<u8>>) -> FfiFuture<RResult<bool, PluginError>>,
    /// Up to `limit` entries whose key starts with the prefix, in key order.
    pub kv_scan_prefix: extern "C" fn(Ctx, KvKey, u32) -> FfiFuture<RResult<RVec<KvEntry>, PluginError>>,
    /// Makes every earlier write of this plugin durable.
    pub kv_flush: extern "C" fn(Ctx) -> FfiFuture<RResult<(), PluginError>>,
    /// Sends a request; any status is `ROk`, transport failures are `RErr`.
    pub http: extern "C" fn(Ctx, HttpRequest) -> FfiFuture<RResult<Response, PluginError>>,
    #[sabi(last_prefix_field)]
    pub sleep: extern "C" fn(Ctx, u64) -> FfiFuture<()>,
    /// Added in 1.3: stores a value that every operation treats as absent once `ttl_ms` have passed. Any other
    /// write of the key makes it permanent again.
    pub kv_put_expiring: extern "C" fn(Ctx, KvKey, RVec<u8>, u64) -> FfiFuture<RResult<(), PluginError>>,
    /// Added in 1.3: waits up to `wait_ms` to hold the lease `name` (the plugin's own name space, shared by every
    /// host on the store) with a time to live of `ttl_ms`, which the host renews until it is released. `RSome(id)`
    /// once held; `RNone` if another holder kept it all that time.
    pub lease_acquire: extern "C" fn(Ctx, RStr<'_>, u64, u64) -> FfiFuture<RResult<ROption<u64>, PluginError>>,
    /// Added in 1.3: gives a lease back; waiters may take it at once. Returns without waiting.
    pub lease_release: extern "C" fn(Ctx, u64),
    /// Added in 1.4: records a sample of the metric `openhost_plugin_<name>`, labelled `plugin="<this plugin>"`
    /// and with `labels`. An error names what is invalid (the name, a label, too many series); without
    /// `metrics_listen` the host keeps nothing and answers `ROk`.
    pub metric_record:
        extern "C" fn(Ctx, MetricKind, RStr<'_>, RSlice<'_, MetricLabel<'_>>, f64) -> RResult<(), PluginError>,
}

/// The SDK handle to the host services: cheap to clone, usable from any thread and any future.
#[derive(Clone, Copy)]
pub struct Host {
    services: HostServicesRef,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

impl Host {
    /// Wraps the table the host passed to `init`.
    pub fn new(services: HostServicesRef) -> Self {
        Host { services }
    }

    /// The wire form, e.g. to hand to a library that speaks the ABI itself.
    pub fn services(&self) -> HostServicesRef {
        self.services
    }

    fn ctx(&self) -> Ctx {
        self.services.context()
    }

    /// The most verbose level the host prints.
    pub fn max_log_level(&self) -> LogLevel {
        self.services.max_log_level()
    }

    /// Writes one line to the host's log, tagged with this plugin's name. Prefer `tracing` macros: the SDK
    /// forwards them here.
    pub fn log(&self, level: LogLevel, target: &str, message: &str) {
        (self.services.log())(self.ctx(), level, target.into(), message.into())
    }

    /// Reads a key of this plugin's namespace.
    pub async fn kv_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, PluginError> {
        let value = (self.services.kv_get())(self.ctx(), key.to_vec().into())
            .await
            .into_result()?;
        Ok(value.into_option().map(RVec::into_vec))
    }

    /// Writes a key; call [`Host::kv_flush`] before reporting success to a client.
    pub async fn kv_put(&self, key: &[u8], value: &[u8]) -> Result<(), PluginError> {
        (self.services.kv_put())(self.ctx(), key.to_vec().into(), value.to_vec().into())
            .await
            .into_result()
    }

    /// Deletes a key; `true` if it existed.
    pub async fn kv_delete(&self, key: &[u8]) -> Result<bool, PluginError> {
        (self.services.kv_delete())(self.ctx(), key.to_vec().into())
            .await
            .into_result()
    }

    /// Atomically replaces `expected` with `new` (`None` on either side: absent); `true` if it did.
    pub async fn kv_compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, PluginError> {
        let to_wire = |v: Option<&[u8]>| ROption::from(v.map(|v| RVec::from(v.to_vec())));
        (self.services.kv_compare_and_swap())(self.ctx(), key.to_vec().into(), to_wire(expected), to_wire(new))
            .await
            .into_result()
    }

    /// Up to `limit` entries whose key starts with `prefix`, in key order.
    pub async fn kv_scan_prefix(&self, prefix: &[u8], limit: u32) -> Result<Vec<(Vec<u8>, Vec<u8>)>, PluginError> {
        let entries = (self.services.kv_scan_prefix())(self.ctx(), prefix.to_vec().into(), limit)
            .await
            .into_result()?;
        Ok(entries
            .into_iter()
            .map(|e| (e.key.into_vec(), e.value.into_vec()))
            .collect())
    }

    /// Makes every earlier write of this plugin durable.
    pub async fn kv_flush(&self) -> Result<(), PluginError> {
        (self.services.kv_flush())(self.ctx()).await.into_result()
    }

    /// Sends an HTTP request through the host's client. Any status is `Ok`.
    pub async fn http(&self, request: HttpRequest) -> Result<Response, PluginError> {
        (self.services.http())(self.ctx(), request).await.into_result()
    }

    /// Waits, on the host's timer.
    pub async fn sleep(&self, duration: Duration) {
        (self.services.sleep())(self.ctx(), millis(duration)).await
    }

    /// Writes a key that reads as absent once `ttl` has passed (interface 1.3); call [`Host::kv_flush`] before
    /// reporting success to a client.
    pub async fn kv_put_expiring(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), PluginError> {
        let put = self
            .services
            .kv_put_expiring()
            .ok_or_else(|| needs("kv_put_expiring", "1.3"))?;
        put(self.ctx(), key.to_vec().into(), value.to_vec().into(), millis(ttl))
            .await
            .into_result()
    }

    /// Waits up to `wait` to hold the lease `name` (interface 1.3): one holder at a time across every host on
    /// the store, for single-flight work such as refreshing a token. The host renews it every third of `ttl`
    /// while the [`Lease`] lives, so it lapses only if this process dies (then after `ttl`). `None` if another
    /// holder kept it for all of `wait`.
    pub async fn lease(&self, name: &str, ttl: Duration, wait: Duration) -> Result<Option<Lease>, PluginError> {
        let acquire = self
            .services
            .lease_acquire()
            .ok_or_else(|| needs("lease_acquire", "1.3"))?;
        let id = acquire(self.ctx(), name.into(), millis(ttl), millis(wait))
            .await
            .into_result()?;
        Ok(id.into_option().map(|id| Lease { host: *self, id }))
    }
}

impl Host {
    /// Adds `increment` (a whole number; a fraction is dropped) to the counter `openhost_plugin_<name>`
    /// (interface 1.4). Name it as Prometheus counters are: `..._total`.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)], increment: f64) -> Result<(), PluginError> {
        self.metric(MetricKind::Counter, name, labels, increment)
    }

    /// Sets the gauge `openhost_plugin_<name>` (interface 1.4).
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)], value: f64) -> Result<(), PluginError> {
        self.metric(MetricKind::Gauge, name, labels, value)
    }

    /// Records `value` in the histogram `openhost_plugin_<name>` (interface 1.4); durations in seconds.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)], value: f64) -> Result<(), PluginError> {
        self.metric(MetricKind::Histogram, name, labels, value)
    }

    fn metric(&self, kind: MetricKind, name: &str, labels: &[(&str, &str)], value: f64) -> Result<(), PluginError> {
        let record = self
            .services
            .metric_record()
            .ok_or_else(|| needs("metric_record", "1.4"))?;
        let labels: Vec<MetricLabel<'_>> = labels
            .iter()
            .map(|(name, value)| MetricLabel {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect();
        record(self.ctx(), kind, name.into(), RSlice::from_slice(&labels), value).into_result()
    }
}

/// A held lease; released when dropped.
#[derive(Debug)]
pub struct Lease {
    host: Host,
    id: u64,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(release) = self.host.services.lease_release() {
            release(self.host.ctx(), self.id);
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A plugin loads only on a host of its minor or later, so this is a host that lied about its interface.
fn needs(service: &str, interface: &str) -> PluginError {
    PluginError::Host(format!("the host lacks `{service}` (plugin interface {interface})").into())
}
