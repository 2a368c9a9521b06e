//! The example plugins of `examples/`, each doing what its README says, loaded from their real `.so` files; the
//! plugin template built outside the workspace; a decorator stacked over the enterprise plugin's git service.

use openhost_tests::{
    Site, assert_error, build_workspace, client,
    fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub, PAT},
    free_port, get_json, manual_client, next_page,
    out_of_tree::{built_library, cargo_build, copy_dir},
    post_json, repository_names, send, try_sign_in, workspace_root,
};
use serde_json::{Value, json};

fn names(answer: &Value) -> Vec<String> {
    repository_names(answer)
}

#[test]
fn feature_flags_adds_and_flips_flags_and_keeps_the_rest() {
    let site = Site::new();
    site.add_plugin("openhost-example-feature-flags");
    site.write_config("[plugins.feature-flags.config]\nflags = { ENABLE_BILLING = true, NEW_EDITOR = \"beta\" }\n");
    let host = site.start();
    let (status, _, config) = get_json(&host.url("/api/options/config"));
    assert_eq!(status, 200);
    assert_eq!(config["APP_MODE"], "oss", "the inner config is kept");
    assert_eq!(config["FEATURE_FLAGS"]["ENABLE_BILLING"], true, "flipped");
    assert_eq!(config["FEATURE_FLAGS"]["NEW_EDITOR"], "beta", "added");
    assert_eq!(config["FEATURE_FLAGS"]["HIDE_LLM_SETTINGS"], false, "untouched");
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["slots"]["server_config"], "host");
    assert_eq!(
        plugins["slots"]["decorators"]["server_config"],
        json!(["feature-flags"])
    );
}

#[test]
fn repo_allowlist_hides_other_owners() {
    let fake = FakeGithub::start(12);
    let site = Site::new();
    site.add_plugin("openhost-example-repo-allowlist");
    site.write_config(&format!(
        "github_api_url = \"{}\"\nrate_limit_per_sec = 0\n[plugins.repo-allowlist.config]\nowners = [\"ACME\"]\n",
        fake.base_url
    ));
    let host = site.start();
    let stored = post_json(
        &host.url("/api/add-git-providers"),
        &json!({"provider_tokens": {"github": {"token": PAT}}}),
    );
    assert_eq!(stored.0, 200);
    let (status, _, repos) = get_json(&host.url("/api/user/repositories?per_page=100"));
    assert_eq!(status, 200, "{repos}");
    assert_eq!(names(&repos), ["acme/platform", "acme/website"]);
    let (_, _, found) = get_json(&host.url("/api/user/search/repositories?query=repo"));
    assert!(
        names(&found).is_empty(),
        "octocat's repositories are hidden from search too"
    );
    assert_error(
        &get_json(&host.url("/api/user/repository/branches?repository=octocat/repo-000")),
        404,
        "not_found",
    );
    assert_eq!(
        get_json(&host.url("/api/user/repository/branches?repository=acme/website")).0,
        200
    );
    assert_eq!(
        get_json(&host.url("/api/user/info")).2["login"],
        "octocat",
        "user info passes through"
    );
}

#[test]
fn proxy_auth_trusts_the_header_only_from_its_proxies() {
    let site = Site::new();
    site.add_plugin("openhost-example-proxy-auth");
    site.write_config("[plugins.proxy-auth.config]\ntrusted_proxies = [\"127.0.0.1/32\"]\n");
    let host = site.start();
    let as_user = |user: &str| {
        client()
            .post(host.url("/api/settings"))
            .header("x-forwarded-user", user)
    };
    assert_eq!(send(as_user("alice").json(&json!({"language": "en"}))).0, 200);
    assert_eq!(send(as_user("bob").json(&json!({"language": "fr"}))).0, 200);
    let read = |user: &str| send(client().get(host.url("/api/settings")).header("x-forwarded-user", user));
    assert_eq!(
        read("alice").2["language"],
        "en",
        "each proxied user has their own settings"
    );
    assert_eq!(read("bob").2["language"], "fr");
    assert_error(&get_json(&host.url("/api/settings")), 401, "not_authenticated");
    assert_error(&read("not a user name"), 401, "not_authenticated");
    drop(host);

    site.write_config("[plugins.proxy-auth.config]\ntrusted_proxies = [\"10.0.0.0/8\"]\n");
    let host = site.start();
    let spoofed = send(
        client()
            .get(host.url("/api/settings"))
            .header("x-forwarded-user", "alice"),
    );
    assert_error(&spoofed, 401, "not_authenticated");
    assert_eq!(
        get_json(&host.url("/api/plugins")).2["slots"]["user_auth"],
        "proxy-auth"
    );
    drop(host);

    site.write_config("[plugins.proxy-auth.config]\ntrusted_proxies = [\"not-a-cidr\"]\n");
    let line = site.expect_startup_failure(&[]).error_line();
    assert!(line.contains("not-a-cidr") && line.contains("proxy-auth"), "{line}");
}

