//! The open-source host against the fake GitHub: every route of the HTTP API (docs/architecture.md; README.md), the built-in
//! middleware, durability, and that no secret reaches the log.

use std::time::Duration;

use openhost_tests::{
    Answer, Host, Site, assert_error, client,
    fake_github::{FakeGithub, Faults, PAT},
    get_json, next_page, post_json, repository_names, send, store_pat,
};
use serde_json::{Value, json};

const LLM_KEY: &str = "sk-test-llm-key-must-not-leak-0123456789";

/// A host whose git service talks to `fake`; `extra` goes into `[host]` (rate limit off unless it says so).
fn start_host(site: &Site, fake: &FakeGithub, extra: &str) -> Host {
    let rate = if extra.contains("rate_limit_per_sec") {
        ""
    } else {
        "rate_limit_per_sec = 0\n"
    };
    site.write_config(&format!("github_api_url = \"{}\"\n{rate}{extra}", fake.base_url));
    site.start()
}

#[test]
fn settings_are_stored_partially_updated_and_secrets_never_returned() {
    let fake = FakeGithub::start(3);
    let site = Site::new();
    let host = start_host(&site, &fake, "");

    assert_error(&get_json(&host.url("/api/settings")), 404, "settings_not_found");
    let (status, _, body) = post_json(
        &host.url("/api/settings"),
        &json!({"language": "en", "llm_model": "claude", "llm_api_key": LLM_KEY, "confirmation_mode": true}),
    );
    assert_eq!((status, body["message"].as_str()), (200, Some("Settings stored")));
    let (status, _, body) = post_json(
        &host.url("/api/settings"),
        &json!({"language": "de", "llm_model": null}),
    );
    assert_eq!(status, 200, "{body}");

    let (status, headers, settings) = get_json(&host.url("/api/settings"));
    assert_eq!(status, 200);
    assert_eq!(settings["language"], "de");
    assert_eq!(settings["llm_model"], "claude", "null keeps the old value");
    assert_eq!(settings["confirmation_mode"], true);
    assert_eq!(settings["llm_api_key"], Value::Null);
    assert_eq!(settings["llm_api_key_set"], true);
    assert_eq!(settings["provider_tokens_set"], json!({}));
    assert_eq!(headers["cache-control"], "no-store");

    // What GET returned can be posted back.
    assert_eq!(post_json(&host.url("/api/settings"), &settings).0, 200);
    let answer = post_json(&host.url("/api/settings"), &json!({"colour": "red"}));
    assert_error(&answer, 400, "invalid_settings");
    assert!(answer.2["error"].as_str().unwrap().contains("colour"));
    let answer = post_json(
        &host.url("/api/settings"),
        &json!({"confirmation_mode": "yes", "language": "fr"}),
    );
    assert_error(&answer, 400, "invalid_settings");
    assert!(answer.2["error"].as_str().unwrap().contains("confirmation_mode"));
    let answer = send(client().post(host.url("/api/settings")).body("{not json"));
    assert_error(&answer, 400, "invalid_settings");
    assert_eq!(
        get_json(&host.url("/api/settings")).2["language"],
        "de",
        "rejected updates change nothing"
    );
}

