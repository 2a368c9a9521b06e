//! Crash safety: the host is killed with SIGKILL at random moments while clients write settings and sign in; after
//! every restart each write that was acknowledged with a 2xx is there, every acknowledged sign-in still works, and
//! the database opens.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use openhost_tests::{
    Host, Site,
    fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub},
    free_port, manual_client, send, try_sign_in,
};
use serde_json::json;

const CYCLES: usize = 50;

fn random_below(limit: u64) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(limit);
    hasher.finish() % limit
}

fn start(site: &Site, fake: &FakeGithub, port: u16) -> Host {
    let fake_url = &fake.base_url;
    site.write_config_on(
        port,
        &format!(
            r#"rate_limit_per_sec = 0
[plugins.enterprise.config]
github_client_id = "{CLIENT_ID}"
github_client_secret = "{CLIENT_SECRET}"
public_url = "http://127.0.0.1:{port}"
secret_key = "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE"
github_web_url = "{fake_url}"
github_api_url = "{fake_url}"
# One user signs in again and again here; every acknowledged session must survive, none may be evicted.
max_sessions_per_user = 100000
"#
        ),
    );
    site.start()
}

#[test]
fn acknowledged_writes_and_sign_ins_survive_sigkill_at_random_moments() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    site.add_plugin("openhost-enterprise");
    let port = free_port();
    let mut host = start(&site, &fake, port);
    let writer_session = try_sign_in(&host).expect("first sign-in");

    let mut acknowledged_writes = 0u64;
    let mut last_acknowledged: Option<u64> = None;
    let mut sessions: Vec<String> = Vec::new();
    let mut counter = 0u64;
    for cycle in 0..CYCLES {
        let stop = AtomicBool::new(false);
        let acked = Mutex::new((last_acknowledged, 0u64, Vec::<String>::new()));
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let http = manual_client();
                while !stop.load(Ordering::Relaxed) {
                    counter += 1;
                    let value = counter;
                    let answer = http
                        .post(host.url("/api/settings"))
                        .header("cookie", &writer_session)
                        .json(&json!({"git_user_name": value.to_string()}))
                        .send();
                    match answer {
                        Ok(response) if response.status().is_success() => {
                            let mut acked = acked.lock().unwrap();
                            acked.0 = Some(value);
                            acked.1 += 1;
                        }
                        _ => break,
                    }
                }
            });
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    match try_sign_in(&host) {
                        Some(session) => acked.lock().unwrap().2.push(session),
                        None => break,
                    }
                }
            });
            std::thread::sleep(Duration::from_millis(30 + random_below(300)));
            let pid = host.pid();
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .unwrap();
            stop.store(true, Ordering::Relaxed);
        });
        let (last, writes, new_sessions) = acked.into_inner().unwrap();
        last_acknowledged = last;
        acknowledged_writes += writes;
        drop(host);

        host = start(&site, &fake, port);
        if let Some(last) = last_acknowledged {
            let (status, _, settings) = send(
                manual_client()
                    .get(host.url("/api/settings"))
                    .header("cookie", &writer_session),
            );
            assert_eq!(status, 200, "cycle {cycle}: {settings}");
            let stored: u64 = settings["git_user_name"].as_str().unwrap().parse().unwrap();
            assert!(stored >= last, "cycle {cycle}: acknowledged {last}, found {stored}");
        }
        for session in &new_sessions {
            let (status, _, body) = send(
                manual_client()
                    .get(host.url("/api/user/info"))
                    .header("cookie", session),
            );
            assert_eq!(status, 200, "cycle {cycle}: an acknowledged sign-in was lost: {body}");
        }
        sessions.extend(new_sessions);
    }
    for session in &sessions {
        let (status, _, body) = send(manual_client().get(host.url("/api/settings")).header("cookie", session));
        assert_ne!(status, 401, "after all cycles, an acknowledged session is gone: {body}");
    }
    println!(
        "crash safety: {CYCLES} SIGKILLs, {acknowledged_writes} acknowledged settings writes, {} acknowledged sign-ins, all present after every restart",
        sessions.len()
    );
    assert!(
        acknowledged_writes > CYCLES as u64,
        "the clients did write: {acknowledged_writes}"
    );
    assert!(!sessions.is_empty());
}
