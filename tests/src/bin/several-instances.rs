//! `cargo run --release -p openhost-tests --bin several-instances -- [SECONDS] [USERS] [ROUNDS]` (defaults 10, 32,
//! 5): the benchmarks of docs/benchmarks.md, "Several instances". Needs `OPENHOST_TEST_DATABASE_URL`.
//!
//! 1. Authenticated settings, many users: an enterprise host on sled and one on PostgreSQL, USERS users signed in
//!    on each; 64 client threads send `GET /api/settings`, then `POST /api/settings`, each thread as its own user
//!    (thread i is user i mod USERS), SECONDS seconds per row, sled and PostgreSQL alternating. Requests/s, p99 and
//!    the host's CPU per request (utime+stime from /proc/PID/stat; PostgreSQL's own CPU is not counted).
//! 2. Refresh storm: three enterprise hosts on one database, 4 users; ROUNDS times, once every access token has
//!    expired, 64 concurrent `GET /api/user/info` per user spread over the three hosts, then the same with fresh
//!    tokens. Refreshes per expiry (the lease's single flight: 1.00) and latency percentiles of both bursts.
//!
//! Exits non-zero if a request failed or an expiry cost more than one refresh.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use openhost_tests::{
    Host, enterprise_hosts, enterprise_on_postgres, fake_github::FakeGithub, manual_client, sign_in_with_settings,
    test_database, try_sign_in, user_info_burst,
};
use serde_json::json;

const CLIENTS: usize = 64;
const STORM_USERS: usize = 4;
const TOKEN_LIFETIME_SECS: u64 = 3;
const REFRESH: &str = "POST /login/oauth/access_token (refresh)";

/// utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which may hold spaces, start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |n: usize| fields.get(n).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

fn cpu_micros(ticks: u64) -> f64 {
    ticks as f64 * 10_000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Signs in `users` users on `host` (the fake's users `first..`), each with settings.
fn sign_in_users(host: &Host, fake: &FakeGithub, first: u64, users: usize) -> Vec<String> {
    (0..users as u64)
        .map(|i| sign_in_with_settings(host, fake, first + i, &format!("bench-user-{}", first + i)))
        .collect()
}

struct Load {
    requests: usize,
    failures: usize,
    latencies: Vec<Duration>,
    cpu_ticks: u64,
    elapsed: Duration,
}

/// [`CLIENTS`] threads, each as the user `i mod sessions`, sending `post`s or `GET`s to `/api/settings` for
/// `duration`.
fn settings_load(host: &Host, sessions: &[String], post: bool, duration: Duration) -> Load {
    let stop = AtomicBool::new(false);
    let before = cpu_ticks(host.pid());
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (session, stop) = (&sessions[i % sessions.len()], &stop);
                scope.spawn(move || {
                    let http = manual_client();
                    let (mut latencies, mut failures) = (Vec::new(), 0);
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let request = if post {
                            http.post(host.url("/api/settings"))
                                .json(&json!({"git_user_name": format!("client-{i}-{n}")}))
                        } else {
                            http.get(host.url("/api/settings"))
                        };
                        let sent = Instant::now();
                        let ok = request
                            .header("cookie", session)
                            .send()
                            .is_ok_and(|r| r.status().is_success());
                        latencies.push(sent.elapsed());
                        failures += usize::from(!ok);
                    }
                    (latencies, failures)
                })
            })
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let cpu = cpu_ticks(host.pid()) - before;
    let mut latencies: Vec<Duration> = results.iter().flat_map(|(l, _)| l.iter().copied()).collect();
    latencies.sort();
    Load {
        requests: latencies.len(),
        failures: results.iter().map(|(_, f)| f).sum(),
        latencies,
        cpu_ticks: cpu,
        elapsed,
    }
}

/// One burst: `per_user` concurrent `GET /api/user/info` for each session, round-robin over `urls`. Latencies
/// and failures.
fn burst(urls: &[String], sessions: &[String], per_user: usize) -> (Vec<Duration>, usize) {
    let answers = user_info_burst(urls, sessions, per_user);
    let failures = answers.iter().filter(|(status, _)| *status != 200).count();
    (answers.into_iter().map(|(_, latency)| latency).collect(), failures)
}