#[test]
fn a_pat_is_verified_with_github_before_it_is_stored() {
    let fake = FakeGithub::start(3);
    let site = Site::new();
    let host = start_host(&site, &fake, "");

    assert_error(&get_json(&host.url("/api/user/info")), 401, "git_token_missing");
    let answer = post_json(
        &host.url("/api/add-git-providers"),
        &json!({"provider_tokens": {"github": {"token": "ghp_wrong", "host": null}}}),
    );
    assert_error(&answer, 401, "git_token_invalid");
    assert_eq!(fake.calls("GET /user"), 1);
    assert_error(&get_json(&host.url("/api/settings")), 404, "settings_not_found");
    for bad in [
        json!({}),
        json!({"provider_tokens": {"github": {"token": "x", "host": "evil.example/path"}}}),
        json!({"provider_tokens": {"github": {"token": 7}}}),
    ] {
        assert_error(
            &post_json(&host.url("/api/add-git-providers"), &bad),
            400,
            "invalid_request",
        );
    }
    // A token for a provider no git service here serves is refused by name; empty tokens change nothing.
    assert_error(
        &post_json(
            &host.url("/api/add-git-providers"),
            &json!({"provider_tokens": {"gitlab": {"token": "glpat-x", "host": ""}}}),
        ),
        400,
        "unsupported_git_provider",
    );
    let untouched =
        json!({"provider_tokens": {"github": {"token": "", "host": ""}, "gitlab": {"token": "", "host": ""}}});
    assert_eq!(post_json(&host.url("/api/add-git-providers"), &untouched).0, 200);
    assert_error(&get_json(&host.url("/api/user/info")), 401, "git_token_missing");
    // What the OpenHands frontend (d6fab190bf, git-settings.tsx) sends: every provider, `host: ""` for the default.
    let frontend = json!({"provider_tokens": {
        "github": {"token": PAT, "host": ""},
        "gitlab": {"token": "", "host": ""},
        "bitbucket": {"token": "", "host": ""},
    }});
    assert_eq!(post_json(&host.url("/api/add-git-providers"), &frontend).0, 200);
    assert_eq!(get_json(&host.url("/api/user/info")).0, 200);
    assert_eq!(send(client().post(host.url("/api/unset-provider-tokens"))).0, 200);

    store_pat(&host);
    assert_eq!(
        get_json(&host.url("/api/settings")).2["provider_tokens_set"],
        json!({"github": null})
    );
    let (status, _, user) = get_json(&host.url("/api/user/info"));
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        user,
        json!({"id": "4242", "login": "octocat", "name": "The Octocat", "email": "octocat@example.com",
            "avatar_url": "https://avatars.githubusercontent.com/u/4242?v=4", "company": null})
    );

    let (status, _, body) = send(client().post(host.url("/api/unset-provider-tokens")));
    assert_eq!(status, 200, "{body}");
    assert_error(&get_json(&host.url("/api/user/info")), 401, "git_token_missing");
    assert_eq!(get_json(&host.url("/api/settings")).2["provider_tokens_set"], json!({}));
}

#[test]
fn repositories_paginate_over_more_than_a_hundred() {
    let fake = FakeGithub::start(150);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    store_pat(&host);

    let mut seen = Vec::new();
    let mut page = Some(1);
    while let Some(current) = page {
        let (status, _, body) = get_json(&host.url(&format!(
            "/api/user/repositories?sort=pushed&page={current}&per_page=100"
        )));
        assert_eq!(status, 200, "{body}");
        seen.extend(repository_names(&body));
        page = next_page(&body);
        assert!(seen.len() <= 152, "pagination must end");
    }
    assert_eq!(seen.len(), 152, "150 own + 2 organisation repositories");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 152, "each repository once");
    assert_eq!(fake.calls("GET /user/repos"), 2);

    // The frontend's `GitRepository` (d6fab190bf, frontend/src/types/git.d.ts): a plain array, the next page as
    // GitHub's Link text on the first item.
    let (_, _, first) = get_json(&host.url("/api/user/repositories?sort=pushed&per_page=30"));
    assert_eq!(first.as_array().unwrap().len(), 30);
    assert_eq!(next_page(&first), Some(2));
    let item = &first[0];
    assert_eq!(item["full_name"], "octocat/repo-000", "newest push first");
    assert!(item["id"].is_string(), "ids are strings: {item}");
    assert_eq!(
        (item["git_provider"].as_str(), item["owner_type"].as_str()),
        (Some("github"), Some("user"))
    );
    assert!(
        item["is_public"].is_boolean() && item["main_branch"].is_string(),
        "{item}"
    );
    for key in ["pushed_at", "stargazers_count"] {
        assert!(item.get(key).is_some(), "repository item has {key}: {item}");
    }
    assert!(
        first[1].get("link_header").is_none(),
        "only the first item carries the link"
    );
    assert_error(
        &get_json(&host.url("/api/user/repositories?per_page=500")),
        400,
        "invalid_request",
    );
    assert_error(
        &get_json(&host.url("/api/user/repositories?sort=stars")),
        400,
        "invalid_request",
    );
}

