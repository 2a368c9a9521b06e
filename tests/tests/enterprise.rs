//! The enterprise plugin, loaded from its real `.so` by the real host, against the fake GitHub: the OAuth flow,
//! sessions, token refresh and rotation, and the way back to the open-source host.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use openhost_tests::{
    Answer, Host, Site, assert_error,
    fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub, Faults},
    files_under, free_port, manual_client, next_page, repository_names, send,
};
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

/// 32 bytes, base64 (URL-safe, unpadded) — the same key in two spellings below proves both are accepted.
const SECRET_KEY: &str = "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE";
const NEXT_KEY: &str = "bmV4dC1rZXktZm9yLW9wZW5ob3N0LXRlc3RzLTAxMjM0NTY3";

struct Saas {
    site: Site,
    fake: FakeGithub,
    port: u16,
    /// More `[host]` keys.
    host_keys: String,
}

impl Saas {
    fn new(repos: usize) -> Saas {
        let site = Site::new();
        site.add_plugin("openhost-enterprise");
        Saas {
            site,
            fake: FakeGithub::start(repos),
            port: free_port(),
            host_keys: String::new(),
        }
    }

    fn with_host_keys(mut self, keys: &str) -> Saas {
        self.host_keys = keys.to_owned();
        self
    }

    /// Writes the config (plugin on, `extra` appended to its config table) and starts the host.
    fn start(&self, extra: &str) -> Host {
        self.start_with(true, extra, &[])
    }

    fn start_with(&self, enabled: bool, extra: &str, env: &[(&str, &str)]) -> Host {
        let public_url = format!("http://127.0.0.1:{}", self.port);
        self.start_at(&public_url, enabled, extra, env)
    }

    /// [`Saas::start_with`] with another `public_url` (the host itself still listens on loopback http, as
    /// behind a TLS-terminating proxy).
    fn start_at(&self, public_url: &str, enabled: bool, extra: &str, env: &[(&str, &str)]) -> Host {
        let (fake, host_keys) = (&self.fake.base_url, &self.host_keys);
        self.site.write_config_on(
            self.port,
            &format!(
                r#"github_api_url = "{fake}"
rate_limit_per_sec = 0
{host_keys}
[plugins.enterprise]
enabled = {enabled}
[plugins.enterprise.config]
github_client_id = "{CLIENT_ID}"
github_client_secret = "${{TEST_GITHUB_CLIENT_SECRET}}"
public_url = "{public_url}"
secret_key = "${{TEST_SECRET_KEY}}"
github_web_url = "{fake}"
github_api_url = "{fake}"
app_slug = "openhost-test"
{extra}
"#
            ),
        );
        let mut all_env = vec![
            ("TEST_GITHUB_CLIENT_SECRET", CLIENT_SECRET),
            ("TEST_SECRET_KEY", SECRET_KEY),
        ];
        all_env.extend_from_slice(env);
        self.site.start_with_env(&all_env)
    }
}

/// `Set-Cookie` headers of an answer, by cookie name: (value, attributes).
fn set_cookies(answer: &Answer) -> BTreeMap<String, (String, String)> {
    answer
        .1
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|cookie| {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=')?;
            Some((name.to_owned(), (value.to_owned(), attributes.trim().to_owned())))
        })
        .collect()
}

fn location(answer: &Answer) -> String {
    answer.1["location"].to_str().unwrap().to_owned()
}

/// The steps of one sign-in, kept for replay tests.
struct Login {
    state_cookie: String,
    callback_url: String,
    answer: Answer,
}

impl Login {
    fn session(&self) -> String {
        let cookies = set_cookies(&self.answer);
        cookies
            .get("openhost_session")
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| panic!("no session cookie: {:?}", self.answer))
    }
}

/// Starts a sign-in and lets the fake GitHub approve it: (state cookie, callback URL).
fn authorize(host: &Host, redirect: &str) -> (String, String) {
    authorize_from(host, &format!("/oauth/github/login?redirect={redirect}"))
}

