//! PostgreSQL restarted under write traffic from two hosts (docs/operating.md, "Several instances"): writes during
//! the restart fail with 503 `store_unavailable` or succeed, service resumes by itself, and every write a host
//! acknowledged is there afterwards. Its own test binary: it restarts the machine's PostgreSQL server, which no
//! other test may be using at that moment (cargo runs test binaries one after another).
//!
//! Needs `OPENHOST_TEST_DATABASE_URL` and a local cluster this user may restart (`pg_ctlcluster`, as root in
//! CI); says it was skipped otherwise, and in CI (`CI` set) a skip is a failure.

use std::{
    collections::BTreeSet,
    process::Command,
    sync::Mutex,
    time::{Duration, Instant},
};

use openhost_tests::{
    Site, fake_github::FakeGithub, manual_client, postgres_config, postgres_env, skip, test_database,
};
use serde_json::{Value, json};

/// Each writer's number of secrets (four writers stay under the host's 256 secrets per user).
const WRITES_PER_WRITER: usize = 60;
const WRITERS: usize = 4;

/// The version directory of the local cluster (`/etc/postgresql/15`), if this machine has one.
fn local_cluster() -> Option<String> {
    let entry = std::fs::read_dir("/etc/postgresql").ok()?.flatten().next()?;
    Some(entry.file_name().to_string_lossy().into_owned())
}

fn restart_postgres(version: &str) {
    let started = Instant::now();
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", version, "main", "restart"])
        .status()
        .expect("run pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster restart failed: {status}");
    eprintln!("PostgreSQL restarted in {:?}", started.elapsed());
}

const RESTART_TEST: &str = "the PostgreSQL restart test";

#[test]
fn restarting_postgres_under_writes_loses_no_acknowledged_write() {
    let Some(url) = test_database("PostgreSQL restarted under traffic") else {
        return;
    };
    let Some(version) = local_cluster() else {
        return skip(RESTART_TEST, "no local PostgreSQL cluster (/etc/postgresql) to restart");
    };
    let may_restart = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", "status"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !may_restart {
        return skip(RESTART_TEST, "pg_ctlcluster cannot control the local cluster here");
    }
    let fake = FakeGithub::start(1);
    let sites = [Site::new(), Site::new()];
    let hosts: Vec<_> = sites
        .iter()
        .map(|site| {
            site.write_config(&postgres_config(&fake.base_url));
            site.start_with_env(&postgres_env(&url))
        })
        .collect();
    let urls: Vec<String> = hosts.iter().map(|host| host.url("/api/secrets")).collect();

    let acknowledged = Mutex::new(BTreeSet::new());
    let statuses = Mutex::new(Vec::new());
    let ready_after_restart = Mutex::new(None::<Instant>);
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (urls, acknowledged, statuses) = (&urls, &acknowledged, &statuses);
            scope.spawn(move || {
                let http = manual_client();
                for n in 0..WRITES_PER_WRITER {
                    let name = format!("W{writer}_{n}");
                    let answer = http
                        .post(&urls[(writer + n) % urls.len()])
                        .json(&json!({"name": name, "value": "v"}))
                        .send();
                    let status = answer.map_or(0, |a| a.status().as_u16());
                    if (200..300).contains(&status) {
                        acknowledged.lock().unwrap().insert(name);
                    }
                    statuses.lock().unwrap().push((Instant::now(), status));
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        restart_postgres(&version);
        *ready_after_restart.lock().unwrap() = Some(Instant::now());
    });

    let statuses = statuses.into_inner().unwrap();
    let restarted = ready_after_restart.into_inner().unwrap().expect("restarted");
    let unexpected: Vec<u16> = statuses
        .iter()
        .map(|(_, status)| *status)
        .filter(|status| !matches!(status, 201 | 503))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 201 or 503 store_unavailable: {unexpected:?}"
    );
    assert!(
        statuses.iter().any(|(at, status)| *at > restarted && *status == 201),
        "writes succeeded again after the restart"
    );
    let acknowledged = acknowledged.into_inner().unwrap();
    for url in &urls {
        let listed: Value = manual_client().get(url).send().unwrap().json().unwrap();
        let stored: BTreeSet<String> = listed["custom_secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|secret| secret["name"].as_str().map(str::to_owned))
            .collect();
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    }
    let failed = statuses.iter().filter(|(_, status)| *status == 503).count();
    eprintln!(
        "{} writes: {} acknowledged, {failed} answered 503 during the restart, none lost",
        statuses.len(),
        acknowledged.len()
    );
}