fn settings_benchmark(url: &str, duration: Duration, users: usize) -> usize {
    let fake = FakeGithub::start(1);
    let sled = enterprise_hosts(1, None, &fake, "");
    let postgres = enterprise_hosts(1, Some(url), &fake, "");
    let (sled, postgres) = (&sled[0].1, &postgres[0].1);
    let sled_sessions = sign_in_users(sled, &fake, 10_000, users);
    let postgres_sessions = sign_in_users(postgres, &fake, 20_000, users);
    println!(
        "1. Authenticated /api/settings, enterprise plugin, {users} users, {CLIENTS} client threads, {} s per row",
        duration.as_secs()
    );
    println!();
    println!(
        "| request | sled req/s | PostgreSQL req/s | PG/sled | sled p99 | PG p99 | sled CPU µs/req | PG host CPU µs/req |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut failures = 0;
    for post in [false, true] {
        let s = settings_load(sled, &sled_sessions, post, duration);
        let p = settings_load(postgres, &postgres_sessions, post, duration);
        failures += s.failures + p.failures;
        let rate = |load: &Load| load.requests as f64 / load.elapsed.as_secs_f64();
        println!(
            "| `{} /api/settings` | {:.0} | {:.0} | {:.2} | {:.1} ms | {:.1} ms | {:.1} | {:.1} |",
            if post { "POST" } else { "GET" },
            rate(&s),
            rate(&p),
            rate(&p) / rate(&s),
            millis(percentile(&s.latencies, 0.99)),
            millis(percentile(&p.latencies, 0.99)),
            cpu_micros(s.cpu_ticks) / s.requests as f64,
            cpu_micros(p.cpu_ticks) / p.requests as f64,
        );
    }
    failures
}

fn refresh_storm(url: &str, rounds: usize) -> bool {
    let fake = FakeGithub::start(1);
    fake.set_token_lifetimes(TOKEN_LIFETIME_SECS, 3600);
    let instances = enterprise_on_postgres(3, url, &fake, "refresh_margin_secs = 0");
    let urls: Vec<String> = instances.iter().map(|(_, host)| host.url("")).collect();
    let sessions: Vec<String> = (0..STORM_USERS as u64)
        .map(|i| {
            fake.add_user(30_000 + i, &format!("storm-user-{i}"));
            try_sign_in(&instances[0].1).expect("sign in")
        })
        .collect();
    let (mut storm, mut steady, mut failures) = (Vec::new(), Vec::new(), 0);
    let refreshes_before = fake.calls(REFRESH);
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_millis(TOKEN_LIFETIME_SECS * 1000 + 500));
        let (latencies, failed) = burst(&urls, &sessions, CLIENTS);
        storm.extend(latencies);
        failures += failed;
        let (latencies, failed) = burst(&urls, &sessions, CLIENTS);
        steady.extend(latencies);
        failures += failed;
    }
    let refreshes = fake.calls(REFRESH) - refreshes_before;
    let expiries = (rounds * STORM_USERS) as u64;
    storm.sort();
    steady.sort();
    println!();
    println!(
        "2. Refresh storm: 3 hosts on PostgreSQL, {STORM_USERS} users, {rounds} expiries each, {CLIENTS} concurrent \
         requests per user per burst"
    );
    println!();
    println!(
        "refreshes: {refreshes} for {expiries} expiries ({:.2} per expiry); failed requests: {failures}",
        refreshes as f64 / expiries as f64
    );
    println!();
    println!("| burst | requests | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (name, latencies) in [("after expiry (refresh storm)", &storm), ("fresh tokens", &steady)] {
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            latencies.len(),
            millis(percentile(latencies, 0.5)),
            millis(percentile(latencies, 0.99)),
            millis(latencies.last().copied().unwrap_or_default()),
        );
    }
    refreshes == expiries && failures == 0
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().ok());
    let seconds = args.next().flatten().unwrap_or(10);
    let users = args.next().flatten().unwrap_or(32) as usize;
    let rounds = args.next().flatten().unwrap_or(5) as usize;
    let Some(url) = test_database("the several-instances benchmarks") else {
        std::process::exit(2);
    };
    let failures = settings_benchmark(&url, Duration::from_secs(seconds), users);
    let single_flight = refresh_storm(&url, rounds);
    if failures > 0 || !single_flight {
        eprintln!("failed requests: {failures}; one refresh per expiry: {single_flight}");
        std::process::exit(1);
    }
}