/// [`authorize`] from any sign-in URL of the plugin.
fn authorize_from(host: &Host, start_path: &str) -> (String, String) {
    let http = manual_client();
    let start = send(http.get(host.url(start_path)));
    assert_eq!(start.0, 302, "{:?}", start.2);
    let state = set_cookies(&start)
        .get("openhost_oauth_state")
        .expect("state cookie")
        .0
        .clone();
    let authorize_url = location(&start);
    assert!(authorize_url.contains("code_challenge=") && authorize_url.contains("code_challenge_method=S256"));
    let approved = send(http.get(&authorize_url));
    assert_eq!(approved.0, 302);
    (state, location(&approved))
}

fn callback(state_cookie: &str, callback_url: &str) -> Answer {
    send(
        manual_client()
            .get(callback_url)
            .header("cookie", format!("openhost_oauth_state={state_cookie}")),
    )
}

fn login(host: &Host, redirect: &str) -> Login {
    let (state_cookie, callback_url) = authorize(host, redirect);
    let answer = callback(&state_cookie, &callback_url);
    assert_eq!(answer.0, 302, "{:?}", answer.2);
    Login {
        state_cookie,
        callback_url,
        answer,
    }
}

fn with_session(request: RequestBuilder, session: &str) -> RequestBuilder {
    request.header("cookie", format!("openhost_session={session}"))
}

fn get(host: &Host, path: &str, session: &str) -> Answer {
    send(with_session(manual_client().get(host.url(path)), session))
}

#[test]
fn a_user_signs_in_uses_the_api_and_signs_out() {
    let saas = Saas::new(25);
    let host = saas.start("");
    let signed_in = login(&host, "/app/settings");
    assert_eq!(location(&signed_in.answer), "/app/settings");
    let cookies = set_cookies(&signed_in.answer);
    let (_, attributes) = &cookies["openhost_session"];
    for flag in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=604800"] {
        assert!(attributes.contains(flag), "{flag} in {attributes}");
    }
    assert!(!attributes.contains("Secure"), "plain http on 127.0.0.1: {attributes}");
    assert!(
        cookies["openhost_oauth_state"].1.contains("Max-Age=0"),
        "state cookie cleared"
    );
    let session = signed_in.session();
    assert_eq!(saas.fake.calls("POST /login/oauth/access_token (code)"), 1);

    let (status, _, user) = get(&host, "/api/user/info", &session);
    assert_eq!(
        (status, user["login"].as_str(), user["id"].as_str()),
        (200, Some("octocat"), Some("4242"))
    );

    let fresh = get(&host, "/api/settings", &session);
    assert_eq!(
        (fresh.0, &fresh.2["provider_tokens_set"]),
        (200, &json!({"github": null}))
    );
    let stored =
        send(with_session(manual_client().post(host.url("/api/settings")), &session).json(&json!({"language": "fi"})));
    assert_eq!(stored.0, 200);
    assert_eq!(get(&host, "/api/settings", &session).2["language"], "fi");
    assert_error(
        &send(manual_client().get(host.url("/api/settings"))),
        401,
        "no_credentials",
    );
    let managed =
        send(with_session(manual_client().post(host.url("/api/add-git-providers")), &session).json(&json!({})));
    assert_error(&managed, 400, "provider_tokens_managed");
    assert_eq!(
        send(with_session(
            manual_client().post(host.url("/api/authenticate")),
            &session
        ))
        .0,
        200
    );

    let (status, _, config) = send(manual_client().get(host.url("/api/options/config")));
    assert_eq!(status, 200, "options/config needs no session");
    assert_eq!(config["APP_MODE"], "saas");
    assert_eq!(config["GITHUB_CLIENT_ID"], CLIENT_ID);
    assert_eq!(config["APP_SLUG"], "openhost-test");
    assert_eq!(config["PROVIDERS_CONFIGURED"], json!(["github"]));
    let (_, _, plugins) = get(&host, "/api/plugins", &session);
    for slot in ["server_config", "user_auth", "git_service"] {
        assert_eq!(plugins["slots"][slot], "enterprise", "{slot}");
    }
    assert_error(
        &send(manual_client().get(host.url("/api/plugins"))),
        401,
        "no_credentials",
    );
    // The gate matches no paths: what the host marks public is open, everything else needs a session.
    assert_eq!(send(manual_client().get(host.url("/healthz"))).0, 200);
    assert_error(
        &send(manual_client().get(host.url("/no/such/route"))),
        401,
        "no_credentials",
    );
    assert_error(&get(&host, "/no/such/route", &session), 404, "not_found");

    // Repositories come from the installations, one after another; following the next page yields each once.
    let mut names = Vec::new();
    let mut page = Some(1);
    while let Some(current) = page {
        let (status, _, body) = get(
            &host,
            &format!("/api/user/repositories?per_page=10&page={current}"),
            &session,
        );
        assert_eq!(status, 200, "{body}");
        names.extend(repository_names(&body));
        page = next_page(&body);
        assert!(names.len() <= 27);
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (names.len(), unique.len()),
        (27, 27),
        "25 own + 2 acme repositories: {names:?}"
    );
    let (status, _, installations) = get(&host, "/api/user/installations", &session);
    assert_eq!(status, 200);
    assert_eq!(installations, json!(["1", "2"]), "installation ids, as strings");
    // What the frontend does in SaaS mode: the repositories of one installation at a time.
    let (status, _, acme) = get(&host, "/api/user/repositories?installation_id=2", &session);
    assert_eq!(status, 200, "{acme}");
    assert_eq!(repository_names(&acme), ["acme/platform", "acme/website"]);

    let copied = session.clone();
    let out = send(with_session(manual_client().post(host.url("/api/logout")), &session));
    assert_eq!(out.0, 200);
    assert!(
        set_cookies(&out)["openhost_session"].1.contains("Max-Age=0"),
        "cookie cleared"
    );
    let reused = get(&host, "/api/settings", &copied);
    assert_error(&reused, 401, "invalid_session");
    assert!(
        set_cookies(&reused)["openhost_session"].1.contains("Max-Age=0"),
        "a bad cookie is cleared"
    );
}

