//! Metrics for Prometheus and the per-plugin-call span (docs/operating.md, "Metrics"). Off unless
//! `[host] metrics_listen` is set: then a Prometheus recorder of the `metrics` facade is installed and
//! [`listener`] serves its text at `/metrics` on that address alone, never on the public listener.
//!
//! The `metrics` facade with `metrics-exporter-prometheus` (its recorder only; the host serves `/metrics` with
//! its own hyper): the facade is the ecosystem's common one, so the crates the host uses can report through the
//! same recorder. Handles are registered once and kept where the calls are made ([`CallSite`] in each middleware
//! link, override slot and plugin route; [`RequestMetrics`] in each route), so that recording on the request path
//! is an atomic add and a histogram push, not a label lookup.
//!
//! Without a recorder every handle is a no-op, and the only cost left is the clock reads around plugin calls.

pub mod figures;
pub mod listener;
pub mod panics;
pub mod plugin;
pub mod store;

use std::{
    sync::{Arc, OnceLock, RwLock},
    time::{Duration, Instant},
};

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use openhost_plugin_api::{PluginError, Slot};

use crate::call::CallError;

/// Upper bounds of the latency histograms, in seconds: 250 µs to 10 s (the plugin deadline's default).
const BUCKETS: &[f64] = &[
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder drops what it no longer needs (its own exporter would do this; the host serves
/// `/metrics` itself).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// A plugin call slower than this is logged with its plugin and slot.
const SLOW_CALL: Duration = Duration::from_secs(1);

/// The metric names of docs/operating.md.
pub mod names {
    pub const HTTP_REQUESTS: &str = "openhost_http_requests_total";
    pub const HTTP_DURATION: &str = "openhost_http_request_duration_seconds";
    pub const PLUGIN_CALLS: &str = "openhost_plugin_calls_total";
    pub const PLUGIN_CALL_DURATION: &str = "openhost_plugin_call_duration_seconds";
    pub const PLUGIN_INFO: &str = "openhost_plugin_info";
    pub const RELOADS: &str = "openhost_reloads_total";
    pub const STORE_DURATION: &str = "openhost_store_operation_duration_seconds";
}

/// How a plugin call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It answered, an HTTP error below 500 included (a deliberate answer such as 401).
    Ok,
    /// It failed: an error of its own, or an HTTP answer of 500 and above.
    Error,
    /// It panicked (caught by the SDK's guard).
    Panic,
    /// The host stopped waiting for it (`plugin_timeout_secs`).
    Timeout,
}

impl Outcome {
    pub fn of<T>(result: &Result<T, CallError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(CallError::Timeout(_)) => Outcome::Timeout,
            Err(CallError::Plugin(PluginError::Panicked(_))) => Outcome::Panic,
            Err(CallError::Plugin(PluginError::Http { status, .. })) if *status < 500 => Outcome::Ok,
            Err(CallError::Plugin(_)) => Outcome::Error,
        }
    }

    const ALL: [Outcome; 4] = [Outcome::Ok, Outcome::Error, Outcome::Panic, Outcome::Timeout];

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Timeout => "timeout",
        }
    }
}

/// Where the host calls a slot implementation: who the calls are counted under, and their handles, registered on
/// the first call (for an override slot the name is known only once its decorators are in place).
#[derive(Default)]
pub struct CallSite {
    metrics: OnceLock<CallMetrics>,
    /// The plugin's live figures (crate::telemetry::figures), when kept.
    figures: OnceLock<Option<Arc<figures::PluginFigures>>>,
    /// The host's built-in middleware is its own code, not a plugin's: its calls are not counted one by one (they
    /// would double the cost of metrics per request), their time is in the request's duration.
    uncounted: bool,
}

impl CallSite {
    /// A call site whose calls are timed for the slow-call warning only.
    pub fn uncounted() -> CallSite {
        CallSite {
            metrics: OnceLock::new(),
            figures: OnceLock::new(),
            uncounted: true,
        }
    }

    fn metrics(&self, plugin: &str, slot: Slot) -> Option<&CallMetrics> {
        (!self.uncounted).then(|| self.metrics.get_or_init(|| CallMetrics::new(plugin, slot)))
    }

    fn figures(&self, telemetry: &Telemetry, plugin: &str) -> Option<&figures::PluginFigures> {
        if self.uncounted {
            return None;
        }
        self.figures.get_or_init(|| telemetry.figures.of(plugin)).as_deref()
    }
}

/// The handles of one plugin's calls into one slot.
pub struct CallMetrics {
    outcomes: [Counter; 4],
    duration: Histogram,
}

impl CallMetrics {
    fn new(plugin: &str, slot: Slot) -> CallMetrics {
        let counter = |outcome: Outcome| {
            metrics::counter!(names::PLUGIN_CALLS, "plugin" => plugin.to_owned(), "slot" => slot.as_str(),
                "outcome" => outcome.as_str())
        };
        CallMetrics {
            outcomes: Outcome::ALL.map(counter),
            duration: metrics::histogram!(names::PLUGIN_CALL_DURATION, "plugin" => plugin.to_owned(),
                "slot" => slot.as_str()),
        }
    }

    pub fn record(&self, outcome: Outcome, elapsed: Duration) {
        self.outcomes[outcome as usize].increment(1);
        self.duration.record(elapsed.as_secs_f64());
    }
}

