//! `cargo run --release -p openhost-tests --bin soak -- [SECONDS] [CONCURRENCY]` (defaults 60 and 64): the soak
//! of docs/reliability.md. Prints the figures and exits non-zero if a target is missed.

use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let concurrency = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    let report = openhost_tests::soak::run(Duration::from_secs(seconds), concurrency);
    let rate = report.requests as f64 / report.duration.as_secs_f64();
    println!(
        "duration: {:.1} s, concurrency {}, users {}",
        report.duration.as_secs_f64(),
        report.concurrency,
        report.users
    );
    println!(
        "requests: {} ({rate:.0}/s), statuses {:?}, transport failures {}",
        report.requests, report.statuses, report.failures
    );
    println!("errors (not 2xx, not 429): {}", report.errors());
    println!(
        "token refreshes: {} for at most {} expiries ({} users, {} s tokens)",
        report.refreshes, report.expiries, report.users, report.token_lifetime_secs
    );
    let kib = |sample: Option<&openhost_tests::soak::RssSample>| sample.map_or(0, |sample| sample.kib);
    let half = report.rss.iter().find(|sample| sample.at >= report.duration / 2);
    let peak = report.rss.iter().map(|sample| sample.kib).max().unwrap_or(0);
    println!(
        "host RSS: start {} KiB, half-way {} KiB, end {} KiB, peak {peak} KiB; trend over the second half {:+.0} KiB/min",
        kib(report.rss.first()),
        kib(half),
        kib(report.rss.last()),
        report.rss_trend_kib_per_min()
    );
    let every_ten_seconds: Vec<u64> = report.rss.iter().step_by(10).map(|sample| sample.kib).collect();
    println!("host RSS every 10 s (KiB): {every_ten_seconds:?}");
    for line in &report.warnings {
        println!("host: {line}");
    }
    if report.errors() > 0 || report.refreshes > report.expiries {
        std::process::exit(1);
    }
}