#[test]
fn state_is_checked_single_use_and_codes_cannot_be_replayed() {
    let saas = Saas::new(1);
    let host = saas.start("");
    let first = login(&host, "/");
    // The same callback again: its state was used.
    assert_error(
        &callback(&first.state_cookie, &first.callback_url),
        400,
        "oauth_state_invalid",
    );
    // A fresh sign-in whose callback carries the first, already redeemed code.
    let (state_cookie, fresh_url) = authorize(&host, "/");
    let fresh_state = fresh_url.split("state=").nth(1).unwrap().to_owned();
    let used_code = first
        .callback_url
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let replay = format!(
        "{}?code={used_code}&state={fresh_state}",
        host.url("/oauth/github/callback")
    );
    assert_error(&callback(&state_cookie, &replay), 401, "oauth_code_rejected");

    let (state_cookie, url) = authorize(&host, "/");
    let wrong = url.replace("state=", "state=x");
    assert_error(&callback(&state_cookie, &wrong), 400, "oauth_state_invalid");
    assert_error(&send(manual_client().get(&url)), 400, "oauth_state_invalid");
    let tampered_cookie = format!("{}A", state_cookie);
    assert_error(&callback(&tampered_cookie, &url), 400, "oauth_state_invalid");

    saas.fake.set_faults(Faults {
        deny_authorization: true,
        ..Faults::default()
    });
    let (state_cookie, url) = authorize(&host, "/");
    assert!(url.contains("error=access_denied"));
    assert_error(&callback(&state_cookie, &url), 401, "oauth_denied");
}

#[test]
fn the_fake_checks_the_pkce_verifier() {
    let fake = FakeGithub::start(1);
    let http = manual_client();
    let verifier = "a-verifier-that-is-long-enough-to-be-valid-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    let authorize = |challenge: &str| {
        let answer = send(http.get(format!(
            "{}/login/oauth/authorize?client_id={CLIENT_ID}&redirect_uri=http://127.0.0.1:1/cb&state=s&code_challenge={challenge}&code_challenge_method=S256",
            fake.base_url
        )));
        location(&answer)
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned()
    };
    let exchange = |code: &str, verifier: &str| {
        send(
            http.post(format!("{}/login/oauth/access_token", fake.base_url))
                .header("accept", "application/json")
                .form(&[
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                    ("code", code),
                    ("code_verifier", verifier),
                ]),
        )
    };
    let wrong = exchange(&authorize(&challenge), "not-the-verifier");
    assert_eq!(
        (wrong.0, wrong.2["error"].as_str()),
        (200, Some("bad_verification_code")),
        "errors come as HTTP 200"
    );
    let right = exchange(&authorize(&challenge), verifier);
    assert!(
        right.2["access_token"].as_str().is_some_and(|t| t.starts_with("ghu_")),
        "{}",
        right.2
    );
}

