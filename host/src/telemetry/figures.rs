//! Live call figures per plugin, for the admin API (docs/operating.md, "Admin API"): calls, errors, timeouts and
//! panics, and the 99th percentile of their duration, over the last [`WINDOW_MINUTES`] minutes. Kept by the host
//! itself, whether or not Prometheus scrapes it, and only when the admin API is on: recording is a few relaxed
//! atomic adds into the current minute's slot, through a handle each call site keeps.
//!
//! Durations are counted in buckets of a quarter octave (1 µs resolution below 4 µs, then within 25%): the p99
//! reported is the upper edge of its bucket.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::Outcome;

/// The minutes the figures cover.
pub const WINDOW_MINUTES: usize = 5;
/// Four buckets per octave up to 2^40 µs (about 12 days): nothing a call takes falls past the last.
const BUCKETS: usize = 160;

/// One minute of one plugin's calls.
struct Minute {
    /// Which minute (since the host started) the counts are of.
    stamp: AtomicU64,
    durations: [AtomicU64; BUCKETS],
    errors: AtomicU64,
    timeouts: AtomicU64,
    panics: AtomicU64,
}

impl Minute {
    fn new() -> Minute {
        Minute {
            stamp: AtomicU64::new(u64::MAX),
            durations: std::array::from_fn(|_| AtomicU64::new(0)),
            errors: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            panics: AtomicU64::new(0),
        }
    }

    /// Starts the slot over for `minute`, once (a call of a minute ago may still add to it: figures are for
    /// people, not for billing).
    fn turn_to(&self, minute: u64) {
        let seen = self.stamp.load(Relaxed);
        if seen != minute && self.stamp.compare_exchange(seen, minute, Relaxed, Relaxed).is_ok() {
            for count in self
                .durations
                .iter()
                .chain([&self.errors, &self.timeouts, &self.panics])
            {
                count.store(0, Relaxed);
            }
        }
    }
}

/// The figures of one plugin.
pub struct PluginFigures {
    minutes: [Minute; WINDOW_MINUTES],
}

impl PluginFigures {
    fn new() -> PluginFigures {
        PluginFigures {
            minutes: std::array::from_fn(|_| Minute::new()),
        }
    }

    /// Counts one call of `minute`.
    pub fn record(&self, minute: u64, outcome: Outcome, elapsed: Duration) {
        let slot = &self.minutes[(minute % WINDOW_MINUTES as u64) as usize];
        slot.turn_to(minute);
        slot.durations[bucket(elapsed)].fetch_add(1, Relaxed);
        match outcome {
            Outcome::Ok => {}
            Outcome::Error => _ = slot.errors.fetch_add(1, Relaxed),
            Outcome::Timeout => _ = slot.timeouts.fetch_add(1, Relaxed),
            Outcome::Panic => _ = slot.panics.fetch_add(1, Relaxed),
        }
    }

    /// The figures of the minutes up to `now`, as the admin API shows them.
    fn summary(&self, now: u64) -> Value {
        let mut durations = [0u64; BUCKETS];
        let (mut errors, mut timeouts, mut panics) = (0, 0, 0);
        let recent = |stamp: u64| stamp <= now && now - stamp < WINDOW_MINUTES as u64;
        for minute in self.minutes.iter().filter(|minute| recent(minute.stamp.load(Relaxed))) {
            for (sum, count) in durations.iter_mut().zip(&minute.durations) {
                *sum += count.load(Relaxed);
            }
            errors += minute.errors.load(Relaxed);
            timeouts += minute.timeouts.load(Relaxed);
            panics += minute.panics.load(Relaxed);
        }
        let calls: u64 = durations.iter().sum();
        json!({
            "window_minutes": WINDOW_MINUTES,
            "calls": calls,
            "errors": errors,
            "timeouts": timeouts,
            "panics": panics,
            "p99_ms": p99_micros(&durations, calls).map(|micros| micros as f64 / 1000.0),
        })
    }
}

