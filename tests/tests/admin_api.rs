//! The admin API on `admin_listen` (docs/operating.md, "Admin API"), against the real host binary: a missing or
//! wrong token is refused, a write from a foreign Origin is refused and changes nothing, the plugins are shown
//! with their settings as written (placeholders, never resolved secrets) and an ETag, a reload is recorded in
//! the audit trail with the token's name, an upgrade hands the admin listener on (a change reaching the old process
//! meanwhile waits for it and is refused, never saved where the new process does not read), and the public
//! listener never serves `/admin`.

use openhost_tests::{Answer, Host, Site, assert_error, client, free_port, get_json, send};
use serde_json::json;

const OPS_TOKEN: &str = "ops-token-0123456789abcdef";
const CI_TOKEN: &str = "ci-token-fedcba9876543210";
const STAMP_VALUE: &str = "edge-secret-value-42";

fn sha256_hex(text: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

/// A site with header-stamp, whose value comes from `${STAMP_VALUE}`, and an admin listener on `port`.
fn admin_site(port: u16) -> Site {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config(&format!(
        "admin_listen = \"127.0.0.1:{port}\"\nrate_limit_per_sec = 0\n\
         [[host.admin_tokens]]\nname = \"ops\"\ntoken = \"${{OPENHOST_ADMIN_TOKEN}}\"\n\
         [[host.admin_tokens]]\nname = \"ci\"\nsha256 = \"{}\"\n\
         [plugins.header-stamp.config]\nvalue = \"${{STAMP_VALUE}}\"\n",
        sha256_hex(CI_TOKEN)
    ));
    site
}

fn admin_get(url: &str, token: &str) -> Answer {
    send(client().get(url).bearer_auth(token))
}

#[test]
fn the_admin_api_asks_for_a_token_refuses_foreign_writes_and_records_reloads() {
    let port = free_port();
    let site = admin_site(port);
    let host = site.start_with_env(&[("OPENHOST_ADMIN_TOKEN", OPS_TOKEN), ("STAMP_VALUE", STAMP_VALUE)]);
    let admin = |path: &str| format!("http://127.0.0.1:{port}{path}");

    assert_error(&get_json(&admin("/admin/api/plugins")), 401, "admin_token_missing");
    assert_error(
        &admin_get(&admin("/admin/api/plugins"), "not-a-token-of-this-server"),
        401,
        "admin_token_invalid",
    );
    // The console's files hold no data: served without a token, under a policy that runs only its own script.
    let console = client().get(admin("/admin/")).send().expect("console");
    assert_eq!(console.status(), 200);
    let policy = console.headers()["content-security-policy"]
        .to_str()
        .expect("policy")
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(console.text().expect("page").contains("/admin/console.js"));
    assert_eq!(client().get(host.url("/admin/")).send().expect("public").status(), 404);
    // The public listener has no admin routes, whatever the token.
    assert_error(&admin_get(&host.url("/admin/api/plugins"), OPS_TOKEN), 404, "not_found");

    let (status, headers, plugins) = admin_get(&admin("/admin/api/plugins"), OPS_TOKEN);
    assert_eq!(status, 200, "{plugins}");
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let stamp = plugins["plugins"]
        .as_array()
        .and_then(|plugins| plugins.iter().find(|p| p["name"] == "header-stamp"))
        .cloned()
        .expect("header-stamp is listed");
    assert_eq!(
        (&stamp["kind"], &stamp["loaded"], &stamp["generation"]),
        (&json!("native"), &json!(true), &json!(1))
    );
    // Settings as written: the placeholder, not the value the plugin got.
    assert_eq!(stamp["settings"]["config"]["value"], "${STAMP_VALUE}");
    assert!(!plugins.to_string().contains(STAMP_VALUE), "{plugins}");
    let (_, stamped, _) = get_json(&host.url("/healthz"));
    assert_eq!(stamped["x-openhost-stamp"], STAMP_VALUE);
    // Live figures: every request went through the middleware (no rate limit stops one before it), whose one
    // hook is called once a request.
    for _ in 0..20 {
        get_json(&host.url("/healthz"));
    }
    let (_, _, plugins) = admin_get(&admin("/admin/api/plugins"), OPS_TOKEN);
    let calls = plugins["plugins"]
        .as_array()
        .and_then(|plugins| plugins.iter().find(|p| p["name"] == "header-stamp"))
        .map(|stamp| stamp["calls"].clone())
        .unwrap_or_default();
    assert!(calls["calls"].as_u64().is_some_and(|n| n >= 21), "{calls}");
    assert_eq!(
        (&calls["errors"], &calls["timeouts"], &calls["window_minutes"]),
        (&json!(0), &json!(0), &json!(5))
    );
    assert!(calls["p99_ms"].as_f64().is_some_and(|p99| p99 > 0.0), "{calls}");

    // A write from another site changes nothing; so does an unknown Host name.
    let foreign = send(
        client()
            .post(admin("/admin/api/reload"))
            .bearer_auth(OPS_TOKEN)
            .header("origin", "https://evil.example"),
    );
    assert_error(&foreign, 403, "cross_site_request");
    let rebound = send(
        client()
            .post(admin("/admin/api/reload"))
            .bearer_auth(OPS_TOKEN)
            .header("host", "evil.example"),
    );
    assert_error(&rebound, 421, "unknown_host");
    assert_error(
        &send(client().get(admin("/admin/api/reload")).bearer_auth(OPS_TOKEN)),
        405,
        "method_not_allowed",
    );
    let (status, _, audit) = admin_get(&admin("/admin/api/audit"), OPS_TOKEN);
    assert_eq!((status, audit), (200, json!([])));

    // A reload by the token known by its digest, from the admin pages' own origin.
    let (status, headers, reloaded) = send(
        client()
            .post(admin("/admin/api/reload"))
            .bearer_auth(CI_TOKEN)
            .header("origin", format!("http://127.0.0.1:{port}")),
    );
    assert_eq!((status, &reloaded["generation"]), (200, &json!(2)), "{reloaded}");
    assert_eq!(
        headers["etag"].to_str().expect("etag"),
        etag,
        "the settings did not change"
    );
    let (_, served, _) = get_json(&host.url("/healthz"));
    assert_eq!(served["openhost-generation"], "2");

    let (status, _, audit) = admin_get(&admin("/admin/api/audit?limit=10"), OPS_TOKEN);
    assert_eq!(status, 200, "{audit}");
    let entries = audit.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{audit}");
    let entry = &entries[0];
    assert_eq!(
        (
            &entry["who"],
            &entry["change"],
            &entry["plugin"],
            &entry["before"],
            &entry["after"]
        ),
        (
            &json!("ci"),
            &json!("reload"),
            &json!(null),
            &json!({"generation": 1}),
            &json!({"generation": 2})
        )
    );
    assert!(
        entry["at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z') && at.len() == 24),
        "{entry}"
    );
    assert_error(
        &admin_get(&admin("/admin/api/audit?limit=0"), OPS_TOKEN),
        400,
        "bad_request",
    );

    // An upgrade hands the admin listener on: the new process answers on it, with the same trail.
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["upgrade", "--config", &config]);
    assert!(status.success(), "{stdout}{stderr}");
    let (status, _, plugins) = admin_get(&admin("/admin/api/plugins"), OPS_TOKEN);
    assert_eq!((status, &plugins["generation"]), (200, &json!(3)), "{plugins}");
    let (_, _, audit) = admin_get(&admin("/admin/api/audit"), OPS_TOKEN);
    assert_eq!(audit.as_array().map(Vec::len), Some(1), "{audit}");

    let logs = host.logs();
    for secret in [OPS_TOKEN, CI_TOKEN, STAMP_VALUE] {
        assert!(!logs.contains(secret), "a secret is in the log:\n{logs}");
    }
}

#[test]
fn admin_settings_that_cannot_work_stop_the_start_in_one_line() {
    let port = free_port();
    let refusal = |host_keys: &str, env: &[(&str, &str)]| {
        let site = Site::new();
        site.write_config(host_keys);
        site.expect_startup_failure(env).error_line()
    };
    let no_tokens = refusal(&format!("admin_listen = \"127.0.0.1:{port}\"\n"), &[]);
    assert!(
        no_tokens.contains("host.admin_listen needs at least one [[host.admin_tokens]]"),
        "{no_tokens}"
    );
    let in_the_file = refusal(
        &format!(
            "admin_listen = \"127.0.0.1:{port}\"\n[[host.admin_tokens]]\nname = \"ops\"\ntoken = \"{OPS_TOKEN}\"\n"
        ),
        &[],
    );
    assert!(in_the_file.contains("must be a ${VAR} placeholder"), "{in_the_file}");
    assert!(!in_the_file.contains(OPS_TOKEN), "{in_the_file}");
    let unset = refusal(
        &format!(
            "admin_listen = \"127.0.0.1:{port}\"\n[[host.admin_tokens]]\nname = \"ops\"\ntoken = \"${{NO_SUCH_ADMIN_TOKEN}}\"\n"
        ),
        &[],
    );
    assert!(unset.contains("NO_SUCH_ADMIN_TOKEN"), "{unset}");
    let weak = refusal(
        &format!("admin_listen = \"127.0.0.1:{port}\"\n[[host.admin_tokens]]\nname = \"ops\"\ntoken = \"${{WEAK}}\"\n"),
        &[("WEAK", "tiny-value")],
    );
    assert!(
        weak.contains("shorter than 16") && !weak.contains("tiny-value"),
        "{weak}"
    );
}

fn patch(url: &str, token: &str, if_match: Option<&str>, body: &serde_json::Value) -> Answer {
    let mut request = client().patch(url).bearer_auth(token).json(body);
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    send(request)
}

fn etag_of(answer: &Answer) -> String {
    answer.1["etag"].to_str().expect("an ETag").to_owned()
}

#[test]
fn a_plugin_change_is_built_first_then_saved_with_the_files_comments_and_recorded() {
    let port = free_port();
    let site = admin_site(port);
    let config_path = site.config_path();
    let commented = std::fs::read_to_string(&config_path).expect("config").replace(
        "[plugins.header-stamp.config]\n",
        "# stamps every answer\n[plugins.header-stamp.config]\n",
    );
    std::fs::write(&config_path, &commented).expect("config");
    let host = site.start_with_env(&[("OPENHOST_ADMIN_TOKEN", OPS_TOKEN), ("STAMP_VALUE", STAMP_VALUE)]);
    let admin = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let stamp = admin("/admin/api/plugins/header-stamp");
    let etag = etag_of(&admin_get(&admin("/admin/api/plugins"), OPS_TOKEN));
    let unchanged = |why: &str| {
        assert_eq!(
            std::fs::read_to_string(&config_path).expect("config"),
            commented,
            "{why}"
        );
        let (_, headers, _) = get_json(&host.url("/healthz"));
        assert_eq!(
            (&headers["openhost-generation"], &headers["x-openhost-stamp"]),
            (&"1".parse().unwrap(), &STAMP_VALUE.parse().unwrap()),
            "{why}"
        );
    };

    let new_header = json!({"config": {"header": "x-served-by", "value": "${STAMP_VALUE}"}});
    assert_error(&patch(&stamp, OPS_TOKEN, None, &new_header), 428, "if_match_required");
    assert_error(
        &patch(&stamp, OPS_TOKEN, Some("\"stale\""), &new_header),
        412,
        "settings_changed",
    );
    assert_error(
        &patch(&admin("/admin/api/plugins/nobody"), OPS_TOKEN, Some(&etag), &new_header),
        404,
        "plugin_not_found",
    );
    assert_error(
        &patch(&stamp, OPS_TOKEN, Some(&etag), &json!({"enabled": "yes"})),
        400,
        "bad_request",
    );
    let foreign = send(
        client()
            .patch(&stamp)
            .bearer_auth(OPS_TOKEN)
            .header("if-match", &etag)
            .header("origin", "https://evil.example")
            .json(&new_header),
    );
    assert_error(&foreign, 403, "cross_site_request");
    // The plugin's own check refuses the config: 400 with its words, nothing saved or swapped.
    let refused = patch(
        &stamp,
        OPS_TOKEN,
        Some(&etag),
        &json!({"config": {"header": "not a header"}}),
    );
    assert_error(&refused, 400, "plugin_refused");
    assert!(
        refused.2["error"].as_str().is_some_and(|e| e.contains("header-stamp")),
        "{}",
        refused.2
    );
    // A config that does not fit the plugin's declared schema is refused before the library is mapped, naming
    // the key and never the value.
    let misfit = patch(
        &stamp,
        OPS_TOKEN,
        Some(&etag),
        &json!({"config": {"order": "very-high", "colour": 1}}),
    );
    assert_error(&misfit, 400, "plugin_refused");
    let why = misfit.2["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("`/order`") && why.contains("colour") && !why.contains("very-high"),
        "{why}"
    );
    unchanged("refused changes leave everything as it was");

    let changed = patch(&stamp, OPS_TOKEN, Some(&etag), &new_header);
    assert_eq!((changed.0, &changed.2["generation"]), (200, &json!(2)), "{}", changed.2);
    let etag_2 = etag_of(&changed);
    assert_ne!(etag_2, etag);
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(headers["x-served-by"], STAMP_VALUE);
    let saved = std::fs::read_to_string(&config_path).expect("config");
    assert!(
        saved.contains("# stamps every answer\n[plugins.header-stamp.config]\n"),
        "{saved}"
    );
    assert!(
        saved.contains("header = \"x-served-by\"") && saved.contains("value = \"${STAMP_VALUE}\""),
        "{saved}"
    );
    assert!(saved.starts_with("[host]\n"), "{saved}");

    // Two changes made from the same read: the first wins, the second is told to read again.
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| patch(&stamp, OPS_TOKEN, Some(&etag_2), &json!({"enabled": false})));
        let second = scope.spawn(|| patch(&stamp, OPS_TOKEN, Some(&etag_2), &json!({"config": {"value": "other"}})));
        (first.join().expect("first"), second.join().expect("second"))
    });
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} {}", first.2, second.2);

    let (_, _, audit) = admin_get(&admin("/admin/api/audit"), OPS_TOKEN);
    let entries = audit.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2, "{audit}");
    let config_entry = &entries[1];
    assert_eq!(
        (&config_entry["who"], &config_entry["plugin"], &config_entry["change"]),
        (&json!("ops"), &json!("header-stamp"), &json!("config"))
    );
    assert_eq!(config_entry["before"], json!({"value": "${STAMP_VALUE}"}));
    assert_eq!(
        config_entry["after"],
        json!({"header": "x-served-by", "value": "${STAMP_VALUE}"})
    );
    assert!(!audit.to_string().contains(STAMP_VALUE), "{audit}");
}