/// The URL the OpenHands frontend's "Login with GitHub" button opens in SaaS mode, built as its
/// `frontend/src/utils/generate-auth-url.ts` (d6fab190bf) builds it from `AUTH_URL` and the page it is on.
fn frontend_sign_in_path(public_url: &str, page: &str, identity_provider: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", "allhands")
        .append_pair("kc_idp_hint", identity_provider)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &format!("{public_url}/oauth/keycloak/callback"))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &format!("{page}?login_method={identity_provider}"));
    format!("/realms/allhands/protocol/openid-connect/auth?{}", query.finish())
}

#[test]
fn the_frontends_saas_sign_in_url_signs_in_and_returns_to_its_page() {
    let saas = Saas::new(3);
    let host = saas.start("");
    let public_url = format!("http://127.0.0.1:{}", saas.port);
    let config = send(manual_client().get(host.url("/api/options/config"))).2;
    assert_eq!(config["APP_MODE"], "saas");
    assert_eq!(
        config["AUTH_URL"],
        public_url.as_str(),
        "the frontend signs in at AUTH_URL"
    );
    let authenticate = |cookie: Option<&str>| {
        let request = manual_client().post(host.url("/api/authenticate"));
        send(match cookie {
            Some(session) => with_session(request, session),
            None => request,
        })
    };
    assert_error(&authenticate(None), 401, "no_credentials");

    let page = format!("{public_url}/settings/integrations");
    let (state_cookie, callback_url) = authorize_from(&host, &frontend_sign_in_path(&public_url, &page, "github"));
    let signed_in = callback(&state_cookie, &callback_url);
    assert_eq!(signed_in.0, 302, "{:?}", signed_in.2);
    assert_eq!(
        location(&signed_in),
        "/settings/integrations?login_method=github",
        "back on the page, with the login method the frontend remembers"
    );
    let session = set_cookies(&signed_in)["openhost_session"].0.clone();
    assert_eq!(authenticate(Some(&session)).0, 200);
    // Signed in through GitHub is connected to GitHub, and set up: no first-run 404 (frontend/src/hooks/query/
    // use-settings.ts greets a 404 in SaaS mode as a new user with free credits).
    let settings = get(&host, "/api/settings", &session);
    assert_eq!(settings.0, 200, "{:?}", settings.2);
    assert_eq!(settings.2["provider_tokens_set"], json!({"github": null}));
    assert_eq!(settings.2["llm_api_key_set"], false);

    // A page of another site is never returned to; another identity provider is refused.
    let (state_cookie, callback_url) = authorize_from(
        &host,
        &frontend_sign_in_path(&public_url, "https://evil.example/", "github"),
    );
    assert_eq!(location(&callback(&state_cookie, &callback_url)), "/");
    let gitlab = send(manual_client().get(host.url(&frontend_sign_in_path(&public_url, &page, "gitlab"))));
    assert_error(&gitlab, 400, "unsupported_identity_provider");

    let out = send(with_session(manual_client().post(host.url("/api/logout")), &session));
    assert_eq!(out.0, 200, "{:?}", out.2);
    assert_error(&authenticate(Some(&session)), 401, "invalid_session");
}

/// docs/security.md, "Outbound calls": the token request carries the client secret, so a redirect from the token
/// endpoint is not followed.
#[test]
fn the_token_request_never_follows_a_redirect() {
    let saas = Saas::new(1);
    let attacker = FakeGithub::start(1);
    let host = saas.start("");
    let (state_cookie, callback_url) = authorize(&host, "/");
    saas.fake.set_faults(Faults {
        redirect_to: Some(attacker.base_url.clone()),
        ..Faults::default()
    });
    let answer = callback(&state_cookie, &callback_url);
    assert_error(&answer, 502, "git_provider_unavailable");
    assert_eq!(
        attacker.all_calls(),
        Default::default(),
        "the client secret stayed home"
    );
}

