//! Hosts on PostgreSQL (`[host] store = "postgres"`, docs/operating.md "Several instances"): what one instance
//! stores, another on the same database serves, and a restart keeps it. Runs against
//! `OPENHOST_TEST_DATABASE_URL`; says it was skipped without it, and fails in CI if so.

use openhost_tests::{
    Site,
    fake_github::{FakeGithub, PAT},
    get_json, post_json, test_database,
};
use serde_json::json;

const HOST_KEY: &str = "c2hhcmVkLWhvc3Qta2V5LWZvci1vcGVuaG9zdC10ZXN0cy0w";

fn postgres_config(fake: &FakeGithub) -> String {
    format!(
        "github_api_url = \"{}\"\nrate_limit_per_sec = 0\nstore = \"postgres\"\ndatabase_url = \"${{TEST_DATABASE_URL}}\"\n\
         secret_key = \"${{TEST_HOST_KEY}}\"\n",
        fake.base_url
    )
}

#[test]
fn two_instances_on_one_database_serve_the_same_user() {
    let Some(url) = test_database("two instances on one database") else {
        return;
    };
    let fake = FakeGithub::start(3);
    let env = [("TEST_DATABASE_URL", url.as_str()), ("TEST_HOST_KEY", HOST_KEY)];
    let (site_a, site_b) = (Site::new(), Site::new());
    site_a.write_config(&postgres_config(&fake));
    site_b.write_config(&postgres_config(&fake));
    let a = site_a.start_with_env(&env);
    let b = site_b.start_with_env(&env);

    let stored = post_json(
        &a.url("/api/add-git-providers"),
        &json!({"provider_tokens": {"github": {"token": PAT, "host": null}}}),
    );
    assert_eq!(stored.0, 200, "{}", stored.2);
    assert_eq!(
        post_json(
            &a.url("/api/settings"),
            &json!({"language": "nl", "llm_api_key": "sk-shared"})
        )
        .0,
        200
    );
    let on_b = get_json(&b.url("/api/settings")).2;
    assert_eq!(
        (on_b["language"].as_str(), on_b["llm_api_key_set"].as_bool()),
        (Some("nl"), Some(true))
    );
    assert_eq!(
        get_json(&b.url("/api/user/repositories")).0,
        200,
        "A's token, used by B"
    );

    // Restarted, A still has it; nothing was written to its data directory's sled database.
    drop(a);
    let a = site_a.start_with_env(&env);
    assert_eq!(get_json(&a.url("/api/settings")).2["language"], "nl");
    assert!(
        !site_a.data_dir().join("db").exists(),
        "no sled database next to PostgreSQL"
    );
    drop(b);
}

#[test]
fn an_unreachable_database_or_a_missing_shared_key_stops_the_start_in_one_line() {
    let Some(_) = test_database("PostgreSQL startup errors") else {
        return;
    };
    let site = Site::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let password = "do-not-print-this-password";
    let url = format!(
        "postgres://openhost:{password}@127.0.0.1:{}/openhost?connect_timeout=2",
        closed.port()
    );
    site.write_config(
        "store = \"postgres\"\ndatabase_url = \"${TEST_DATABASE_URL}\"\nsecret_key = \"${TEST_HOST_KEY}\"\n",
    );
    let failure = site.expect_startup_failure(&[("TEST_DATABASE_URL", &url), ("TEST_HOST_KEY", HOST_KEY)]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(line.contains("cannot use the PostgreSQL database"), "{line}");
    assert!(!failure.stderr.contains(password), "{}", failure.stderr);

    site.write_config("store = \"postgres\"\ndatabase_url = \"${TEST_DATABASE_URL}\"\n");
    let failure = site.expect_startup_failure(&[("TEST_DATABASE_URL", &url)]);
    assert!(
        failure.error_line().contains("host.secret_key is required"),
        "{}",
        failure.error_line()
    );
}