/// Sends one request on `connection` (kept open) and reads its answer: the status and the body, or `None` when
/// the connection closed before an answer.
fn exchange(connection: &mut std::net::TcpStream, request: &str) -> Option<(u16, serde_json::Value)> {
    use std::io::{Read, Write};
    connection.write_all(request.as_bytes()).ok()?;
    let mut read = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&read).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let length: usize = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if read.len() >= end + 4 + length {
                let status = head.split(' ').nth(1)?.parse().ok()?;
                let body = serde_json::from_slice(&read[end + 4..end + 4 + length]).unwrap_or_default();
                return Some((status, body));
            }
        }
        match connection.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => read.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn a_plugin_change_reaching_the_old_process_during_an_upgrade_waits_for_it_and_is_never_lost() {
    let port = free_port();
    let site = admin_site(port);
    let host = site.start_with_env(&[("OPENHOST_ADMIN_TOKEN", OPS_TOKEN), ("STAMP_VALUE", STAMP_VALUE)]);
    let config_path = site.config_path();
    let before = std::fs::read_to_string(&config_path).expect("config");
    // A connection the old process accepted (its answer proves it) and keeps open across the upgrade.
    let mut old = std::net::TcpStream::connect(("127.0.0.1", port)).expect("admin connection");
    old.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    let auth = format!("Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {OPS_TOKEN}\r\n");
    let (status, plugins) =
        exchange(&mut old, &format!("GET /admin/api/plugins HTTP/1.1\r\n{auth}\r\n")).expect("an answer");
    assert_eq!((status, &plugins["generation"]), (200, &json!(1)), "{plugins}");

    let config = config_path.display().to_string();
    std::thread::scope(|scope| {
        let upgrade = scope.spawn(|| site.cli(&["upgrade", "--config", &config]));
        host.wait_for_log("upgrade: started the new process", std::time::Duration::from_secs(30));
        // The new process has started and may have read plugins.toml already: a change the old one saved now
        // would never be served. It waits for the upgrade, then is refused.
        let body = r#"{"config": {"header": "x-served-by", "value": "late"}}"#;
        let change = format!(
            "PATCH /admin/api/plugins/header-stamp HTTP/1.1\r\n{auth}If-Match: *\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let answer = exchange(&mut old, &change);
        let (status, stdout, stderr) = upgrade.join().expect("upgrade");
        assert!(status.success(), "{stdout}{stderr}");
        // The old process refuses it, or (exiting before it could answer) closes the connection: never 200.
        if let Some((status, body)) = &answer {
            assert_eq!((status, &body["code"]), (&503, &json!("handed_over")), "{body}");
        }
    });
    assert_eq!(
        std::fs::read_to_string(&config_path).expect("config"),
        before,
        "nothing saved by the old process"
    );
    // The new process serves the settings as they were, and makes the change when asked again.
    let admin = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let listed = admin_get(&admin("/admin/api/plugins"), OPS_TOKEN);
    assert_eq!((listed.0, &listed.2["generation"]), (200, &json!(2)), "{}", listed.2);
    let again = patch(
        &admin("/admin/api/plugins/header-stamp"),
        OPS_TOKEN,
        Some(&etag_of(&listed)),
        &json!({"config": {"header": "x-served-by", "value": "late"}}),
    );
    assert_eq!((again.0, &again.2["generation"]), (200, &json!(3)), "{}", again.2);
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(headers["x-served-by"], "late");
}

/// A host on the PostgreSQL database `url` with header-stamp and an admin listener on `port`.
fn postgres_admin_site(url: &str, port: u16) -> (Site, Host) {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config(&format!(
        "{}admin_listen = \"127.0.0.1:{port}\"\n\
         [[host.admin_tokens]]\nname = \"ops\"\ntoken = \"${{OPENHOST_ADMIN_TOKEN}}\"\n\
         [plugins.header-stamp.config]\nvalue = \"${{STAMP_VALUE}}\"\n",
        openhost_tests::postgres_config("http://127.0.0.1:9")
    ));
    let [database, key] = openhost_tests::postgres_env(url);
    let host = site.start_with_env(&[
        database,
        key,
        ("OPENHOST_ADMIN_TOKEN", OPS_TOKEN),
        ("STAMP_VALUE", STAMP_VALUE),
    ]);
    (site, host)
}

/// Waits until `host` stamps its answers with `header`; how long that took.
fn until_stamped(host: &Host, header: &str) -> std::time::Duration {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        let (_, headers, _) = get_json(&host.url("/healthz"));
        if headers.contains_key(header) {
            return started.elapsed();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{header} never came:\n{}", host.logs());
}

#[test]
fn on_postgresql_a_change_on_one_instance_is_served_by_all_and_one_of_two_conflicting_changes_wins() {
    let Some(url) = openhost_tests::test_database("the admin API on three instances") else {
        return;
    };
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let (_site_a, a) = postgres_admin_site(&url, ports[0]);
    let (site_b, b) = postgres_admin_site(&url, ports[1]);
    let (_site_c, c) = postgres_admin_site(&url, ports[2]);
    let admin = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");
    let etag = etag_of(&admin_get(&admin(ports[0], "/admin/api/plugins"), OPS_TOKEN));
    assert_eq!(
        etag,
        etag_of(&admin_get(&admin(ports[1], "/admin/api/plugins"), OPS_TOKEN))
    );

    let served_by = json!({"config": {"header": "x-served-by", "value": "${STAMP_VALUE}"}});
    let changed = patch(
        &admin(ports[0], "/admin/api/plugins/header-stamp"),
        OPS_TOKEN,
        Some(&etag),
        &served_by,
    );
    assert_eq!(changed.0, 200, "{}", changed.2);
    // Every instance serves it within a second of the answer (docs/operating.md, "Admin API": the stored change
    // is heard from the database; looking twice a second is the fallback).
    let (on_b, on_c) = std::thread::scope(|scope| {
        let on_b = scope.spawn(|| until_stamped(&b, "x-served-by"));
        let on_c = scope.spawn(|| until_stamped(&c, "x-served-by"));
        (on_b.join().expect("b"), on_c.join().expect("c"))
    });
    eprintln!(
        "the change reached the other instances {} and {} ms after it was answered",
        on_b.as_millis(),
        on_c.as_millis()
    );
    assert!(on_b.max(on_c) < std::time::Duration::from_secs(1), "{on_b:?} {on_c:?}");
    // The file is the base: stored changes go over it, it is not rewritten.
    assert!(
        !std::fs::read_to_string(site_b.config_path())
            .expect("config")
            .contains("x-served-by")
    );

    // Two changes from the same read, on two instances at once: one wins, the other is told to read again.
    let etag_2 = etag_of(&changed);
    let (first, second) = std::thread::scope(|scope| {
        let on_a = scope.spawn(|| {
            let url = admin(ports[0], "/admin/api/plugins/header-stamp");
            patch(
                &url,
                OPS_TOKEN,
                Some(&etag_2),
                &json!({"config": {"header": "x-from-a"}}),
            )
        });
        let on_b = scope.spawn(|| {
            let url = admin(ports[1], "/admin/api/plugins/header-stamp");
            patch(
                &url,
                OPS_TOKEN,
                Some(&etag_2),
                &json!({"config": {"header": "x-from-b"}}),
            )
        });
        (on_a.join().expect("a"), on_b.join().expect("b"))
    });
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} {}", first.2, second.2);
    let winner = if first.0 == 200 { "x-from-a" } else { "x-from-b" };
    for host in [&a, &b, &c] {
        until_stamped(host, winner);
    }

    // An instance started later comes up with the change, and shares the trail.
    let (_site_d, d) = postgres_admin_site(&url, ports[3]);
    let (_, headers, _) = get_json(&d.url("/healthz"));
    assert!(headers.contains_key(winner), "{headers:?}");
    let (_, _, audit) = admin_get(&admin(ports[3], "/admin/api/audit"), OPS_TOKEN);
    assert_eq!(audit.as_array().map(Vec::len), Some(2), "{audit}");
}