#[test]
fn post_login_redirects_stay_on_this_server() {
    let saas = Saas::new(1);
    let host = saas.start("");
    for (asked, landed) in [
        ("/app?tab=1", "/app?tab=1"),
        ("//evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("https://evil.example", "/"),
    ] {
        assert_eq!(location(&login(&host, asked).answer), landed, "{asked}");
    }
}

#[test]
fn tampered_forged_and_expired_cookies_are_rejected() {
    let saas = Saas::new(1);
    let host = saas.start("session_ttl_secs = 2");
    let session = login(&host, "/").session();
    assert_eq!(get(&host, "/api/user/info", &session).0, 200);

    let (payload, tag) = session.split_once('.').unwrap();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["uid"] = json!("github:1");
    let other_user = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    assert_error(&get(&host, "/api/settings", &other_user), 401, "invalid_session");
    let forged = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 32])
    );
    assert_error(&get(&host, "/api/settings", &forged), 401, "invalid_session");
    assert_error(&get(&host, "/api/settings", "garbage"), 401, "invalid_session");

    std::thread::sleep(Duration::from_millis(2100));
    let expired = get(&host, "/api/settings", &session);
    assert_error(&expired, 401, "session_expired");
    assert!(set_cookies(&expired)["openhost_session"].1.contains("Max-Age=0"));
}

#[test]
fn a_cookie_past_half_its_life_is_reissued() {
    let saas = Saas::new(1);
    let host = saas.start("session_ttl_secs = 4");
    let session = login(&host, "/").session();
    assert!(
        set_cookies(&get(&host, "/api/settings", &session)).is_empty(),
        "young cookies are not re-issued"
    );
    std::thread::sleep(Duration::from_millis(2500));
    let answer = get(&host, "/api/settings", &session);
    let renewed = set_cookies(&answer)["openhost_session"].0.clone();
    assert_ne!(renewed, session);
    std::thread::sleep(Duration::from_millis(2200));
    assert_error(&get(&host, "/api/settings", &session), 401, "session_expired");
    assert_eq!(get(&host, "/api/settings", &renewed).0, 200);
}

/// docs/security.md, "Sessions": over https the cookies carry the `__Host-`/`__Secure-` prefixes, and a request
/// with two session cookies (one planted by a sibling subdomain) is refused.
#[test]
fn https_cookies_are_prefixed_and_two_session_cookies_are_refused() {
    let saas = Saas::new(1);
    let host = saas.start_at("https://openhost.example", true, "", &[]);
    let http = manual_client();
    let start = send(http.get(host.url("/oauth/github/login?redirect=/")));
    let state_cookies = set_cookies(&start);
    let (state, attributes) = &state_cookies["__Secure-openhost_oauth_state"];
    assert!(
        attributes.contains("Secure") && attributes.contains("HttpOnly"),
        "{attributes}"
    );
    let approved = send(http.get(location(&start)));
    // GitHub sends the browser to https://openhost.example/...: the proxy in front of this host.
    let callback = location(&approved);
    let path = callback.strip_prefix("https://openhost.example").unwrap();
    let signed_in = send(
        http.get(host.url(path))
            .header("cookie", format!("__Secure-openhost_oauth_state={state}")),
    );
    assert_eq!(signed_in.0, 302, "{:?}", signed_in.2);
    let cookies = set_cookies(&signed_in);
    let (session, attributes) = &cookies["__Host-openhost_session"];
    for flag in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(flag), "{flag} in {attributes}");
    }
    assert!(!attributes.contains("Domain"), "{attributes}");
    let with = |cookie: String| send(manual_client().get(host.url("/api/user/info")).header("cookie", cookie));
    assert_eq!(with(format!("__Host-openhost_session={session}")).0, 200);
    let planted = with(format!(
        "__Host-openhost_session={session}; __Host-openhost_session=planted"
    ));
    assert_error(&planted, 401, "invalid_session");
    let unprefixed = with(format!("openhost_session={session}"));
    assert_error(&unprefixed, 401, "no_credentials");
}