/// The handles of one route's requests: its duration, and a counter per method and status seen.
pub struct RequestMetrics {
    route: String,
    duration: Histogram,
    counts: RwLock<Vec<(&'static str, u16, Counter)>>,
}

impl RequestMetrics {
    pub fn new(route: &str) -> RequestMetrics {
        RequestMetrics {
            route: route.to_owned(),
            duration: metrics::histogram!(names::HTTP_DURATION, "route" => route.to_owned()),
            counts: RwLock::new(Vec::new()),
        }
    }

    /// Counts one answered request.
    pub fn record(&self, method: &str, status: u16, elapsed: Duration) {
        let method = known_method(method);
        self.duration.record(elapsed.as_secs_f64());
        let counts = self.counts.read().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, counter)) = counts.iter().find(|(m, s, _)| *m == method && *s == status) {
            counter.increment(1);
            return;
        }
        drop(counts);
        let counter = metrics::counter!(names::HTTP_REQUESTS, "route" => self.route.clone(), "method" => method,
            "status" => status.to_string());
        counter.increment(1);
        let mut counts = self.counts.write().unwrap_or_else(|p| p.into_inner());
        if !counts.iter().any(|(m, s, _)| *m == method && *s == status) {
            counts.push((method, status, counter));
        }
    }
}

/// A request's method as a label: the standard ones by name, anything a client invents as `other` (labels must
/// not grow with what clients send).
fn known_method(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|known| *known == method).unwrap_or("other")
}

/// The host's metrics: the recorder's handle, when enabled.
pub struct Telemetry {
    handle: Option<PrometheusHandle>,
    /// Requests that matched no route (404, 405).
    pub unmatched: RequestMetrics,
    /// Each plugin's calls over the last minutes, for the admin API.
    pub figures: figures::Figures,
}

/// Why the metrics could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("the metrics histogram buckets are invalid: {0}")]
    Buckets(String),
    #[error("a metrics recorder is already installed in this process")]
    AlreadyInstalled,
}

impl Telemetry {
    /// Installs the Prometheus recorder when `enabled` (once per process), else records nothing; keeps each
    /// plugin's live figures when `figures`.
    pub fn new(enabled: bool, figures: bool) -> Result<Telemetry, TelemetryError> {
        let handle = if enabled {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .map_err(|e| TelemetryError::Buckets(e.to_string()))?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|_| TelemetryError::AlreadyInstalled)?;
            Some(handle)
        } else {
            None
        };
        Ok(Telemetry {
            handle,
            unmatched: RequestMetrics::new("unmatched"),
            figures: figures::Figures::new(figures),
        })
    }

    pub fn enabled(&self) -> bool {
        self.handle.is_some()
    }

    /// The Prometheus text of every metric.
    pub fn render(&self) -> String {
        self.handle.as_ref().map(PrometheusHandle::render).unwrap_or_default()
    }

    /// Keeps the recorder's memory bounded, for as long as the host serves.
    pub async fn upkeep(self: Arc<Self>) {
        let Some(handle) = self.handle.clone() else {
            return;
        };
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    }

    /// Sets `openhost_plugin_info` of one plugin of a generation: 1 while the generation serves, 0 once it is
    /// retired.
    pub fn plugin_info(
        &self,
        plugin: &str,
        version: &str,
        interface: &str,
        signed: bool,
        generation: u64,
        serving: bool,
    ) {
        metrics::gauge!(names::PLUGIN_INFO, "plugin" => plugin.to_owned(), "version" => version.to_owned(),
            "interface" => interface.to_owned(), "signed" => signed.to_string(), "generation" => generation.to_string())
        .set(if serving { 1.0 } else { 0.0 });
    }

    /// Counts a reload: `ok` or `failed`.
    pub fn reloaded(&self, outcome: &'static str) {
        metrics::counter!(names::RELOADS, "outcome" => outcome).increment(1);
    }
}

/// Times one plugin call and reports how it ended: counted and timed per plugin and slot, and logged when slow.
/// Most calls (every built-in middleware) finish on their first poll; those get no span of their own. A call that
/// has to wait runs the rest of its life in a `plugin_call` span (`plugin`, `slot`), so what it logs names it.
pub struct CallTimer<'a> {
    plugin: &'a str,
    slot: Slot,
    site: &'a CallSite,
    started: Instant,
}

impl<'a> CallTimer<'a> {
    pub fn start(plugin: &'a str, slot: Slot, site: &'a CallSite) -> CallTimer<'a> {
        CallTimer {
            plugin,
            slot,
            site,
            started: Instant::now(),
        }
    }

    /// The span a call that did not finish at once runs in.
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!("plugin_call", plugin = self.plugin, slot = self.slot.as_str())
    }

    pub fn finish<T>(self, telemetry: &Telemetry, result: &Result<T, CallError>) {
        let elapsed = self.started.elapsed();
        let outcome = Outcome::of(result);
        if let Some(metrics) = self
            .site
            .metrics(self.plugin, self.slot)
            .filter(|_| telemetry.enabled())
        {
            metrics.record(outcome, elapsed);
        }
        if let Some(figures) = self.site.figures(telemetry, self.plugin) {
            figures.record(telemetry.figures.minute(self.started), outcome, elapsed);
        }
        if elapsed >= SLOW_CALL {
            tracing::warn!(
                plugin = self.plugin,
                slot = self.slot.as_str(),
                elapsed_ms = elapsed.as_millis() as u64,
                outcome = outcome.as_str(),
                "slow plugin call"
            );
        }
    }
}
