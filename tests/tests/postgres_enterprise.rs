//! The enterprise plugin on three instances behind one (imagined) load balancer, sharing one PostgreSQL
//! database (docs/operating.md, "Several instances"): sessions are valid everywhere and end everywhere, and a
//! user's GitHub tokens are refreshed once for all instances, through the host's lease service, even when an
//! instance is killed in the middle of it. Runs against `OPENHOST_TEST_DATABASE_URL`; says it was skipped without it,
//! and fails in CI if so.

use std::time::Duration;

use openhost_tests::{
    Answer, enterprise_on_postgres, fake_github::FakeGithub, manual_client, send, test_database, try_sign_in,
    user_info_burst,
};

const REFRESH: &str = "POST /login/oauth/access_token (refresh)";

fn user_info(url: &str, cookie: &str) -> Answer {
    send(
        manual_client()
            .get(format!("{url}/api/user/info"))
            .header("cookie", cookie),
    )
}

/// `count` concurrent `GET /api/user/info` with `cookie`, spread round-robin over `urls`; their statuses.
fn storm(urls: &[String], cookie: &str, count: usize) -> Vec<u16> {
    let burst = user_info_burst(urls, &[cookie.to_owned()], count);
    burst.into_iter().map(|(status, _)| status).collect()
}

#[test]
fn a_session_made_on_one_instance_is_known_to_all_and_ends_everywhere() {
    let Some(url) = test_database("three enterprise instances") else {
        return;
    };
    let fake = FakeGithub::start(3);
    let instances = enterprise_on_postgres(3, &url, &fake, "");
    let [(_, a), (_, b), (_, c)] = &instances[..] else {
        unreachable!()
    };
    let cookie = try_sign_in(a).expect("sign in on A");
    for (name, host) in [("A", a), ("B", b), ("C", c)] {
        let answer = user_info(&host.url(""), &cookie);
        assert_eq!(
            (answer.0, answer.2["login"].as_str()),
            (200, Some("octocat")),
            "on {name}"
        );
    }
    let out = send(manual_client().post(b.url("/api/logout")).header("cookie", &cookie));
    assert_eq!(out.0, 200, "{}", out.2);
    for (name, host) in [("A", a), ("B", b), ("C", c)] {
        assert_eq!(user_info(&host.url(""), &cookie).0, 401, "signed out on {name} too");
    }
}

/// 64 concurrent requests over A, B and C after the access token expired cost exactly one refresh, three expiries
/// in a row. Without the lease, each instance would refresh with the same refresh token, and GitHub, which
/// rotates them, would refuse all but the first: those users would be signed out.
#[test]
fn sixty_four_requests_over_three_instances_after_expiry_cost_one_refresh() {
    let Some(url) = test_database("refresh storm over three instances") else {
        return;
    };
    let fake = FakeGithub::start(1);
    fake.set_token_lifetimes(2, 3600);
    let instances = enterprise_on_postgres(3, &url, &fake, "refresh_margin_secs = 0");
    let urls: Vec<String> = instances.iter().map(|(_, host)| host.url("")).collect();
    let cookie = try_sign_in(&instances[0].1).expect("sign in on A");
    for round in 1..=3 {
        std::thread::sleep(Duration::from_millis(2500));
        let statuses = storm(&urls, &cookie, 64);
        assert!(statuses.iter().all(|s| *s == 200), "round {round}: {statuses:?}");
        assert_eq!(fake.calls(REFRESH), round, "one refresh per expiry");
    }
}

/// Writes the lease record an instance leaves behind when it is killed after taking the lease `name` and before
/// reaching GitHub: held by nobody alive, for `ttl` more.
fn leave_a_dead_holders_lease(url: &str, name: &str, ttl: Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let millis = i64::try_from(ttl.as_millis()).unwrap();
        client
            .execute(
                "INSERT INTO openhost_leases (name, holder, expires_at)
                 VALUES ($1, 'killed', now() + $2::BIGINT * INTERVAL '1 millisecond')",
                &[&name, &millis],
            )
            .await
            .unwrap();
    });
}

/// A refresh storm over A, B and C, held up by the lease of an instance that died holding it; A is killed
/// (SIGKILL) in the middle of the storm. The dead holder's lease lapses, one survivor refreshes, every request to
/// B and C is answered, and nobody is signed out.
#[test]
fn killing_an_instance_during_a_refresh_storm_signs_nobody_out() {
    let Some(url) = test_database("an instance killed during a refresh storm") else {
        return;
    };
    let fake = FakeGithub::start(1);
    fake.set_token_lifetimes(2, 3600);
    let mut instances = enterprise_on_postgres(3, &url, &fake, "refresh_margin_secs = 0");
    let urls: Vec<String> = instances.iter().map(|(_, host)| host.url("")).collect();
    let cookie = try_sign_in(&instances[0].1).expect("sign in on A");
    std::thread::sleep(Duration::from_millis(2500));
    leave_a_dead_holders_lease(&url, "plugin/enterprise/refresh/github:4242", Duration::from_secs(3));

    let (_site_a, a) = instances.remove(0);
    let started = std::time::Instant::now();
    let statuses = std::thread::scope(|scope| {
        let on_a: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    // Cut off by the kill, or answered before it: either is fine for a dying instance.
                    let request = manual_client()
                        .get(format!("{}/api/user/info", urls[0]))
                        .header("cookie", &cookie);
                    let _ = request.send();
                })
            })
            .collect();
        let survivors = scope.spawn(|| storm(&urls[1..], &cookie, 64));
        std::thread::sleep(Duration::from_millis(1000));
        let logs = a.kill_hard();
        assert!(
            !logs.contains("refreshed the sign-in's tokens"),
            "A refreshed before the lease lapsed:\n{logs}"
        );
        for request in on_a {
            request.join().unwrap();
        }
        survivors.join().unwrap()
    });
    assert!(
        statuses.iter().all(|s| *s == 200),
        "{statuses:?} {:?}",
        fake.all_calls()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "waited for the dead holder's lease"
    );
    assert_eq!(fake.calls(REFRESH), 1, "one survivor refreshed, once");
    for url in &urls[1..] {
        assert_eq!(user_info(url, &cookie).0, 200, "still signed in");
    }
}