/// A session ends `session_max_age_secs` after sign-in however often it is re-issued; each re-issue changes the
/// session id, the old cookie keeps working only while the new one lives (requests already in flight), and
/// signing out with either ends both.
#[test]
fn sessions_rotate_on_reissue_and_end_at_their_absolute_lifetime() {
    let saas = Saas::new(1);
    let host = saas.start("session_ttl_secs = 4\nsession_max_age_secs = 7");
    let first = login(&host, "/").session();
    std::thread::sleep(Duration::from_millis(2500));
    let answer = get(&host, "/api/user/info", &first);
    assert_eq!(answer.0, 200);
    let (second, attributes) = set_cookies(&answer)["openhost_session"].clone();
    assert_ne!(second, first);
    let payload = |cookie: &str| -> Value {
        let encoded = cookie.split('.').next().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
    };
    assert_ne!(payload(&second)["sid"], payload(&first)["sid"], "a new session id");
    assert!(attributes.contains("Max-Age=4"), "{attributes}");
    assert_eq!(
        get(&host, "/api/user/info", &first).0,
        200,
        "the old cookie, in its grace"
    );

    // Past the absolute lifetime, even a freshly re-issued cookie is refused.
    std::thread::sleep(Duration::from_millis(2500));
    let answer = get(&host, "/api/user/info", &second);
    let third = set_cookies(&answer)
        .get("openhost_session")
        .map(|(value, attributes)| {
            let max_age: u64 = attributes
                .split("Max-Age=")
                .nth(1)
                .and_then(|rest| rest.split(';').next())
                .and_then(|n| n.parse().ok())
                .unwrap();
            assert!(
                max_age <= 2,
                "capped at the absolute end, not the sliding 4 s: {attributes}"
            );
            value.clone()
        })
        .unwrap_or_else(|| second.clone());
    std::thread::sleep(Duration::from_millis(2600));
    assert_error(&get(&host, "/api/user/info", &third), 401, "session_expired");

    // Signing out with the new cookie ends the old one too.
    let old = login(&host, "/").session();
    std::thread::sleep(Duration::from_millis(2500));
    let new = set_cookies(&get(&host, "/api/user/info", &old))["openhost_session"]
        .0
        .clone();
    assert_eq!(
        send(with_session(manual_client().post(host.url("/api/logout")), &new)).0,
        200
    );
    assert_error(&get(&host, "/api/user/info", &old), 401, "invalid_session");
    assert_error(&get(&host, "/api/user/info", &new), 401, "invalid_session");
}

/// A browser's parallel requests with a cookie past half its life: one rotates the session, the others ride on
/// that rotation; none is refused (a refusal would clear the cookie and sign the user out).
#[test]
fn parallel_requests_with_an_aging_cookie_all_succeed() {
    let saas = Saas::new(1);
    // 4 s: past half its life after 2.1 s, and (counted in whole seconds) still before its end.
    let host = saas.start("session_ttl_secs = 4");
    let session = login(&host, "/").session();
    std::thread::sleep(Duration::from_millis(2100));
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let requests: Vec<_> = (0..12)
            .map(|_| scope.spawn(|| get(&host, "/api/user/info", &session)))
            .collect();
        requests.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for answer in &answers {
        assert_eq!(answer.0, 200, "{:?}", answer.2);
    }
    let reissued: Vec<String> = answers
        .iter()
        .filter_map(|answer| set_cookies(answer).get("openhost_session").map(|(v, _)| v.clone()))
        .collect();
    assert_eq!(reissued.len(), 1, "exactly one rotation: {reissued:?}");
    assert_eq!(get(&host, "/api/user/info", &reissued[0]).0, 200);
}

/// A sign-out racing requests that re-issue the same cookie: no re-issued cookie outlives the sign-out.
#[test]
fn a_revoked_session_is_never_revived_by_a_concurrent_reissue() {
    let saas = Saas::new(1);
    // 4 s: past half its life after 2.1 s, and (counted in whole seconds) still before its end, so the sign-out
    // itself is never refused as expired.
    let host = saas.start("session_ttl_secs = 4");
    for round in 0..5 {
        let session = login(&host, "/").session();
        std::thread::sleep(Duration::from_millis(2100));
        let reissued: Vec<String> = std::thread::scope(|scope| {
            let readers: Vec<_> = (0..12)
                .map(|_| scope.spawn(|| get(&host, "/api/user/info", &session)))
                .collect();
            let logout = scope.spawn(|| send(with_session(manual_client().post(host.url("/api/logout")), &session)));
            let out = logout.join().unwrap();
            assert_eq!(out.0, 200, "round {round}: {:?}", out.2);
            readers
                .into_iter()
                .filter_map(|reader| set_cookies(&reader.join().unwrap()).get("openhost_session").cloned())
                .map(|(value, _)| value)
                .filter(|value| !value.is_empty())
                .collect()
        });
        for cookie in reissued.iter().chain([&session]) {
            let answer = get(&host, "/api/user/info", cookie);
            assert_eq!(
                answer.0, 401,
                "round {round}: a cookie outlived the sign-out: {:?}",
                answer.2
            );
        }
    }
}