#[test]
fn search_branches_and_installations() {
    let fake = FakeGithub::start(20);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    store_pat(&host);

    let (status, _, body) = get_json(&host.url("/api/user/search/repositories?query=repo-01&per_page=5"));
    assert_eq!(status, 200, "{body}");
    let names = repository_names(&body);
    assert_eq!(names.len(), 5);
    assert!(names.iter().all(|n| n.contains("repo-01")), "{names:?}");
    assert_eq!(next_page(&body), Some(2));
    assert_error(
        &get_json(&host.url("/api/user/search/repositories")),
        400,
        "invalid_request",
    );

    let (status, _, body) = get_json(&host.url("/api/user/repository/branches?repository=octocat/repo-000"));
    assert_eq!(status, 200, "{body}");
    // `PaginatedBranchesResponse` of the frontend.
    assert_eq!(body["branches"].as_array().unwrap().len(), 30);
    assert_eq!(body["branches"][0]["name"], "main");
    assert!(body["branches"][0]["commit_sha"].is_string() && body["branches"][0]["protected"].is_boolean());
    assert_eq!(
        (
            body["has_next_page"].clone(),
            body["current_page"].clone(),
            body["per_page"].clone()
        ),
        (json!(true), json!(1), json!(30))
    );
    let (_, _, last) = get_json(&host.url("/api/user/repository/branches?repository=octocat/repo-000&page=2"));
    assert_eq!(last["branches"].as_array().unwrap().len(), 15);
    assert_eq!(last["has_next_page"], false);
    assert_error(
        &get_json(&host.url("/api/user/repository/branches?repository=octocat/nope")),
        404,
        "not_found",
    );
    assert_error(
        &get_json(&host.url("/api/user/repository/branches?repository=nope")),
        400,
        "invalid_request",
    );

    // Branch search (the frontend's `searchRepositoryBranches`): a plain array, names containing the query.
    let (status, _, found) =
        get_json(&host.url("/api/user/search/branches?repository=octocat/repo-000&query=FEATURE-01&per_page=5"));
    assert_eq!(status, 200, "{found}");
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(!names.is_empty() && names.len() <= 5, "{names:?}");
    assert!(
        names.iter().all(|n| n.to_lowercase().contains("feature-01")),
        "{names:?}"
    );
    let (_, _, late) = get_json(&host.url("/api/user/search/branches?repository=octocat/repo-000&query=feature-44"));
    assert_eq!(
        late.as_array().unwrap().len(),
        1,
        "the last of 45 branches is found too: {late}"
    );

    // GitHub lists installations only for GitHub App user tokens; a PAT is refused, and we say so.
    assert_error(&get_json(&host.url("/api/user/installations")), 403, "git_forbidden");
}

#[test]
fn github_failures_map_to_documented_answers() {
    let fake = FakeGithub::start(3);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    store_pat(&host);

    fake.set_faults(Faults {
        rate_limited: true,
        ..Faults::default()
    });
    let answer = get_json(&host.url("/api/user/info"));
    assert_error(&answer, 429, "git_rate_limited");
    let retry: u64 = answer.1["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3590..=3600).contains(&retry), "until x-ratelimit-reset: {retry}");

    fake.set_faults(Faults {
        secondary_rate_limited: true,
        ..Faults::default()
    });
    let answer = get_json(&host.url("/api/user/repositories"));
    assert_error(&answer, 429, "git_rate_limited");
    assert_eq!(answer.1["retry-after"], "30");

    fake.set_faults(Faults {
        server_errors: 1,
        ..Faults::default()
    });
    assert_error(&get_json(&host.url("/api/user/info")), 502, "git_provider_unavailable");
    assert_eq!(get_json(&host.url("/api/user/info")).0, 200, "the next call succeeds");

    fake.revoke_all(4242);
    assert_error(&get_json(&host.url("/api/user/info")), 401, "git_token_invalid");
    drop(host);

    // GitHub unreachable: a closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    site.write_config(&format!(
        "github_api_url = \"http://{closed}\"\nrate_limit_per_sec = 0\n"
    ));
    let host = site.start();
    let answer = get_json(&host.url("/api/user/info"));
    assert_error(&answer, 502, "git_provider_unavailable");
}

