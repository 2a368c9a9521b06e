//! `cargo run --release -p openhost-tests --bin refresh-storm -- [ROUNDS] [USERS] [CONCURRENCY]` (defaults 5, 4,
//! 64): the refresh-storm benchmark of docs/benchmarks.md. Three enterprise hosts share the PostgreSQL database of
//! `OPENHOST_TEST_DATABASE_URL`; USERS users sign in; each round waits until every access token has expired, then
//! sends CONCURRENCY concurrent `GET /api/user/info` per user, spread over the three hosts, and then the same
//! again with fresh tokens (the steady state). Prints the refreshes per expiry (the lease's single flight: 1.00),
//! latency percentiles of both phases, and the hosts' CPU time per request (utime+stime from /proc/PID/stat).

use std::time::{Duration, Instant};

use openhost_tests::{enterprise_on_postgres, fake_github::FakeGithub, manual_client, test_database, try_sign_in};

const TOKEN_LIFETIME_SECS: u64 = 3;
const REFRESH: &str = "POST /login/oauth/access_token (refresh)";

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) close with ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |n: usize| fields.get(n).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// One burst: `per_user` concurrent requests for each session, round-robin over `urls`. Latencies and failures.
fn burst(urls: &[String], sessions: &[String], per_user: usize) -> (Vec<Duration>, usize) {
    let results: Vec<(Duration, bool)> = std::thread::scope(|scope| {
        let workers: Vec<_> = sessions
            .iter()
            .flat_map(|session| (0..per_user).map(move |i| (session, i)))
            .enumerate()
            .map(|(n, (session, _))| {
                let url = &urls[n % urls.len()];
                scope.spawn(move || {
                    let started = Instant::now();
                    let ok = manual_client()
                        .get(format!("{url}/api/user/info"))
                        .header("cookie", session)
                        .send()
                        .is_ok_and(|r| r.status().is_success());
                    (started.elapsed(), ok)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let failures = results.iter().filter(|(_, ok)| !ok).count();
    (results.into_iter().map(|(latency, _)| latency).collect(), failures)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let rounds = args.next().flatten().unwrap_or(5);
    let users = args.next().flatten().unwrap_or(4);
    let concurrency = args.next().flatten().unwrap_or(64);
    let Some(url) = test_database("the refresh-storm benchmark") else {
        std::process::exit(2);
    };
    let fake = FakeGithub::start(1);
    fake.set_token_lifetimes(TOKEN_LIFETIME_SECS, 3600);
    let instances = enterprise_on_postgres(3, &url, &fake, "refresh_margin_secs = 0");
    let urls: Vec<String> = instances.iter().map(|(_, host)| host.url("")).collect();
    let pids: Vec<u32> = instances.iter().map(|(_, host)| host.pid()).collect();
    let sessions: Vec<String> = (0..users as u64)
        .map(|i| {
            fake.add_user(7000 + i, &format!("storm-user-{i}"));
            try_sign_in(&instances[0].1).expect("sign in")
        })
        .collect();

    let (mut storm, mut steady) = (Vec::new(), Vec::new());
    let (mut storm_failures, mut steady_failures) = (0, 0);
    let (mut storm_ticks, mut steady_ticks) = (0, 0);
    let ticks = || pids.iter().map(|pid| cpu_ticks(*pid)).sum::<u64>();
    let refreshes_before = fake.calls(REFRESH);
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_millis(TOKEN_LIFETIME_SECS * 1000 + 500));
        let before = ticks();
        let (latencies, failures) = burst(&urls, &sessions, concurrency);
        storm_ticks += ticks() - before;
        storm.extend(latencies);
        storm_failures += failures;
        let before = ticks();
        let (latencies, failures) = burst(&urls, &sessions, concurrency);
        steady_ticks += ticks() - before;
        steady.extend(latencies);
        steady_failures += failures;
    }
    let refreshes = fake.calls(REFRESH) - refreshes_before;
    let expiries = (rounds * users) as u64;
    storm.sort();
    steady.sort();
    let tick_us = 1_000_000.0 / 100.0; // USER_HZ
    println!(
        "3 hosts on PostgreSQL, {users} users, {rounds} expiries each, {concurrency} concurrent requests per user per burst"
    );
    println!(
        "refreshes: {refreshes} for {expiries} expiries ({:.2} per expiry)",
        refreshes as f64 / expiries as f64
    );
    println!("| burst | requests | failed | p50 | p99 | max | hosts' CPU µs/req |");
    println!("|---|---|---|---|---|---|---|");
    for (name, latencies, failures, ticks) in [
        ("after expiry (refresh storm)", &storm, storm_failures, storm_ticks),
        ("fresh tokens (steady)", &steady, steady_failures, steady_ticks),
    ] {
        println!(
            "| {name} | {} | {failures} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} |",
            latencies.len(),
            percentile(latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
            ticks as f64 * tick_us / latencies.len() as f64,
        );
    }
    if refreshes != expiries || storm_failures + steady_failures > 0 {
        std::process::exit(1);
    }
}
