//! A bounded soak: mixed authenticated traffic against a host running the enterprise plugin and the
//! `header-stamp` example middleware, with access tokens expiring every few seconds at the fake GitHub. Runs for
//! a fixed duration, then stops by itself; loopback only.
//!
//! `cargo run --release -p openhost-tests --bin soak -- 60 64` runs the long version (docs/reliability.md); a test
//! runs a few seconds of it in CI.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    Site,
    fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub},
    free_port, manual_client, rss_kib,
};

/// What a soak run measured.
#[derive(Debug)]
pub struct SoakReport {
    pub duration: Duration,
    pub concurrency: usize,
    pub users: usize,
    pub token_lifetime_secs: u64,
    pub requests: u64,
    /// Status code -> count.
    pub statuses: BTreeMap<u16, u64>,
    /// Transport failures (no HTTP answer).
    pub failures: u64,
    pub refreshes: u64,
    /// Expiries the run spanned: users x duration / (lifetime - margin), the most refreshes that could be due.
    pub expiries: u64,
    /// The host's resident set, sampled every second from the start of the load.
    pub rss: Vec<RssSample>,
    /// The host's WARN and ERROR lines (the first 20).
    pub warnings: Vec<String>,
}

/// One reading of the host's resident set size.
#[derive(Debug, Clone, Copy)]
pub struct RssSample {
    /// Since the load started.
    pub at: Duration,
    pub kib: u64,
}

impl SoakReport {
    /// The least-squares slope of RSS over the second half of the run, in KiB per minute: the growth trend once
    /// caches have warmed up. Zero when there are too few samples to tell.
    pub fn rss_trend_kib_per_min(&self) -> f64 {
        let last_half: Vec<(f64, f64)> = self
            .rss
            .iter()
            .filter(|sample| sample.at >= self.duration / 2)
            .map(|sample| (sample.at.as_secs_f64() / 60.0, sample.kib as f64))
            .collect();
        if last_half.len() < 3 {
            return 0.0;
        }
        let n = last_half.len() as f64;
        let mean_t = last_half.iter().map(|(t, _)| t).sum::<f64>() / n;
        let mean_kib = last_half.iter().map(|(_, kib)| kib).sum::<f64>() / n;
        let covariance: f64 = last_half.iter().map(|(t, kib)| (t - mean_t) * (kib - mean_kib)).sum();
        let variance: f64 = last_half.iter().map(|(t, _)| (t - mean_t).powi(2)).sum();
        if variance == 0.0 { 0.0 } else { covariance / variance }
    }

    /// Answers that are neither 2xx nor a deliberate 429.
    pub fn errors(&self) -> u64 {
        self.failures
            + self
                .statuses
                .iter()
                .filter(|(status, _)| !(200..300).contains(*status) && **status != 429)
                .map(|(_, count)| count)
                .sum::<u64>()
    }
}

/// Runs the soak.
pub fn run(duration: Duration, concurrency: usize) -> SoakReport {
    const USERS: usize = 8;
    const TOKEN_LIFETIME_SECS: u64 = 4;
    const REFRESH_MARGIN_SECS: u64 = 1;
    let fake = FakeGithub::start(40);
    fake.set_token_lifetimes(TOKEN_LIFETIME_SECS, 3600);
    let site = Site::new();
    site.add_plugin("openhost-enterprise");
    site.add_plugin("openhost-example-header-stamp");
    let port = free_port();
    site.write_config_on(
        port,
        &format!(
            r#"rate_limit_per_sec = 0
[plugins.header-stamp.config]
value = "soak"
[plugins.enterprise.config]
github_client_id = "{CLIENT_ID}"
github_client_secret = "{CLIENT_SECRET}"
public_url = "http://127.0.0.1:{port}"
secret_key = "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE"
github_web_url = "{fake}"
github_api_url = "{fake}"
refresh_margin_secs = {REFRESH_MARGIN_SECS}
"#,
            fake = fake.base_url
        ),
    );
    // The harness waits for the (info) "listening" line; everything else only at warn.
    let host = site.start_with_env(&[("RUST_LOG", "warn,openhost=info")]);
    let sessions: Vec<String> = (0..USERS as u64)
        .map(|i| crate::sign_in_with_settings(&host, &fake, 5000 + i, &format!("soak-user-{i}")))
        .collect();

    let pid = host.pid();
    let mut rss = vec![RssSample {
        at: Duration::ZERO,
        kib: rss_kib(pid),
    }];
    let refreshes_before = fake.calls("POST /login/oauth/access_token (refresh)");
    let statuses = Mutex::new(BTreeMap::<u16, u64>::new());
    let failures = Mutex::new(0u64);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..concurrency {
            let (sessions, statuses, failures, host) = (&sessions, &statuses, &failures, &host);
            scope.spawn(move || {
                let http = manual_client();
                let mut local: BTreeMap<u16, u64> = BTreeMap::new();
                let mut local_failures = 0;
                let mut n = worker;
                while started.elapsed() < duration {
                    n += concurrency;
                    let session = &sessions[n % sessions.len()];
                    let request = match n % 10 {
                        0..=2 => http.get(host.url("/api/user/info")),
                        3..=5 => http.get(host.url("/api/settings")),
                        6 => http
                            .post(host.url("/api/settings"))
                            .json(&json!({"git_user_name": format!("worker-{worker}-{n}")})),
                        7 | 8 => http.get(host.url("/api/user/repositories?per_page=10")),
                        _ => http.get(host.url("/api/options/config")),
                    };
                    match request.header("cookie", session).send() {
                        Ok(response) => *local.entry(response.status().as_u16()).or_default() += 1,
                        Err(_) => local_failures += 1,
                    }
                }
                let mut all = statuses.lock().unwrap();
                for (status, count) in local {
                    *all.entry(status).or_default() += count;
                }
                *failures.lock().unwrap() += local_failures;
            });
        }
        let sampler_host_pid = pid;
        let rss = &mut rss;
        scope.spawn(move || {
            while started.elapsed() < duration {
                std::thread::sleep(Duration::from_secs(1).min(duration / 4));
                rss.push(RssSample {
                    at: started.elapsed(),
                    kib: rss_kib(sampler_host_pid),
                });
            }
        });
    });
    let elapsed = started.elapsed();
    let statuses = statuses.into_inner().unwrap();
    let window = TOKEN_LIFETIME_SECS - REFRESH_MARGIN_SECS;
    let report = SoakReport {
        duration: elapsed,
        concurrency,
        users: USERS,
        token_lifetime_secs: TOKEN_LIFETIME_SECS,
        requests: statuses.values().sum(),
        statuses,
        failures: failures.into_inner().unwrap(),
        refreshes: fake.calls("POST /login/oauth/access_token (refresh)") - refreshes_before,
        expiries: USERS as u64 * (elapsed.as_secs() / window + 1),
        rss,
        warnings: host
            .logs()
            .lines()
            .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
            .take(20)
            .map(str::to_owned)
            .collect(),
    };
    drop(host);
    report
}