/// docs/security.md, "Outbound calls": a request carrying the token never follows a redirect, a huge answer is
/// refused, and a transport failure says nothing about the network behind the host a user named.
#[test]
fn outbound_calls_never_follow_redirects_and_never_tell_the_network() {
    let fake = FakeGithub::start(3);
    let attacker = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    store_pat(&host);

    fake.set_faults(Faults {
        redirect_to: Some(attacker.base_url.clone()),
        ..Faults::default()
    });
    assert_error(
        &get_json(&host.url("/api/user/repositories")),
        502,
        "git_provider_unavailable",
    );
    assert_eq!(fake.calls("GET /user/repos"), 1, "asked once");
    assert_eq!(
        attacker.all_calls(),
        Default::default(),
        "the redirect was not followed with the token"
    );

    fake.set_faults(Faults {
        oversized_body: Some(9 * 1024 * 1024),
        ..Faults::default()
    });
    let answer = get_json(&host.url("/api/user/info"));
    assert_error(&answer, 502, "git_provider_unavailable");
    assert!(
        answer.2["error"].as_str().unwrap().contains("larger than"),
        "{}",
        answer.2
    );
    fake.set_faults(Faults::default());
    assert_eq!(get_json(&host.url("/api/user/info")).0, 200);

    // A user-named host: a closed port and a port that hangs up look the same from outside.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let hangs_up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hangs_up_addr = hangs_up.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in hangs_up.incoming() {
            drop(stream);
        }
    });
    let try_host = |addr: std::net::SocketAddr| {
        post_json(
            &host.url("/api/add-git-providers"),
            &json!({"provider_tokens": {"github": {"token": PAT, "host": format!("127.0.0.1:{}", addr.port())}}}),
        )
    };
    let (refused, hung_up) = (try_host(closed), try_host(hangs_up_addr));
    assert_error(&refused, 502, "git_provider_unavailable");
    assert_eq!((refused.0, &refused.2), (hung_up.0, &hung_up.2), "one answer for both");
    let text = refused.2.to_string().to_lowercase();
    for detail in [
        "refused",
        "tcp",
        "connect",
        "dns",
        "reset",
        "closed",
        "os error",
        "127.0.0.1",
    ] {
        assert!(!text.contains(detail), "`{detail}` in {text}");
    }
    let (_, logs) = host.stop();
    assert!(
        logs.contains("outbound request failed"),
        "the cause is in the log for the operator"
    );
}

#[test]
fn authenticate_logout_and_unknown_routes() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    let (status, _, body) = send(client().post(host.url("/api/authenticate")));
    assert_eq!((status, body["message"].as_str()), (200, Some("User authenticated")));
    assert_eq!(send(client().post(host.url("/api/logout"))).0, 200);
    assert_error(&get_json(&host.url("/api/nope")), 404, "not_found");
    assert_error(&get_json(&host.url("/api/logout")), 405, "method_not_allowed");
}

#[test]
fn every_response_carries_a_request_id() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    let (_, headers, _) = get_json(&host.url("/healthz"));
    let generated = headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 32);
    let (_, headers, _) = send(
        client()
            .get(host.url("/api/nope"))
            .header("x-request-id", "trace-abc.123"),
    );
    assert_eq!(
        headers["x-request-id"], "trace-abc.123",
        "a well-formed id is kept, even on errors"
    );
    let (_, headers, _) = send(
        client()
            .get(host.url("/healthz"))
            .header("x-request-id", "bad id with spaces"),
    );
    assert_ne!(headers["x-request-id"], "bad id with spaces");

    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let chain: Vec<(&str, i64)> = plugins["slots"]["middleware"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["order"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            ("request-id", 0),
            ("host-names", 10),
            ("cors", 200),
            ("cross-site", 250),
            ("cache-control", 900)
        ],
        "limiter off here"
    );
    assert_eq!(plugins["slots"]["git_service"], "host");
}

#[test]
fn a_burst_from_one_address_is_rate_limited() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "rate_limit_per_sec = 10\n");
    let http = client();
    let answers: Vec<Answer> = (0..60).map(|_| send(http.get(host.url("/healthz")))).collect();
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.0 == 429).collect();
    assert!(!limited.is_empty(), "60 requests at once exceed a burst of 20");
    assert!(answers.iter().take(20).all(|a| a.0 == 200), "the burst of 20 passes");
    let first = limited[0];
    assert_eq!(first.2["code"], "rate_limited");
    let retry: u64 = first.1["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert!(first.1.get("x-request-id").is_some());
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get_json(&host.url("/healthz")).0, 200, "tokens refill");
}

