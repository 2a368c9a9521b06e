//! `cargo run --release -p openhost-tests --bin live-changes -- [ROUNDS] [RELOADS]` (defaults 3, 20): the numbers
//! of docs/reliability.md, "Live changes under load". Each round starts a host (sled, then PostgreSQL when
//! `OPENHOST_TEST_DATABASE_URL` is set), puts 64 clients on it without pause, reloads RELOADS times and upgrades
//! it once (tests/src/live_load.rs). Prints one table row per round: answers, failed requests, answers with mixed
//! generations, reload time, p99 before and during the reloads, the slowest answer to a request sent during the
//! upgrade, and what the reloads cost in mappings and resident memory.
//!
//! Exits non-zero if a request failed or an answer mixed generations.

use std::time::Duration;

use openhost_tests::{
    Site,
    live_load::{self, NewProcess, Plan},
    postgres_config, postgres_env, test_database,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let reloads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let database = test_database("the PostgreSQL rows of live-changes");
    let mut stores = vec![("sled", "rate_limit_per_sec = 0".to_owned(), Vec::new())];
    if let Some(url) = &database {
        stores.push((
            "PostgreSQL",
            postgres_config("http://127.0.0.1:9"),
            postgres_env(url).to_vec(),
        ));
    }
    println!("64 clients, GET /api/greeter without pause; {reloads} reloads 150 ms apart, then one upgrade\n");
    println!(
        "| store | answers | failed | mixed | reload p50 / max | p99 steady | p99 reloading | slowest during upgrade | mapped after reloads | RSS before → after reloads |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut clean = true;
    for _ in 0..rounds {
        for (store, keys, env) in &stores {
            let site = Site::new();
            live_load::prepare(&site, keys, live_load::built(1));
            let host = site.start_with_env(env);
            let plan = Plan {
                concurrency: 64,
                reloads,
                between: Duration::from_millis(150),
                steady: Duration::from_secs(2),
                upgrade: true,
                host_keys: keys.clone(),
            };
            let report = live_load::run(&site, &host, &plan);
            let _new = report.new_pid.map(NewProcess);
            let mut times = report.reload_times.clone();
            times.sort();
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
            println!(
                "| {store} | {} | {} | {} | {} / {} | {} | {} | {} | {} | {} → {} MB |",
                report.answers,
                report.failures.len(),
                report.mixed.len(),
                ms(times.get(times.len() / 2).copied().unwrap_or_default()),
                ms(times.last().copied().unwrap_or_default()),
                ms(report.steady_p99),
                ms(report.reloading_p99),
                ms(report.upgrade_max),
                report.retained_after_reloads,
                report.rss_kib.0 / 1024,
                report.rss_kib.1 / 1024,
            );
            clean &= report.failures.is_empty() && report.mixed.is_empty();
        }
    }
    if !clean {
        std::process::exit(1);
    }
}