/// The bucket of a duration: its microseconds exactly below 4, then four buckets per octave.
fn bucket(elapsed: Duration) -> usize {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    if micros < 4 {
        return micros as usize;
    }
    let octave = 63 - micros.leading_zeros() as usize;
    let quarter = ((micros >> (octave - 2)) & 3) as usize;
    (4 * (octave - 1) + quarter).min(BUCKETS - 1)
}

/// The upper edge of `bucket`, in microseconds.
fn upper_edge(bucket: usize) -> u64 {
    if bucket < 4 {
        return bucket as u64 + 1;
    }
    let (octave, quarter) = (bucket / 4 + 1, (bucket % 4) as u64);
    (5 + quarter) << (octave - 2)
}

/// The upper edge of the bucket the 99th percentile of `calls` falls in; `None` without calls.
fn p99_micros(durations: &[u64; BUCKETS], calls: u64) -> Option<u64> {
    let rank = calls.checked_sub(calls / 100)?.max(1);
    let mut seen = 0;
    for (bucket, count) in durations.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return Some(upper_edge(bucket));
        }
    }
    None
}

/// Every plugin's figures, when kept.
pub struct Figures {
    enabled: bool,
    started: Instant,
    by_plugin: RwLock<HashMap<String, Arc<PluginFigures>>>,
}

impl Figures {
    pub fn new(enabled: bool) -> Figures {
        Figures {
            enabled,
            started: Instant::now(),
            by_plugin: RwLock::new(HashMap::new()),
        }
    }

    /// The handle a call site keeps for `plugin`'s calls (`None`: figures are not kept).
    pub fn of(&self, plugin: &str) -> Option<Arc<PluginFigures>> {
        if !self.enabled {
            return None;
        }
        if let Some(figures) = self.by_plugin.read().unwrap_or_else(|p| p.into_inner()).get(plugin) {
            return Some(Arc::clone(figures));
        }
        let mut by_plugin = self.by_plugin.write().unwrap_or_else(|p| p.into_inner());
        Some(Arc::clone(
            by_plugin
                .entry(plugin.to_owned())
                .or_insert_with(|| Arc::new(PluginFigures::new())),
        ))
    }

    /// The minute (since the host started) `at` falls in.
    pub fn minute(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_secs() / 60
    }

    /// `plugin`'s figures over the last minutes; zero for a plugin not called yet, `None` when not kept.
    pub fn summary(&self, plugin: &str) -> Option<Value> {
        let now = self.minute(Instant::now());
        self.of(plugin).map(|figures| figures.summary(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_durations() {
        for micros in [0u64, 1, 3, 4, 5, 7, 8, 15, 16, 100, 999, 1_000, 123_456, 10_000_000] {
            let bucket = bucket(Duration::from_micros(micros));
            assert!(upper_edge(bucket) > micros, "{micros} µs in bucket {bucket}");
            assert!(
                bucket == 0 || upper_edge(bucket - 1) <= micros,
                "{micros} µs in bucket {bucket}"
            );
        }
    }

    #[test]
    fn the_p99_and_the_counts_cover_the_window_only() {
        let figures = PluginFigures::new();
        for _ in 0..99 {
            figures.record(10, Outcome::Ok, Duration::from_micros(100));
        }
        figures.record(10, Outcome::Timeout, Duration::from_millis(500));
        figures.record(3, Outcome::Error, Duration::from_secs(9));
        let summary = figures.summary(10);
        assert_eq!(
            (&summary["calls"], &summary["timeouts"], &summary["errors"]),
            (&json!(100), &json!(1), &json!(0))
        );
        let p99 = summary["p99_ms"].as_f64().unwrap();
        assert!((0.1..=0.125).contains(&p99), "{p99}");
        figures.record(10, Outcome::Ok, Duration::from_millis(500));
        let p99 = figures.summary(10)["p99_ms"].as_f64().unwrap();
        assert!((500.0..=640.0).contains(&p99), "{p99}");
        assert_eq!(figures.summary(20)["calls"], json!(0));
        assert_eq!(figures.summary(20)["p99_ms"], Value::Null);
    }
}