#[test]
fn bodies_over_one_mebibyte_get_413() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    let big = "x".repeat(2 * 1024 * 1024);
    let answer = send(
        client()
            .post(host.url("/api/settings"))
            .header("content-type", "application/json")
            .body(big.clone()),
    );
    assert_error(&answer, 413, "payload_too_large");
    assert!(answer.1.get("x-request-id").is_some());
    // Without a Content-Length (chunked), the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..64).map(|_| Ok(vec![b' '; 32 * 1024])).collect();
    let body = reqwest::blocking::Body::new(ChunkedReader::new(chunks));
    let answer = send(client().post(host.url("/api/settings")).body(body));
    assert_error(&answer, 413, "payload_too_large");
    assert_eq!(post_json(&host.url("/api/settings"), &json!({"language": "en"})).0, 200);
}

/// A reader without a known length, so reqwest sends the body chunked.
struct ChunkedReader {
    chunks: std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>,
    current: std::io::Cursor<Vec<u8>>,
}

impl ChunkedReader {
    fn new(chunks: Vec<Result<Vec<u8>, std::io::Error>>) -> Self {
        ChunkedReader {
            chunks: chunks.into_iter(),
            current: std::io::Cursor::new(Vec::new()),
        }
    }
}

impl std::io::Read for ChunkedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let read = self.current.read(buf)?;
            if read > 0 {
                return Ok(read);
            }
            match self.chunks.next() {
                Some(chunk) => self.current = std::io::Cursor::new(chunk?),
                None => return Ok(0),
            }
        }
    }
}

#[test]
fn cors_allows_local_origins_and_decorates_errors() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    let (status, headers, _) = send(
        client()
            .get(host.url("/api/nope"))
            .header("origin", "http://localhost:3001"),
    );
    assert_eq!(status, 404);
    assert_eq!(
        headers["access-control-allow-origin"], "http://localhost:3001",
        "errors carry CORS headers"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let (status, headers, _) = send(
        client()
            .request(reqwest::Method::OPTIONS, host.url("/api/settings"))
            .header("origin", "http://127.0.0.1:5173")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type"),
    );
    assert_eq!(status, 204);
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    let (_, headers, _) = send(
        client()
            .get(host.url("/healthz"))
            .header("origin", "https://evil.example"),
    );
    assert!(headers.get("access-control-allow-origin").is_none());
    drop(host);

    let host = start_host(&site, &fake, "cors_origins = [\"https://app.example.com\"]\n");
    let (_, headers, _) = send(
        client()
            .get(host.url("/healthz"))
            .header("origin", "https://app.example.com"),
    );
    assert_eq!(headers["access-control-allow-origin"], "https://app.example.com");
    let (_, headers, _) = send(
        client()
            .get(host.url("/healthz"))
            .header("origin", "http://localhost:3001"),
    );
    assert!(
        headers.get("access-control-allow-origin").is_none(),
        "the list replaces the default"
    );
}

#[test]
fn settings_survive_a_restart_and_a_kill_right_after_the_200() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    assert_eq!(post_json(&host.url("/api/settings"), &json!({"language": "pt"})).0, 200);
    let (status, _) = host.stop();
    assert!(status.success());
    let mut host = start_host(&site, &fake, "");
    assert_eq!(get_json(&host.url("/api/settings")).2["language"], "pt");

    for round in 0..3 {
        let value = format!("kill-{round}");
        assert_eq!(
            post_json(&host.url("/api/settings"), &json!({"git_user_name": value})).0,
            200
        );
        let logs = host.kill_hard();
        assert!(!logs.contains("panicked"), "{logs}");
        host = start_host(&site, &fake, "");
        assert_eq!(get_json(&host.url("/api/settings")).2["git_user_name"], value.as_str());
    }
}

#[test]
fn no_token_or_secret_reaches_the_log() {
    let fake = FakeGithub::start(5);
    let site = Site::new();
    site.write_config(&format!(
        "github_api_url = \"{}\"\nrate_limit_per_sec = 0\n",
        fake.base_url
    ));
    let host = site.start_with_env(&[("RUST_LOG", "debug")]);
    store_pat(&host);
    post_json(&host.url("/api/settings"), &json!({"llm_api_key": LLM_KEY}));
    let wrong = "ghp_wrong_token_that_must_not_leak_either";
    post_json(
        &host.url("/api/add-git-providers"),
        &json!({"provider_tokens": {"github": {"token": wrong}}}),
    );
    get_json(&host.url("/api/user/repositories"));
    get_json(&host.url("/api/settings"));
    fake.set_faults(Faults {
        server_errors: 1,
        ..Faults::default()
    });
    get_json(&host.url("/api/user/info"));
    let (_, logs) = host.stop();
    assert!(logs.lines().count() > 5, "debug logging was on:\n{logs}");
    for secret in [PAT, LLM_KEY, wrong] {
        assert!(!logs.contains(secret), "secret in the log:\n{logs}");
    }
    let data = site.dir.path().join("data");
    assert!(data.exists());
}

