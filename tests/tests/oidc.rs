//! Sign-in through OpenID Connect (docs/operating.md, "Sign-in through Keycloak or any OpenID Connect
//! provider") against a real provider (`oidc-provider` under Node.js, tests/src/oidc_provider.rs): RS256 and ES256
//! ID tokens, GitHub tokens from Keycloak's broker endpoint, and every tampered ID token refused with its code.

use openhost_tests::{
    Host, Site, assert_error,
    fake_github::{self, FakeGithub},
    free_port, manual_client,
    oidc_provider::{ES256_CLIENT, Provider, RS256_CLIENT, walk},
    send,
};

const SECRET_KEY: &str = "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE";

struct Deployment {
    host: Host,
    provider: Provider,
    _site: Site,
    _fake: FakeGithub,
}

impl Deployment {
    fn login_url(&self) -> String {
        self.host.url("/oauth/oidc/login?redirect=/conversations")
    }

    fn callback(&self) -> String {
        self.host.url("/oauth/oidc/callback")
    }
}

/// An enterprise host signing in with the provider's client `(id, secret)`, GitHub tokens from the broker.
fn deployment(client: (&str, &str)) -> Option<Deployment> {
    deployment_with(client, 3600, "")
}

/// [`deployment`] with the provider's access tokens living `access_token_secs`, and more plugin config.
fn deployment_with(
    (client_id, client_secret): (&str, &str),
    access_token_secs: u64,
    extra: &str,
) -> Option<Deployment> {
    let fake = FakeGithub::start(1);
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(
        &format!("{public_url}/oauth/oidc/callback"),
        fake_github::PAT,
        access_token_secs,
    )?;
    let site = Site::new();
    site.add_plugin("openhost-enterprise");
    site.write_config_on(
        port,
        &format!(
            r#"[plugins.enterprise.config]
login = "oidc"
oidc_issuer = "{issuer}"
oidc_client_id = "{client_id}"
oidc_client_secret = "{client_secret}"
public_url = "{public_url}"
secret_key = "{SECRET_KEY}"
github_api_url = "{fake}"
github_web_url = "{fake}"
{extra}
"#,
            issuer = provider.issuer,
            fake = fake.base_url
        ),
    );
    let host = site.start();
    Some(Deployment {
        host,
        provider,
        _site: site,
        _fake: fake,
    })
}

/// The session cookie a successful walk ended with.
fn session_of(cookies: &str) -> String {
    cookies
        .split("; ")
        .find(|cookie| cookie.starts_with("openhost_session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies}"))
        .to_owned()
}

#[test]
fn signs_in_with_rs256_and_es256_and_gets_github_tokens_from_the_broker() {
    for client in [RS256_CLIENT, ES256_CLIENT] {
        let Some(deployment) = deployment(client) else {
            return;
        };
        deployment.provider.next_user("u-17", "alice");
        let ((status, headers, body), cookies) = walk(&deployment.login_url(), &deployment.callback());
        assert_eq!(status, 302, "{}: {body}", client.0);
        assert_eq!(headers["location"], "/conversations");
        let session = session_of(&cookies);

        // The git service's GitHub token comes from the provider's broker endpoint (the fake GitHub's octocat).
        let (status, _, user) = send(
            manual_client()
                .get(deployment.host.url("/api/user/info"))
                .header("cookie", &session),
        );
        assert_eq!(
            (status, user["login"].as_str()),
            (200, Some(fake_github::USER_LOGIN)),
            "{user}"
        );
        let (status, _, repositories) = send(
            manual_client()
                .get(deployment.host.url("/api/user/repositories?sort=pushed"))
                .header("cookie", &session),
        );
        assert_eq!(status, 200, "{repositories}");
        let logs = deployment.host.logs();
        assert!(
            logs.contains("user=oidc:u-17 login=alice") && logs.contains("signed in"),
            "{logs}"
        );
        assert!(!logs.contains(fake_github::PAT), "tokens are never logged");

        // A navigation another site starts ends nothing.
        for site in ["cross-site", "same-site"] {
            let refused = send(
                manual_client()
                    .get(deployment.host.url("/oauth/oidc/logout"))
                    .header("cookie", &session)
                    .header("sec-fetch-site", site),
            );
            assert_error(&refused, 403, "cross_site_request");
        }
        let (status, _, _) = send(
            manual_client()
                .get(deployment.host.url("/api/user/info"))
                .header("cookie", &session),
        );
        assert_eq!(status, 200, "a cross-site logout link did not end the session");

        // RP-initiated logout: the session ends here, and the browser goes on to the provider's end_session.
        let (status, headers, _) = send(
            manual_client()
                .get(deployment.host.url("/oauth/oidc/logout"))
                .header("cookie", &session),
        );
        assert_eq!(status, 302);
        let location = headers["location"].to_str().unwrap();
        assert!(
            location.starts_with(&format!(
                "{}/session/end?client_id={}",
                deployment.provider.issuer, client.0
            )),
            "{location}"
        );
        assert!(
            location.contains("post_logout_redirect_uri=http%3A%2F%2F127.0.0.1"),
            "{location}"
        );
        let (status, _, _) = send(
            manual_client()
                .get(deployment.host.url("/api/user/info"))
                .header("cookie", &session),
        );
        assert_eq!(status, 401, "the session ended");
    }
}

