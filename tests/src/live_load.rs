//! Load while the host changes under it (docs/reliability.md): `concurrency` clients call the `greeter` fixture
//! without pause while plugins are reloaded (a middleware toggled, the greeter swapped between its 1.0.0 and
//! 2.0.0 builds at the same path) and the host is upgraded. Every answer must come from exactly one generation:
//! the `openhost-generation` header names it, and the `header-stamp` header and the greeter's version must be
//! the ones that generation was built with. Used by `tests/tests/live_changes.rs` and the `live-changes`
//! benchmark.

use std::{
    collections::BTreeSet,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{Host, Site, library, rss_kib};

/// The header `header-stamp` adds while it is enabled.
pub const STAMP_HEADER: &str = "x-live-stamp";

/// What to do under load.
#[derive(Debug, Clone)]
pub struct Plan {
    pub concurrency: usize,
    pub reloads: usize,
    /// Between two reloads, so that each generation serves a while.
    pub between: Duration,
    /// Before the first reload, and after the upgrade.
    pub steady: Duration,
    pub upgrade: bool,
    /// `[host]` keys besides the listener, data and plugin directories (`rate_limit_per_sec = 0` for a load).
    pub host_keys: String,
}

/// What a generation was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    pub stamp: bool,
    pub version: &'static str,
}

/// The config and plugin files of generation `n` (1: the first): reload `i` toggles the middleware when `i` is
/// odd and swaps the greeter's build when `i` is even.
pub fn built(n: u64) -> Built {
    let reloads = n.saturating_sub(1);
    let toggles = reloads.div_ceil(2);
    let swaps = reloads / 2;
    Built {
        stamp: !toggles.is_multiple_of(2),
        version: if swaps.is_multiple_of(2) { "1.0.0" } else { "2.0.0" },
    }
}

/// Writes `plugins.toml` and the greeter library for `state`. The library is written beside and renamed into
/// place, as a deploy does.
pub fn prepare(site: &Site, host_keys: &str, state: Built) {
    site.write_config(&format!(
        "{host_keys}\n[plugins.header-stamp]\nenabled = {}\n\
         [plugins.header-stamp.config]\nheader = \"{STAMP_HEADER}\"\n[plugins.greeter]\nenabled = true\n",
        state.stamp
    ));
    if !site
        .plugin_dir()
        .join(library("openhost-example-header-stamp").file_name().expect("name"))
        .exists()
    {
        site.add_plugin("openhost-example-header-stamp");
    }
    let build = if state.version == "1.0.0" {
        "fixture-greeter"
    } else {
        "fixture-greeter-2"
    };
    let staged = site.plugin_dir().join("greeter.so.new");
    std::fs::copy(library(build), &staged).expect("stage the greeter");
    std::fs::rename(&staged, site.plugin_dir().join("greeter.so")).expect("replace the greeter");
}

/// One answer, or why there was none.
#[derive(Debug, Clone)]
struct Sample {
    sent: Duration,
    latency: Duration,
    outcome: Result<(u64, bool, String), String>,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Report {
    pub answers: usize,
    /// Requests without a 200 answer: what went wrong.
    pub failures: Vec<String>,
    /// Answers whose plugins are not the ones their generation was built with.
    pub mixed: Vec<String>,
    pub generations_seen: BTreeSet<u64>,
    /// Wall time of each `openhost plugins reload` (or SIGHUP until the new generation serves).
    pub reload_times: Vec<Duration>,
    /// Wall time of `openhost upgrade`.
    pub upgrade_time: Option<Duration>,
    pub steady_p99: Duration,
    pub reloading_p99: Duration,
    /// The slowest answer to a request sent while the upgrade ran: the pause a client saw.
    pub upgrade_max: Duration,
    /// The process serving after the upgrade (it is not the test's child: stop it with [`NewProcess`]).
    pub new_pid: Option<u32>,
    /// `/api/plugins` of the process serving at the end.
    pub plugins: serde_json::Value,
    /// Resident memory of the host (KiB) before the first reload and after the last.
    pub rss_kib: (u64, u64),
    /// Libraries the host had mapped after the last reload.
    pub retained_after_reloads: u64,
}

/// Kills the process an upgrade started when dropped (the test's own child is the old one).
pub struct NewProcess(pub u32);

impl Drop for NewProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", &self.0.to_string()]).status();
    }
}

fn percentile(mut latencies: Vec<Duration>, fraction: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    latencies.sort();
    let index = ((latencies.len() as f64 * fraction).ceil() as usize).clamp(1, latencies.len()) - 1;
    latencies[index]
}

