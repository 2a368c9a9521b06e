//! Token refresh (crate::tokens) on the plugin test kit's host services, GitHub answered by the test: a stale
//! token is refreshed once and the new pair stored, a token GitHub rejected is refreshed even before its expiry,
//! a fresh one costs no call, and a refused refresh token ends the user's tokens.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use openhost_enterprise::{
    clock::now,
    config::EnterpriseConfig,
    keys::Keyring,
    provider::Provider,
    tokens::{AccessError, Tokens, store::StoredTokens, store::TokenStore},
};
use openhost_plugin_api::{HttpRequest, Response};
use openhost_plugin_test::{TestHost, block_on};
use serde_json::json;

const USER: &str = "github:1";

#[test]
fn a_stale_token_is_refreshed_once_and_the_new_pair_kept() {
    let fixture = Fixture::new(|_| grant("gho_new", "ghr_new"));
    fixture.store(stored("gho_old", Some(now() - 1), "ghr_old"));

    let token = block_on(fixture.tokens.access_token(USER, None)).unwrap();
    assert_eq!(token, "gho_new");
    let requests = fixture.kit.http_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.as_str(), "https://github.test/login/oauth/access_token");
    let form: Vec<(String, String)> = form_urlencoded::parse(&requests[0].body).into_owned().collect();
    assert!(
        form.contains(&("grant_type".into(), "refresh_token".into())),
        "{form:?}"
    );
    assert!(form.contains(&("refresh_token".into(), "ghr_old".into())), "{form:?}");

    let kept = block_on(fixture.tokens.load(USER)).unwrap().unwrap();
    assert_eq!(
        (kept.access_token.as_str(), kept.refresh_token.as_deref()),
        ("gho_new", Some("ghr_new"))
    );
    // Fresh now: handed out without asking GitHub.
    assert_eq!(block_on(fixture.tokens.access_token(USER, None)).unwrap(), "gho_new");
    assert_eq!(fixture.kit.http_requests().len(), 1);
    assert_eq!(fixture.refreshes("ok"), 1.0);
}

#[test]
fn a_token_github_rejected_is_refreshed_before_its_expiry() {
    let fixture = Fixture::new(|_| grant("gho_new", "ghr_new"));
    fixture.store(stored("gho_old", Some(now() + 3600), "ghr_old"));
    assert_eq!(block_on(fixture.tokens.access_token(USER, None)).unwrap(), "gho_old");
    assert!(fixture.kit.http_requests().is_empty());
    assert_eq!(
        block_on(fixture.tokens.access_token(USER, Some("gho_old"))).unwrap(),
        "gho_new"
    );
    // A second request holding the rejected token gets the refreshed one, not a second refresh.
    assert_eq!(
        block_on(fixture.tokens.access_token(USER, Some("gho_old"))).unwrap(),
        "gho_new"
    );
    assert_eq!(fixture.kit.http_requests().len(), 1);
}

#[test]
fn a_refused_refresh_token_ends_the_tokens_and_an_unreachable_github_keeps_them() {
    // GitHub refuses with HTTP 200 and an `error` field.
    let fixture = Fixture::new(|_| Response::json(200, &json!({"error": "bad_refresh_token"})));
    fixture.store(stored("gho_old", Some(now() - 1), "ghr_old"));
    assert!(matches!(
        block_on(fixture.tokens.access_token(USER, None)),
        Err(AccessError::Ended)
    ));
    assert_eq!(fixture.refreshes("refused"), 1.0);

    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let fixture = Fixture::new(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        // With a JSON `error` field, as an OAuth refusal has: the status says it is not one.
        Response::error(503, "temporarily_unavailable", "GitHub is down")
    });
    fixture.store(stored("gho_old", Some(now() - 1), "ghr_old"));
    match block_on(fixture.tokens.access_token(USER, None)) {
        Err(AccessError::Failed(error)) => {
            let response = error.http_response().expect("an HTTP answer");
            assert_eq!(response.status, 502, "{error}");
        }
        other => panic!("a failure that keeps the tokens, not {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(
        block_on(fixture.tokens.load(USER)).unwrap().is_some(),
        "kept for the next try"
    );
    assert_eq!(fixture.refreshes("failed"), 1.0);
}

#[test]
fn a_refresh_token_past_its_expiry_is_not_sent() {
    let fixture = Fixture::new(|_| grant("gho_new", "ghr_new"));
    let mut old = stored("gho_old", Some(now() - 1), "ghr_old");
    old.refresh_expires_at = Some(now() - 1);
    fixture.store(old);
    assert!(matches!(
        block_on(fixture.tokens.access_token(USER, None)),
        Err(AccessError::Ended)
    ));
    assert!(fixture.kit.http_requests().is_empty());
}

/// A token response as GitHub sends it for a GitHub App with expiring user tokens.
fn grant(access: &str, refresh: &str) -> Response {
    Response::json(
        200,
        &json!({
            "access_token": access, "token_type": "bearer", "scope": "",
            "expires_in": 28800, "refresh_token": refresh, "refresh_token_expires_in": 15_811_200,
        }),
    )
}

fn stored(access: &str, expires_at: Option<u64>, refresh: &str) -> StoredTokens {
    StoredTokens {
        access_token: access.to_owned(),
        access_expires_at: expires_at,
        refresh_token: Some(refresh.to_owned()),
        refresh_expires_at: None,
    }
}

/// Fixture: the GitHub App's tokens over fresh in-memory host services; GitHub answered by `github`.
struct Fixture {
    kit: TestHost,
    tokens: Tokens,
}

impl Fixture {
    fn new(github: impl Fn(&HttpRequest) -> Response + Send + Sync + 'static) -> Fixture {
        let kit = TestHost::new();
        kit.answer_http(github);
        let host = kit.host();
        let config = EnterpriseConfig::from_json(&json!({
            "github_client_id": "Iv1.test", "github_client_secret": "secret",
            "public_url": "https://app.test", "secret_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
            "github_web_url": "https://github.test", "github_api_url": "https://api.github.test",
        }))
        .unwrap();
        let provider = Arc::new(Provider::new(&config).unwrap());
        let store = TokenStore::new(host, Arc::new(Keyring::new(&config.secret_key, &[])));
        let tokens = Tokens::new(host, store, provider, None, config.refresh_margin_secs);
        Fixture { kit, tokens }
    }

    fn store(&self, tokens: StoredTokens) {
        block_on(self.tokens.replace(USER, &tokens)).unwrap();
    }

    /// `token_refreshes_total{outcome}` as recorded.
    fn refreshes(&self, outcome: &str) -> f64 {
        let label = ("outcome".to_owned(), outcome.to_owned());
        self.kit
            .metrics()
            .iter()
            .filter(|sample| sample.name == "token_refreshes_total" && sample.labels.contains(&label))
            .map(|sample| sample.value)
            .sum()
    }
}