/// docs/security.md, "Secrets at rest": the PAT, the LLM and search keys and custom secrets are sealed under
/// the host key; the data directory is private; a wrong host key stops the start instead of losing data.
#[test]
fn secrets_are_encrypted_at_rest_in_a_private_data_dir() {
    use std::os::unix::fs::PermissionsExt;

    let fake = FakeGithub::start(3);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    let search_key = "tvly-search-key-must-not-be-on-disk";
    let custom = "custom-secret-value-must-not-be-on-disk";
    store_pat(&host);
    let settings = json!({"llm_api_key": LLM_KEY, "search_api_key": search_key, "language": "sv"});
    assert_eq!(post_json(&host.url("/api/settings"), &settings).0, 200);
    let secret = json!({"name": "DEPLOY_KEY", "value": custom, "description": "deploys"});
    assert_eq!(post_json(&host.url("/api/secrets"), &secret).0, 201);
    let (status, _) = host.stop();
    assert!(status.success());

    for value in [PAT, LLM_KEY, search_key, custom, "DEPLOY_KEY", "deploys"] {
        assert_eq!(
            site.data_files_holding(value.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{value}"
        );
    }
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&site.data_dir()), 0o700);
    let files = openhost_tests::files_under(&site.data_dir());
    assert!(files.iter().any(|f| f.ends_with("host.key")), "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }

    // The same key next time: everything reads back, and the PAT still works.
    let host = start_host(&site, &fake, "");
    let stored = get_json(&host.url("/api/settings")).2;
    assert_eq!(
        (stored["llm_api_key_set"].as_bool(), stored["language"].as_str()),
        (Some(true), Some("sv"))
    );
    assert_eq!(get_json(&host.url("/api/user/repositories")).0, 200);
    assert_eq!(
        get_json(&host.url("/api/secrets")).2["custom_secrets"][0]["name"],
        "DEPLOY_KEY"
    );
    host.stop();

    // Another key (the generated one lost, or the wrong OPENHOST_HOST_KEY): a clear refusal, data untouched.
    site.write_config(&format!(
        "github_api_url = \"{}\"\nsecret_key = \"${{TEST_HOST_KEY}}\"\n",
        fake.base_url
    ));
    let other_key = "b3RoZXIta2V5LWZvci1vcGVuaG9zdC10ZXN0cy0wMTIzNDU2";
    let failure = site.expect_startup_failure(&[("TEST_HOST_KEY", other_key)]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("does not open") && line.contains("another host key"),
        "{line}"
    );
    assert!(!line.contains(other_key));
    let host = start_host(&site, &fake, "");
    assert_eq!(get_json(&host.url("/api/settings")).2["llm_api_key_set"], true);
}

#[test]
fn a_corrupted_database_is_a_clear_startup_error() {
    let fake = FakeGithub::start(1);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    assert_eq!(post_json(&host.url("/api/settings"), &json!({"language": "en"})).0, 200);
    host.stop();
    std::fs::write(site.dir.path().join("data").join("conf"), b"not sled's configuration").unwrap();
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("cannot open the database") && line.contains("corrupted"),
        "{line}"
    );
}