/// Runs `plan` against `host` (started on `site`, prepared for generation 1).
pub fn run(site: &Site, host: &Host, plan: &Plan) -> Report {
    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let url = host.url("/api/greeter");
    let workers: Vec<_> = (0..plan.concurrency)
        .map(|_| {
            let (stop, samples, url) = (Arc::clone(&stop), Arc::clone(&samples), url.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("client");
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = origin.elapsed();
                    let outcome = ask(&client, &url);
                    mine.push(Sample {
                        sent,
                        latency: origin.elapsed() - sent,
                        outcome,
                    });
                }
                samples.lock().expect("samples").extend(mine);
            })
        })
        .collect();

    let mut report = Report::default();
    std::thread::sleep(plan.steady);
    let rss_before = rss_kib(host.pid());
    let reloads_started = origin.elapsed();
    for reload in 1..=plan.reloads as u64 {
        let generation = reload + 1;
        prepare(site, &plan.host_keys, built(generation));
        let started = Instant::now();
        if reload.is_multiple_of(5) {
            signal("-HUP", host.pid());
            wait_for_generation(&host.url("/api/plugins"), generation);
        } else {
            let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config(site)]);
            assert!(status.success(), "reload {reload} failed: {stderr}");
            assert!(stdout.contains(&format!("generation {generation} serving")), "{stdout}");
        }
        report.reload_times.push(started.elapsed());
        std::thread::sleep(plan.between);
    }
    let reloads_ended = origin.elapsed();
    report.rss_kib = (rss_before, rss_kib(host.pid()));
    report.retained_after_reloads = crate::get_json(&host.url("/api/plugins")).2["retained_libraries"]
        .as_u64()
        .unwrap_or(0);
    let mut upgrade_window = None;
    if plan.upgrade {
        let started = origin.elapsed();
        let (status, stdout, stderr) = site.cli(&["upgrade", "--config", &config(site)]);
        assert!(status.success(), "the upgrade failed: {stderr}\n{}", host.logs());
        report.upgrade_time = Some(origin.elapsed() - started);
        upgrade_window = Some((started, origin.elapsed()));
        report.new_pid = stdout.split_whitespace().nth(1).and_then(|pid| pid.parse().ok());
        std::thread::sleep(plan.steady);
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("load worker");
    }
    report.plugins = crate::get_json(&host.url("/api/plugins")).2;

    let samples = std::mem::take(&mut *samples.lock().expect("samples"));
    let mut steady = Vec::new();
    let mut reloading = Vec::new();
    for sample in &samples {
        if sample.sent < reloads_started {
            steady.push(sample.latency);
        } else if sample.sent < reloads_ended {
            reloading.push(sample.latency);
        }
        if let Some((from, to)) = upgrade_window
            && sample.sent >= from
            && sample.sent <= to
        {
            report.upgrade_max = report.upgrade_max.max(sample.latency);
        }
        match &sample.outcome {
            Err(why) => report.failures.push(why.clone()),
            Ok((generation, stamp, version)) => {
                report.answers += 1;
                report.generations_seen.insert(*generation);
                let last_reload = plan.reloads as u64 + 1;
                let expected = built((*generation).min(last_reload));
                if (*stamp, version.as_str()) != (expected.stamp, expected.version) {
                    report.mixed.push(format!(
                        "generation {generation} answered with stamp={stamp} version={version}, built with {expected:?}"
                    ));
                }
            }
        }
    }
    report.steady_p99 = percentile(steady, 0.99);
    report.reloading_p99 = percentile(reloading, 0.99);
    report
}

/// One request: the generation that answered, whether the stamp was there, the greeter's version.
fn ask(client: &reqwest::blocking::Client, url: &str) -> Result<(u64, bool, String), String> {
    let response = client.get(url).send().map_err(|e| format!("no answer: {e:?}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body: serde_json::Value = response.json().map_err(|e| format!("{status}: unreadable body: {e}"))?;
    if status != 200 {
        return Err(format!("{status}: {body}"));
    }
    let generation = headers
        .get("openhost-generation")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or("no openhost-generation header")?;
    let version = body["version"].as_str().ok_or("no version")?.to_owned();
    Ok((generation, headers.contains_key(STAMP_HEADER), version))
}

fn config(site: &Site) -> String {
    site.config_path().display().to_string()
}

/// Sends a signal to a process.
pub fn signal(which: &str, pid: u32) {
    let status = Command::new("kill")
        .args([which, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {which} {pid}");
}

/// Waits until `/api/plugins` reports `generation`.
pub fn wait_for_generation(plugins_url: &str, generation: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while crate::get_json(plugins_url).2["generation"] != generation {
        assert!(Instant::now() < deadline, "generation {generation} never served");
        std::thread::sleep(Duration::from_millis(10));
    }
}