#[test]
fn audit_log_records_requests_and_keeps_the_newest() {
    let site = Site::new();
    site.add_plugin("openhost-example-audit-log");
    site.write_config("rate_limit_per_sec = 0\n[plugins.audit-log.config]\nmax_entries = 10\n");
    let host = site.start();
    get_json(&host.url("/healthz"));
    get_json(&host.url("/api/nope"));
    post_json(&host.url("/api/settings"), &json!({"language": "en"}));
    let (status, _, audit) = get_json(&host.url("/api/audit?limit=3"));
    assert_eq!(status, 200, "{audit}");
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        (items[0]["method"].as_str(), items[0]["path"].as_str()),
        (Some("POST"), Some("/api/settings"))
    );
    assert_eq!(items[0]["status"], 200);
    assert_eq!(items[0]["user_id"], "local", "the identity the chain established");
    assert_eq!(
        (items[1]["path"].as_str(), items[1]["status"].as_u64()),
        (Some("/api/nope"), Some(404))
    );
    assert!(items[2]["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));

    for _ in 0..25 {
        get_json(&host.url("/healthz"));
    }
    let (_, _, audit) = get_json(&host.url("/api/audit?limit=100"));
    assert_eq!(audit["items"].as_array().unwrap().len(), 10, "bounded: oldest dropped");
    assert_error(&get_json(&host.url("/api/audit?limit=0")), 400, "invalid_request");
    let (_, stopped) = host.stop();
    let host = site.start();
    let (_, _, audit) = get_json(&host.url("/api/audit?limit=100"));
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        10,
        "survives a restart:\n{stopped}"
    );
}

#[test]
fn a_decorator_stacks_over_the_enterprise_git_service() {
    let fake = FakeGithub::start(5);
    let site = Site::new();
    site.add_plugin("openhost-enterprise");
    site.add_plugin("openhost-example-repo-allowlist");
    site.add_plugin("openhost-example-feature-flags");
    let port = free_port();
    let fake_url = &fake.base_url;
    site.write_config_on(
        port,
        &format!(
            r#"rate_limit_per_sec = 0
[plugins.repo-allowlist.config]
owners = ["acme"]
[plugins.feature-flags.config]
flags = {{ NEW_EDITOR = true }}
[plugins.enterprise.config]
github_client_id = "{CLIENT_ID}"
github_client_secret = "{CLIENT_SECRET}"
public_url = "http://127.0.0.1:{port}"
secret_key = "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE"
github_web_url = "{fake_url}"
github_api_url = "{fake_url}"
"#
        ),
    );
    let host = site.start();
    let http = manual_client();
    let session = try_sign_in(&host).expect("sign in");
    let get = |path: &str| send(http.get(host.url(path)).header("cookie", session.clone()));

    // Enterprise pages walk the installations; the allowlist filters each page, so follow the next page.
    let mut seen = Vec::new();
    let mut page = Some(1);
    while let Some(current) = page {
        let (status, _, repos) = get(&format!("/api/user/repositories?per_page=100&page={current}"));
        assert_eq!(status, 200, "{repos}");
        seen.extend(names(&repos));
        page = next_page(&repos);
    }
    assert_eq!(
        seen,
        ["acme/platform", "acme/website"],
        "enterprise lists, the allowlist filters"
    );
    let (_, _, plugins) = get("/api/plugins");
    assert_eq!(plugins["slots"]["git_service"], "enterprise");
    assert_eq!(plugins["slots"]["decorators"]["git_service"], json!(["repo-allowlist"]));
    let (_, _, config) = get("/api/options/config");
    assert_eq!(
        (
            config["APP_MODE"].as_str(),
            config["FEATURE_FLAGS"]["NEW_EDITOR"].as_bool()
        ),
        (Some("saas"), Some(true))
    );
}

#[test]
fn the_template_builds_outside_the_workspace_and_loads() {
    build_workspace();
    let root = workspace_root();
    let outside = tempfile::tempdir().unwrap();
    let crate_dir = outside.path().join("my-plugin");
    copy_dir(&root.join("examples/plugin-template"), &crate_dir);
    let manifest = crate_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let api_path = root.join("plugin-api");
    let text = text
        .replace(
            "path = \"../../plugin-api\"",
            &format!("path = {:?}", api_path.to_str().unwrap()),
        )
        .replace(
            "path = \"../../tests\"",
            &format!("path = {:?}", root.join("tests").to_str().unwrap()),
        )
        .replace(
            "path = \"../../plugin-test\"",
            &format!("path = {:?}", root.join("plugin-test").to_str().unwrap()),
        );
    std::fs::write(&manifest, text).unwrap();
    // The workspace's lock file pins the same versions, so the build reuses what is already compiled.
    std::fs::copy(root.join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    cargo_build(&crate_dir, &["--offline"]);
    assert!(built_library("openhost-plugin-template").exists());

    // The template's own end-to-end test, run as its author would, against this workspace's host.
    let output = openhost_tests::cargo_command()
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", openhost_tests::out_of_tree::target_dir())
        .env(openhost_tests::HOST_BINARY_VARIABLE, openhost_tests::host_binary())
        .args(["test", "--offline"])
        .output()
        .expect("run cargo test");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{printed}");
    assert!(
        printed.contains("hello_answers_with_the_configured_greeting_and_stamps_every_response ... ok"),
        "{printed}"
    );
    // And its in-process test, with the plugin test kit.
    assert!(
        printed.contains("hello_greets_whoever_asks_and_every_answer_carries_the_greeting ... ok"),
        "{printed}"
    );
}
