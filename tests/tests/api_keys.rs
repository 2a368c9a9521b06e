//! The API keys plugin (plugins/api-keys, docs/operating.md "API keys"): every answer and error code, on an
//! open-source host and behind the enterprise plugin's sign-in.

use std::time::Duration;

use openhost_tests::{Host, Site, assert_error, manual_client, send};
use serde_json::{Value, json};

fn oss_host(config: &str) -> (Site, Host) {
    let site = Site::new();
    site.add_plugin("openhost-api-keys");
    site.write_config(&format!(
        "rate_limit_per_sec = 0\n[plugins.api-keys]\nenabled = true\n{config}"
    ));
    let host = site.start();
    (site, host)
}

/// `POST /api/keys` with `body` (as the signed-in user: a cookie, or nothing on an open-source host).
fn create(host: &Host, cookie: Option<&str>, body: Value) -> openhost_tests::Answer {
    let mut request = manual_client().post(host.url("/api/keys")).json(&body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    send(request)
}

fn with_key(request: reqwest::blocking::RequestBuilder, key: &str) -> openhost_tests::Answer {
    send(request.header("authorization", format!("Bearer {key}")))
}

#[test]
fn keys_are_shown_once_listed_without_the_key_and_stored_as_digests() {
    let (site, host) = oss_host("");
    let (status, _, made) = create(&host, None, json!({"name": "ci"}));
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().expect("the key, once").to_owned();
    assert!(key.starts_with("ohk_") && key.len() == 47, "{key}");
    assert!(key.starts_with(made["prefix"].as_str().unwrap()));
    assert_eq!(made["scope"], "full");
    assert_eq!(made["last_used_at"], Value::Null);
    // The default longest lifetime, 90 days, is the expiry of a key asked for without one.
    let expires_at = made["expires_at"].as_str().expect("an expiry").to_owned();
    assert!(
        chrono_in(90 * 86_400 - 60) <= expires_at && expires_at <= chrono_in(90 * 86_400 + 60),
        "{expires_at}"
    );
    assert!(made["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, _, listed) = send(manual_client().get(host.url("/api/keys")));
    assert_eq!(status, 200);
    let listed = listed.as_array().expect("a plain array").clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], made["id"]);
    assert!(listed[0].get("key").is_none(), "the key is shown once");

    // The key authenticates as its owner (the open-source host's single user).
    let (status, _, body) = with_key(
        manual_client()
            .post(host.url("/api/settings"))
            .json(&json!({"language": "en"})),
        &key,
    );
    assert_eq!(status, 200, "{body}");
    let (_, _, listed) = send(manual_client().get(host.url("/api/keys")));
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    site_holds_no_key(&site, &key);

    let id = made["id"].as_str().unwrap();
    let (status, _, _) = send(manual_client().delete(host.url(&format!("/api/keys/{id}"))));
    assert_eq!(status, 204);
    let revoked = with_key(manual_client().get(host.url("/api/settings")), &key);
    assert_error(&revoked, 401, "invalid_api_key");
    assert_eq!(revoked.1["www-authenticate"], "Bearer error=\"invalid_token\"");
    assert_error(
        &send(manual_client().delete(host.url(&format!("/api/keys/{id}")))),
        404,
        "api_key_not_found",
    );
}

fn site_holds_no_key(site: &Site, key: &str) {
    // sled may keep pages in memory a moment; the host flushes after each key write.
    assert!(
        site.data_files_holding(key.as_bytes()).is_empty(),
        "the key itself is never stored"
    );
}

#[test]
fn scopes_expiry_and_unknown_keys_get_their_codes() {
    let (_site, host) = oss_host("");
    let (_, _, read) = create(&host, None, json!({"name": "dashboard", "scope": "read"}));
    let read = read["key"].as_str().unwrap().to_owned();
    assert_eq!(
        with_key(manual_client().get(host.url("/api/options/models")), &read).0,
        200
    );
    assert_eq!(with_key(manual_client().get(host.url("/api/secrets")), &read).0, 200);
    let refused = with_key(
        manual_client()
            .post(host.url("/api/settings"))
            .json(&json!({"language": "en"})),
        &read,
    );
    assert_error(&refused, 403, "insufficient_scope");

    let soon = chrono_in(2);
    let (status, _, expiring) = create(&host, None, json!({"name": "short", "expires_at": soon}));
    assert_eq!(status, 201, "{expiring}");
    assert_eq!(expiring["expires_at"], soon);
    let expiring = expiring["key"].as_str().unwrap().to_owned();
    assert_eq!(
        with_key(manual_client().get(host.url("/api/secrets")), &expiring).0,
        200
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_error(
        &with_key(manual_client().get(host.url("/api/secrets")), &expiring),
        401,
        "invalid_api_key",
    );

    let unknown = format!("ohk_{}", "A".repeat(43));
    assert_error(
        &with_key(manual_client().get(host.url("/api/secrets")), &unknown),
        401,
        "invalid_api_key",
    );
    // A bearer token that is not an API key is not this plugin's business.
    assert_eq!(
        with_key(manual_client().get(host.url("/api/secrets")), "gho_other").0,
        200
    );

    // A key cannot manage keys.
    let (_, _, full) = create(&host, None, json!({"name": "full"}));
    let full = full["key"].as_str().unwrap().to_owned();
    for request in [
        manual_client().get(host.url("/api/keys")),
        manual_client()
            .post(host.url("/api/keys"))
            .json(&json!({"name": "more"})),
        manual_client().delete(host.url("/api/keys/anything")),
    ] {
        assert_error(&with_key(request, &full), 403, "insufficient_scope");
    }
}

/// RFC 3339 UTC, `seconds` from now.
fn chrono_in(seconds: u64) -> String {
    let at = std::time::SystemTime::now() + Duration::from_secs(seconds);
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let output = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn bad_requests_are_refused_with_a_code() {
    let (_site, host) = oss_host("[plugins.api-keys.config]\nmax_keys_per_user = 2\n");
    for (body, needle) in [
        (json!({}), "`name` is required"),
        (json!({"name": "  "}), "`name` is required"),
        (json!({"name": "x".repeat(101)}), "at most 100"),
        (json!({"name": "a", "scope": "admin"}), "`scope`"),
        (json!({"name": "a", "expires_at": "tomorrow"}), "RFC 3339"),
        (
            json!({"name": "a", "expires_at": "2001-01-01T00:00:00Z"}),
            "in the past",
        ),
        (json!({"name": 7}), "name"),
    ] {
        let answer = create(&host, None, body.clone());
        assert_error(&answer, 400, "invalid_request");
        assert!(
            answer.2["error"].as_str().unwrap().contains(needle),
            "{body}: {}",
            answer.2
        );
    }
    let form = send(
        manual_client()
            .post(host.url("/api/keys"))
            .header("content-type", "text/plain")
            .body("{\"name\": \"x\"}"),
    );
    assert_error(&form, 415, "unsupported_media_type");
    assert_eq!(create(&host, None, json!({"name": "one"})).0, 201);
    assert_eq!(create(&host, None, json!({"name": "two"})).0, 201);
    assert_error(&create(&host, None, json!({"name": "three"})), 409, "too_many_api_keys");
}

#[test]
fn behind_the_enterprise_sign_in_a_key_is_its_owner_and_nothing_else_gets_in() {
    let fake = openhost_tests::fake_github::FakeGithub::start(1);
    let (site, host) = openhost_tests::enterprise_hosts(1, None, &fake, "")
        .pop()
        .expect("a host");
    // Added while the host serves: dropped in and reloaded.
    site.add_plugin("openhost-api-keys");
    let (status, _, stderr) = site.cli(&[
        "plugins",
        "reload",
        "--config",
        &site.config_path().display().to_string(),
    ]);
    assert!(status.success(), "{stderr}");
    let session = openhost_tests::sign_in_with_settings(&host, &fake, 42, "mona");

    assert_error(&create(&host, None, json!({"name": "ci"})), 401, "no_credentials");
    let (status, _, made) = create(&host, Some(&session), json!({"name": "ci"}));
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();

    // No cookie: the key alone is the user, through the enterprise plugin's own git service and settings.
    let (status, _, user) = with_key(manual_client().get(host.url("/api/user/info")), &key);
    assert_eq!((status, user["login"].as_str()), (200, Some("mona")), "{user}");
    let (status, _, settings) = with_key(manual_client().get(host.url("/api/settings")), &key);
    assert_eq!(status, 200, "{settings}");
    let (status, _, _) = send(manual_client().get(host.url("/api/user/info")));
    assert_eq!(status, 401, "no key, no cookie");
    assert_error(
        &with_key(manual_client().get(host.url("/api/user/info")), "ohk_forged"),
        401,
        "invalid_api_key",
    );
    let (_, _, listed) = send(manual_client().get(host.url("/api/keys")).header("cookie", &session));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // A cross-site write passes on a key the plugin accepts, never on the session cookie beside a bearer it
    // does not (docs/security.md, "Cross-site writes").
    let cross_site_post = |authorization: &str, language: &str| {
        send(
            manual_client()
                .post(host.url("/api/settings"))
                .header("origin", "https://evil.example")
                .header("cookie", &session)
                .header("authorization", authorization)
                .json(&json!({"language": language})),
        )
    };
    assert_eq!(cross_site_post(&format!("Bearer {key}"), "fr").0, 200);
    // The cookie is withheld from such a request: the sign-in finds no credentials.
    assert_error(&cross_site_post("Bearer junk", "de"), 401, "no_credentials");
    let (_, _, settings) = with_key(manual_client().get(host.url("/api/settings")), &key);
    assert_eq!(settings["language"], "fr", "{settings}");
}

/// The cap holds against parallel creations: they take turns (a lease per user), so none counts the keys
/// another is about to add.
#[test]
fn parallel_creations_never_pass_the_cap() {
    let (_site, host) = oss_host("[plugins.api-keys.config]\nmax_keys_per_user = 10\n");
    let host = &host;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let creations: Vec<_> = (0..40)
            .map(|i| scope.spawn(move || create(host, None, json!({"name": format!("k{i}")})).0))
            .collect();
        creations.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 201 | 409)), "{statuses:?}");
    let (_, _, listed) = send(manual_client().get(host.url("/api/keys")));
    assert_eq!(listed.as_array().map(Vec::len), Some(10), "{listed}");
}