/// The shapes of the OpenHands frontend (commit d6fab190bf): `frontend/src/api/option-service/option-service.api.ts`
/// reads plain string arrays; `openhands/server/routes/manage_conversations.py` answers
/// `ConversationInfoResultSet {results, next_page_id}`.
#[test]
fn option_lists_and_agent_routes_answer_in_the_frontends_shapes() {
    let site = Site::new();
    site.write_config("rate_limit_per_sec = 0\n");
    let host = site.start();
    let (status, _, models) = get_json(&host.url("/api/options/models"));
    assert_eq!(status, 200);
    let models: Vec<&str> = models.as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert!(models.contains(&"anthropic/claude-sonnet-4-5-20250929"), "{models:?}");
    assert!(
        models.iter().all(|m| m.contains('/')),
        "provider/model names: {models:?}"
    );
    let (_, _, agents) = get_json(&host.url("/api/options/agents"));
    assert!(agents.as_array().unwrap().contains(&json!("CodeActAgent")), "{agents}");
    let (_, _, analyzers) = get_json(&host.url("/api/options/security-analyzers"));
    assert_eq!(analyzers, json!(["grayswan", "invariant", "llm"]));

    let (status, _, conversations) = get_json(&host.url("/api/conversations"));
    assert_eq!(
        (status, conversations),
        (200, json!({"results": [], "next_page_id": null}))
    );
    let started = post_json(
        &host.url("/api/conversations"),
        &json!({"repository": "octocat/repo-000"}),
    );
    assert_error(&started, 501, "not_implemented");
    drop(host);

    site.write_config("rate_limit_per_sec = 0\nllm_models = [\"local/my-model\"]\nagents = [\"MyAgent\"]\n");
    let host = site.start();
    assert_eq!(get_json(&host.url("/api/options/models")).2, json!(["local/my-model"]));
    assert_eq!(get_json(&host.url("/api/options/agents")).2, json!(["MyAgent"]));
    drop(host);

    site.write_config("llm_models = [\"\"]\n");
    let failure = site.expect_startup_failure(&[]);
    assert!(
        failure.error_line().contains("host.llm_models"),
        "{}",
        failure.error_line()
    );
}

/// `POST /api/settings` with the whole object the OpenHands frontend (d6fab190bf) sends from
/// `frontend/src/hooks/mutation/use-save-settings.ts`; `GET` returns every field, secrets masked.
#[test]
fn the_frontends_whole_settings_object_round_trips() {
    let site = Site::new();
    site.write_config("rate_limit_per_sec = 0\n");
    let host = site.start();
    let sent = json!({
        "llm_model": "anthropic/claude-sonnet-4-5-20250929",
        "llm_base_url": "",
        "agent": "CodeActAgent",
        "language": "en",
        "confirmation_mode": false,
        "security_analyzer": "llm",
        "llm_api_key": "sk-ant-secret-value",
        "remote_runtime_resource_factor": 1,
        "enable_default_condenser": true,
        "condenser_max_size": 120,
        "enable_sound_notifications": false,
        "user_consents_to_analytics": false,
        "provider_tokens_set": {},
        "mcp_config": {"sse_servers": [], "stdio_servers": [], "shttp_servers": []},
        "enable_proactive_conversation_starters": false,
        "enable_solvability_analysis": false,
        "search_api_key": "tvly-secret-value",
        "max_budget_per_task": null,
        "git_user_name": "openhands",
        "git_user_email": "openhands@all-hands.dev",
    });
    let (status, _, body) = post_json(&host.url("/api/settings"), &sent);
    assert_eq!((status, body), (200, json!({"message": "Settings stored"})));
    let (status, _, got) = get_json(&host.url("/api/settings"));
    assert_eq!(status, 200);
    for (key, value) in sent.as_object().unwrap() {
        match key.as_str() {
            "llm_api_key" | "search_api_key" => assert_eq!(got[key], Value::Null, "{key} is masked"),
            "provider_tokens_set" | "max_budget_per_task" => {}
            _ => assert_eq!(&got[key], value, "{key} round-trips"),
        }
    }
    assert_eq!(
        (got["llm_api_key_set"].clone(), got["search_api_key_set"].clone()),
        (json!(true), json!(true))
    );
    assert!(!got.to_string().contains("secret-value"));

    // The frontend saves again with an untouched search key (""): it stays set.
    let again = json!({"language": "de", "search_api_key": "", "llm_api_key": null});
    assert_eq!(post_json(&host.url("/api/settings"), &again).0, 200);
    let got = get_json(&host.url("/api/settings")).2;
    assert_eq!(
        (got["language"].clone(), got["search_api_key_set"].clone()),
        (json!("de"), json!(true))
    );
    assert_error(
        &post_json(&host.url("/api/settings"), &json!({"condenser_max_size": "big"})),
        400,
        "invalid_settings",
    );
}