/// Past `max_sessions_per_user`, a sign-in ends the oldest session; the last sign-out revokes the GitHub token.
#[test]
fn sessions_per_user_are_capped_and_the_last_sign_out_revokes_the_token_at_github() {
    let saas = Saas::new(1);
    let host = saas.start("max_sessions_per_user = 2");
    let sessions: Vec<String> = (0..3).map(|_| login(&host, "/").session()).collect();
    assert_error(&get(&host, "/api/user/info", &sessions[0]), 401, "invalid_session");
    for session in &sessions[1..] {
        assert_eq!(get(&host, "/api/user/info", session).0, 200);
    }
    assert_eq!(
        saas.fake.revoked_tokens(),
        2,
        "each sign-in revoked the access token it replaced"
    );
    let tokens = saas.fake.issued_tokens();
    let out = |session: &str| send(with_session(manual_client().post(host.url("/api/logout")), session));
    assert_eq!(out(&sessions[1]).0, 200);
    assert_eq!(saas.fake.revoked_tokens(), 2, "another session still uses the tokens");
    assert_eq!(out(&sessions[2]).0, 200);
    assert_eq!(
        saas.fake.revoked_tokens(),
        3,
        "the last sign-out revoked the access token at GitHub"
    );
    assert!(tokens.iter().all(|token| !saas.fake.token_is_valid(token)));
}

#[test]
fn forty_concurrent_requests_after_expiry_cause_exactly_one_refresh() {
    let metrics_port = free_port();
    let saas = Saas::new(1).with_host_keys(&format!("metrics_listen = \"127.0.0.1:{metrics_port}\""));
    saas.fake.set_token_lifetimes(2, 3600);
    let host = saas.start("refresh_margin_secs = 0");
    let session = login(&host, "/").session();
    std::thread::sleep(Duration::from_millis(2500));

    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..40)
            .map(|_| scope.spawn(|| get(&host, "/api/user/info", &session).0))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(saas.fake.calls("POST /login/oauth/access_token (refresh)"), 1);
    assert_eq!(
        get(&host, "/api/user/info", &session).0,
        200,
        "the refreshed token is in use"
    );
    let scraped = manual_client()
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let refreshes: Vec<&str> = scraped
        .lines()
        .filter(|line| line.starts_with("openhost_plugin_token_refreshes_total{"))
        .collect();
    assert_eq!(refreshes.len(), 1, "{scraped}");
    assert!(
        refreshes[0].contains("outcome=\"ok\"")
            && refreshes[0].contains("plugin=\"enterprise\"")
            && refreshes[0].ends_with(" 1"),
        "{}",
        refreshes[0]
    );
}

#[test]
fn a_github_401_forces_one_refresh_and_one_retry() {
    let saas = Saas::new(1);
    let host = saas.start("");
    let session = login(&host, "/").session();
    saas.fake.revoke_access_tokens(4242);
    let (status, _, user) = get(&host, "/api/user/info", &session);
    assert_eq!((status, user["login"].as_str()), (200, Some("octocat")));
    assert_eq!(saas.fake.calls("POST /login/oauth/access_token (refresh)"), 1);
    assert_eq!(saas.fake.calls("GET /user"), 3, "sign-in, the rejected call, the retry");
}

#[test]
fn a_rejected_refresh_token_requires_signing_in_again() {
    let saas = Saas::new(1);
    // Two seconds: expiry is counted in whole seconds, so a 1 s token can die before the sign-in's own call.
    saas.fake.set_token_lifetimes(2, 3600);
    let host = saas.start("refresh_margin_secs = 0");
    let session = login(&host, "/").session();
    saas.fake.revoke_all(4242);
    std::thread::sleep(Duration::from_millis(2500));
    let answer = get(&host, "/api/user/info", &session);
    assert_error(&answer, 401, "reauth_required");
    assert!(set_cookies(&answer)["openhost_session"].1.contains("Max-Age=0"));
    assert_error(&get(&host, "/api/settings", &session), 401, "invalid_session");
    let again = login(&host, "/").session();
    assert_eq!(get(&host, "/api/user/info", &again).0, 200);
}