fn reload(site: &Site) {
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config]);
    assert!(status.success(), "{stdout}{stderr}");
}

/// docs/security.md, "API keys": keys outlive browser sessions, so the operator bounds their lifetime and can
/// revoke every key of a user (offboarding) with a reload.
#[test]
fn operators_bound_key_lifetimes_and_revoke_a_users_keys() {
    let policy = |extra: &str| {
        format!(
            "rate_limit_per_sec = 0\n[plugins.api-keys]\nenabled = true\n[plugins.api-keys.config]\nmax_lifetime_days = 1\n{extra}"
        )
    };
    let (site, host) = oss_host("[plugins.api-keys.config]\nmax_lifetime_days = 1\n");
    let too_long = create(
        &host,
        None,
        json!({"name": "year", "expires_at": chrono_in(2 * 86_400)}),
    );
    assert_error(&too_long, 400, "invalid_request");
    assert!(
        too_long.2["error"].as_str().unwrap().contains("1 days"),
        "{}",
        too_long.2
    );
    let (status, _, made) = create(&host, None, json!({"name": "day"}));
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    let use_key = || with_key(manual_client().get(host.url("/api/settings")), &key);
    let served = use_key();
    assert_ne!(served.0, 401, "the key opens the API: {}", served.2);

    // Offboarding the open-source host's one user, `local`.
    site.write_config(&policy("revoke_keys_of = [\"local\"]\n"));
    reload(&site);
    assert_error(&use_key(), 401, "invalid_api_key");
    assert_error(&create(&host, None, json!({"name": "again"})), 403, "api_keys_revoked");
    // Listed no more: the key presented while revoked was deleted, and stays dead.
    site.write_config(&policy(""));
    reload(&site);
    assert_error(&use_key(), 401, "invalid_api_key");
    let (_, _, listed) = send(manual_client().get(host.url("/api/keys")));
    assert_eq!(listed, json!([]));
}