/// `/api/secrets` in the shapes of the OpenHands frontend (d6fab190bf, `frontend/src/api/secrets-service.ts`):
/// names and descriptions listed, values never returned, the id in the path is the name.
#[test]
fn custom_secrets_are_listed_without_values() {
    let site = Site::new();
    site.write_config("rate_limit_per_sec = 0\n");
    let host = site.start();
    let url = host.url("/api/secrets");
    assert_eq!(get_json(&url).2, json!({"custom_secrets": []}));
    let created = post_json(
        &url,
        &json!({"name": "TAVILY_KEY", "value": "tvly-very-secret", "description": "search"}),
    );
    assert_eq!(created.0, 201, "{}", created.2);
    assert_error(
        &post_json(&url, &json!({"name": "TAVILY_KEY", "value": "again"})),
        400,
        "secret_exists",
    );
    assert_error(
        &post_json(&url, &json!({"name": "1BAD NAME", "value": "x"})),
        400,
        "invalid_request",
    );
    let (_, _, listed) = get_json(&url);
    assert_eq!(
        listed,
        json!({"custom_secrets": [{"name": "TAVILY_KEY", "description": "search"}]})
    );
    assert!(!listed.to_string().contains("very-secret"));

    let renamed = send(
        client()
            .put(host.url("/api/secrets/TAVILY_KEY"))
            .json(&json!({"name": "SEARCH_KEY"})),
    );
    assert_eq!(renamed.0, 200, "{}", renamed.2);
    assert_eq!(get_json(&url).2["custom_secrets"][0]["name"], "SEARCH_KEY");
    assert_error(
        &send(client().put(host.url("/api/secrets/NOPE")).json(&json!({"name": "X"}))),
        404,
        "not_found",
    );
    assert_eq!(send(client().delete(host.url("/api/secrets/SEARCH_KEY"))).0, 200);
    assert_error(
        &send(client().delete(host.url("/api/secrets/SEARCH_KEY"))),
        404,
        "not_found",
    );
    assert_eq!(get_json(&url).2, json!({"custom_secrets": []}));
    // No settings were made up along the way: the frontend still sees a new user.
    assert_error(&get_json(&host.url("/api/settings")), 404, "settings_not_found");
}

/// Parallel updates of one user's record (here: 48 secrets created at once) all land: they take turns in the
/// process, and the compare-and-swap still guards the record.
#[test]
fn parallel_updates_of_one_record_all_land() {
    let site = Site::new();
    site.write_config("rate_limit_per_sec = 0\n");
    let host = site.start();
    let url = host.url("/api/secrets");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..48)
            .map(|n| {
                let url = &url;
                scope.spawn(move || post_json(url, &json!({"name": format!("S{n}"), "value": "v"})).0)
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let listed = get_json(&url).2;
    assert_eq!(listed["custom_secrets"].as_array().unwrap().len(), 48, "{listed}");
}

/// `GET /api/user/suggested-tasks` in the frontend's `SuggestedTask` shape (d6fab190bf, `frontend/src/utils/
/// types.ts`): the user's assigned open issues, and their open pull requests with conflicts or failing checks.
#[test]
fn suggested_tasks_come_from_the_users_open_issues_and_pull_requests() {
    let fake = FakeGithub::start(3);
    let site = Site::new();
    let host = start_host(&site, &fake, "");
    assert_error(
        &get_json(&host.url("/api/user/suggested-tasks")),
        401,
        "git_token_missing",
    );
    store_pat(&host);
    let (status, _, tasks) = get_json(&host.url("/api/user/suggested-tasks"));
    assert_eq!(status, 200, "{tasks}");
    assert_eq!(
        tasks,
        json!([
            {"git_provider": "github", "task_type": "OPEN_ISSUE", "repo": "octocat/repo-000", "issue_number": 1,
             "title": "Fix the flaky login test"},
            {"git_provider": "github", "task_type": "MERGE_CONFLICTS", "repo": "octocat/repo-000", "issue_number": 2,
             "title": "Add a dark theme"},
            {"git_provider": "github", "task_type": "FAILING_CHECKS", "repo": "octocat/repo-000", "issue_number": 3,
             "title": "Bump dependencies"},
        ]),
        "closed issues and clean pull requests are not suggested"
    );
    assert_eq!(fake.calls("GET /search/issues"), 2);
}