#[test]
fn expired_provider_tokens_are_refreshed_once_before_the_broker_is_asked() {
    let Some(deployment) = deployment_with(RS256_CLIENT, 2, "refresh_margin_secs = 0") else {
        return;
    };
    let ((status, _, body), cookies) = walk(&deployment.login_url(), &deployment.callback());
    assert_eq!(status, 302, "{body}");
    let session = session_of(&cookies);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // Eight requests at once with an expired provider token: one refresh (single flight), then the broker.
    let answers = openhost_tests::user_info_burst(std::slice::from_ref(&deployment.host.base_url), &[session], 8);
    assert!(answers.iter().all(|(status, _)| *status == 200), "{answers:?}");
    let logs = deployment.host.logs();
    assert_eq!(logs.matches("refreshed the sign-in's tokens").count(), 1, "{logs}");
}

#[test]
fn tampered_id_tokens_are_refused_with_a_code() {
    let Some(deployment) = deployment(RS256_CLIENT) else {
        return;
    };
    for (mode, code) in [
        ("forged", "id_token_invalid"),
        ("none", "id_token_invalid"),
        ("expired", "id_token_expired"),
        ("wrong-audience", "id_token_wrong_audience"),
        ("wrong-nonce", "id_token_nonce_mismatch"),
        ("wrong-issuer", "id_token_wrong_issuer"),
    ] {
        deployment.provider.tamper(mode);
        let (answer, cookies) = walk(&deployment.login_url(), &deployment.callback());
        assert_error(&answer, 401, code);
        assert!(!cookies.contains("openhost_session="), "{mode}: no session");
    }
    deployment.provider.tamper("");
    let ((status, _, body), _) = walk(&deployment.login_url(), &deployment.callback());
    assert_eq!(status, 302, "untampered again: {body}");
}

#[test]
fn a_key_the_provider_rotated_in_is_fetched_and_accepted() {
    let Some(deployment) = deployment(ES256_CLIENT) else {
        return;
    };
    let ((status, _, body), _) = walk(&deployment.login_url(), &deployment.callback());
    assert_eq!(status, 302, "{body}");
    // The key set is cached now; the next ID token is signed by a key it does not hold.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    deployment.provider.tamper("rotated");
    let ((status, _, body), _) = walk(&deployment.login_url(), &deployment.callback());
    assert_eq!(status, 302, "a rotated key is fetched again: {body}");
}

#[test]
fn a_callback_without_its_state_or_after_a_denial_is_refused() {
    let Some(deployment) = deployment(RS256_CLIENT) else {
        return;
    };
    let host = &deployment.host;
    assert_error(
        &send(manual_client().get(host.url("/oauth/oidc/callback?code=x&state=y"))),
        400,
        "oauth_state_invalid",
    );
    assert_error(
        &send(manual_client().get(host.url("/oauth/oidc/callback?error=access_denied&state=y"))),
        401,
        "oauth_denied",
    );
    // Without a session nothing but the public routes answers.
    assert_eq!(send(manual_client().get(host.url("/api/user/info"))).0, 401);
}