#[test]
fn rotating_the_secret_key_keeps_sessions_and_tokens() {
    let saas = Saas::new(1);
    let host = saas.start("");
    let session = login(&host, "/").session();
    host.stop();

    let host = saas.start_with(
        true,
        "previous_secret_keys = [\"${TEST_OLD_KEY}\"]",
        &[
            ("TEST_SECRET_KEY", NEXT_KEY),
            ("TEST_OLD_KEY", &format!("{SECRET_KEY}=")),
        ],
    );
    assert_eq!(
        get(&host, "/api/user/info", &session).0,
        200,
        "old cookie verifies, old tokens decrypt"
    );
    let new_session = login(&host, "/").session();
    host.stop();

    let host = saas.start_with(true, "", &[("TEST_SECRET_KEY", NEXT_KEY)]);
    assert_error(&get(&host, "/api/settings", &session), 401, "invalid_session");
    assert_eq!(get(&host, "/api/user/info", &new_session).0, 200);
}

#[test]
fn no_token_client_secret_or_key_reaches_disk_or_log() {
    let saas = Saas::new(3);
    saas.fake.set_token_lifetimes(2, 3600);
    let host = saas.start_with(true, "refresh_margin_secs = 0", &[("RUST_LOG", "debug")]);
    let session = login(&host, "/").session();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(get(&host, "/api/user/repositories", &session).0, 200, "after a refresh");
    assert_error(
        &callback("forged", &host.url("/oauth/github/callback?code=x&state=y")),
        400,
        "oauth_state_invalid",
    );
    let (_, logs) = host.stop();

    let mut secrets: Vec<Vec<u8>> = saas.fake.issued_tokens().into_iter().map(String::into_bytes).collect();
    assert!(secrets.len() >= 4, "a sign-in and a refresh issued tokens");
    secrets.push(CLIENT_SECRET.as_bytes().to_vec());
    secrets.push(SECRET_KEY.as_bytes().to_vec());
    secrets.push(URL_SAFE_NO_PAD.decode(SECRET_KEY).unwrap());
    assert!(!files_under(&saas.site.data_dir()).is_empty());
    for secret in &secrets {
        assert_eq!(saas.site.data_files_holding(secret), Vec::<PathBuf>::new());
    }
    for secret in &secrets {
        assert!(
            !logs.contains(String::from_utf8_lossy(secret).as_ref()),
            "a secret in the log:\n{logs}"
        );
    }
}

#[test]
fn disabling_the_plugin_gives_the_open_source_host_on_the_same_data() {
    let saas = Saas::new(1);
    let host = saas.start("");
    let session = login(&host, "/").session();
    let stored =
        send(with_session(manual_client().post(host.url("/api/settings")), &session).json(&json!({"language": "sv"})));
    assert_eq!(stored.0, 200);
    host.stop();

    let host = saas.start_with(false, "", &[]);
    let (_, _, config) = send(manual_client().get(host.url("/api/options/config")));
    assert_eq!(config["APP_MODE"], "oss");
    assert_error(
        &send(manual_client().get(host.url("/api/settings"))),
        404,
        "settings_not_found",
    );
    let (_, _, plugins) = send(manual_client().get(host.url("/api/plugins")));
    assert_eq!(plugins["slots"]["git_service"], "host");
    host.stop();

    let host = saas.start("");
    assert_eq!(
        get(&host, "/api/settings", &session).2["language"],
        "sv",
        "back on: the same session and data"
    );
}

#[test]
fn missing_and_invalid_config_keys_stop_startup_in_one_line() {
    let site = Site::new();
    site.add_plugin("openhost-enterprise");
    site.write_config("[plugins.enterprise.config]\npublic_url = \"ftp://x\"\nsecret_key = \"c2hvcnQ\"\n");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    for needle in [
        "enterprise",
        "github_client_id",
        "github_client_secret",
        "public_url",
        "secret_key` decodes to 5 bytes",
    ] {
        assert!(line.contains(needle), "{needle}: {line}");
    }
}
