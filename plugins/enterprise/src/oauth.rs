//! GitHub App OAuth: the oauth2 client over the host's HTTP service, and the routes of the web flow
//! (`/oauth/github/login` or the frontend's [`frontend_sign_in`] URL, then `/oauth/github/callback`; README.md
//! "Enterprise mode").

use std::sync::Arc;

use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, TokenUrl,
};
use openhost_github::{GitData, GitQuery};
use openhost_plugin_api::{Header, PluginError, Request, Response, RouteSpec, Router};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{
    Enterprise,
    clock::now,
    config::EnterpriseConfig,
    frontend_sign_in,
    keys::Keyring,
    oauth_client::{HostHttp, OAuthClient, TokenIssuer, stored_tokens, token_error},
    redirect::{query_param, safe_redirect},
    tokens::StoredTokens,
    transport::{self, USER_AGENT},
};

pub const LOGIN_PATH: &str = "/oauth/github/login";
pub const CALLBACK_PATH: &str = "/oauth/github/callback";
const STATE_COOKIE: &str = "openhost_oauth_state";
/// The state cookie's name over https: the prefix makes browsers refuse it from an insecure origin.
const SECURE_STATE_COOKIE: &str = "__Secure-openhost_oauth_state";
/// Where the single-use markers of completed sign-ins live (`oauth-state/<state>` -> expiry).
const USED_STATE_PREFIX: &str = "oauth-state/";
/// How many markers one sign-in looks at when sweeping expired ones.
const SWEEP_BATCH: u32 = 64;
const STATE_TYPE: &str = "oauth_state";
const STATE_TTL_SECS: u64 = 600;

/// What the sign-in state cookie carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct StateClaims {
    typ: String,
    pub state: String,
    pub verifier: String,
    pub redirect: String,
    pub exp: u64,
    /// The OpenID Connect sign-in's nonce, which its ID token must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// The claims of a state cookie whose signature, type and expiry check out. Pure, so it can be fuzzed.
pub fn verify_state_cookie(keys: &Keyring, cookie: Option<&str>, now: u64) -> Option<StateClaims> {
    let payload = keys.verify(cookie?)?;
    serde_json::from_slice::<StateClaims>(&payload)
        .ok()
        .filter(|claims| claims.typ == STATE_TYPE && claims.exp > now)
}

/// The OAuth client for the configured GitHub App; the secret goes in the request body, as GitHub expects.
pub fn oauth_client(config: &EnterpriseConfig) -> Result<OAuthClient, String> {
    let web = &config.github_web_url;
    Ok(Client::new(ClientId::new(config.github_client_id.clone()))
        .set_client_secret(ClientSecret::new(config.github_client_secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).map_err(|e| format!("github_web_url: {e}"))?)
        .set_token_uri(
            TokenUrl::new(format!("{web}/login/oauth/access_token")).map_err(|e| format!("github_web_url: {e}"))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(format!("{}{CALLBACK_PATH}", config.public_url))
                .map_err(|e| format!("public_url: {e}"))?,
        )
        .set_auth_type(AuthType::RequestBody))
}

/// `/oauth/github/login` and `/oauth/github/callback`.
pub struct OAuthRoutes {
    pub enterprise: Arc<Enterprise>,
}

impl OAuthRoutes {
    fn state_cookie_name(&self) -> &'static str {
        if self.enterprise.config.is_https() {
            SECURE_STATE_COOKIE
        } else {
            STATE_COOKIE
        }
    }

    pub(crate) fn state_cookie(&self, value: Option<&str>) -> String {
        let (value, max_age) = value.map_or(("", 0), |v| (v, STATE_TTL_SECS));
        let secure = if self.enterprise.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        let name = self.state_cookie_name();
        // Every provider's callback is under /oauth.
        format!("{name}={value}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }

    /// Deletes expired single-use markers, a batch per sign-in: anyone can complete sign-ins, so the markers
    /// must not pile up. A marker is kept only while its state could still be presented (10 minutes).
    async fn sweep_used_states(&self) -> Result<(), PluginError> {
        let host = &self.enterprise.host;
        let now = now();
        for (key, value) in host.kv_scan_prefix(USED_STATE_PREFIX.as_bytes(), SWEEP_BATCH).await? {
            let expiry = std::str::from_utf8(&value)
                .ok()
                .and_then(|text| text.parse::<u64>().ok());
            if expiry.is_none_or(|expiry| expiry <= now) {
                host.kv_delete(&key).await?;
            }
        }
        Ok(())
    }

    /// `/oauth/github/login?redirect=/path`.
    async fn login(&self, request: Request) -> Result<Response, PluginError> {
        self.start_sign_in(safe_redirect(query_param(&request, "redirect").as_deref()))
    }

    /// The OpenHands frontend's SaaS sign-in URL ([`frontend_sign_in`]): GitHub is the one identity provider,
    /// reached directly or through the OpenID Connect provider.
    async fn frontend_login(&self, request: Request) -> Result<Response, PluginError> {
        let hint = query_param(&request, "kc_idp_hint");
        if hint
            .as_deref()
            .is_some_and(|hint| hint != frontend_sign_in::GITHUB_HINT)
        {
            return Ok(Response::error(
                400,
                "unsupported_identity_provider",
                "this server signs in with GitHub only",
            ));
        }
        let state = query_param(&request, "state");
        let redirect = frontend_sign_in::return_path(state.as_deref(), &self.enterprise.config.public_url);
        match self.enterprise.oidc {
            Some(_) => self.start_oidc_sign_in(redirect).await,
            None => self.start_sign_in(redirect),
        }
    }

    /// Sends the browser to GitHub's authorization page, remembering `redirect` (already checked) in the signed
    /// state cookie.
    fn start_sign_in(&self, redirect: String) -> Result<Response, PluginError> {
        self.authorize(&self.enterprise.oauth, redirect, None)
    }

    /// Sends the browser to `client`'s authorization page with PKCE (and the OpenID Connect `nonce`, if any),
    /// remembering the state, the verifier, the nonce and `redirect` in the signed state cookie.
    pub(crate) fn authorize(
        &self,
        client: &OAuthClient,
        redirect: String,
        openid: Option<(&[String], String)>,
    ) -> Result<Response, PluginError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        let mut nonce = None;
        if let Some((scopes, value)) = openid {
            request = request
                .add_scopes(scopes.iter().map(|scope| oauth2::Scope::new(scope.clone())))
                .add_extra_param("nonce", value.clone());
            nonce = Some(value);
        }
        let (url, state) = request.url();
        let claims = StateClaims {
            typ: STATE_TYPE.to_owned(),
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
            redirect,
            exp: now() + STATE_TTL_SECS,
            nonce,
        };
        let payload = serde_json::to_vec(&claims).map_err(|e| PluginError::other(e.to_string()))?;
        let cookie = self.enterprise.keys.sign(&payload);
        Ok(Response {
            status: 302,
            headers: vec![
                Header::new("location", url.as_str()),
                Header::new("set-cookie", &self.state_cookie(Some(&cookie))),
            ]
            .into(),
            body: Vec::new().into(),
        })
    }

    /// An answer refusing a sign-in callback, clearing the state cookie.
    pub(crate) fn refuse(&self, status: u16, code: &str, message: &str) -> Response {
        Response::error(status, code, message).with_header("set-cookie", &self.state_cookie(None))
    }

    /// A failure of a sign-in callback: an HTTP answer (a rejected code, a provider out of reach) goes out with
    /// the state cookie cleared; anything else stays an error.
    pub(crate) fn refused(&self, error: PluginError) -> Result<Response, PluginError> {
        match error.http_response() {
            Some(response) => Ok(response.with_header("set-cookie", &self.state_cookie(None))),
            None => Err(error),
        }
    }

    /// The state and code of a callback, checked: the state signed by this server, unexpired, matching the
    /// query's `state`, and claimed now for the first and only time; a code present. `Err` is the answer (the
    /// state cookie cleared).
    pub(crate) async fn claim_callback(
        &self,
        request: &Request,
        provider: &str,
    ) -> Result<(StateClaims, String), Response> {
        let enterprise = &self.enterprise;
        let fail = |status: u16, code: &str, message: &str| self.refuse(status, code, message);
        if query_param(request, "error").is_some() {
            return Err(fail(
                401,
                "oauth_denied",
                &format!("the {provider} sign-in was cancelled or denied"),
            ));
        }
        let claims = verify_state_cookie(
            &enterprise.keys,
            request.cookie(self.state_cookie_name()).as_deref(),
            now(),
        );
        let state = query_param(request, "state");
        let (Some(claims), Some(state)) = (claims, state) else {
            return Err(fail(
                400,
                "oauth_state_invalid",
                "the sign-in state is missing or expired; start again",
            ));
        };
        if !bool::from(claims.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(fail(
                400,
                "oauth_state_invalid",
                "the sign-in state does not match; start again",
            ));
        }
        // Single use: the first callback with this state claims it.
        let store_failed = |e: PluginError| {
            e.http_response()
                .unwrap_or_else(|| fail(500, "store_failed", "try again"))
        };
        self.sweep_used_states().await.map_err(store_failed)?;
        let used_key = format!("{USED_STATE_PREFIX}{}", claims.state);
        let expiry = claims.exp.to_string();
        if !enterprise
            .host
            .kv_compare_and_swap(used_key.as_bytes(), None, Some(expiry.as_bytes()))
            .await
            .map_err(store_failed)?
        {
            return Err(fail(
                400,
                "oauth_state_invalid",
                "this sign-in was already completed; start again",
            ));
        }
        let Some(code) = query_param(request, "code") else {
            return Err(fail(
                400,
                "oauth_state_invalid",
                &format!("{provider} sent no code; start again"),
            ));
        };
        Ok((claims, code))
    }

    async fn callback(&self, request: Request) -> Result<Response, PluginError> {
        let enterprise = &self.enterprise;
        let (claims, code) = match self.claim_callback(&request, "GitHub").await {
            Ok(callback) => callback,
            Err(response) => return Ok(response),
        };

        let http = HostHttp(enterprise.host);
        let response = enterprise
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(claims.verifier))
            .request_async(&http)
            .await;
        let tokens = match response {
            Ok(response) => stored_tokens(&response),
            Err(error) => return self.refused(token_error(error, "oauth_code_rejected", TokenIssuer::Github)),
        };
        let user = enterprise.github_user(&tokens.access_token).await?;
        self.finish_sign_in(&format!("github:{}", user.0), &user.1, &tokens, &claims.redirect)
            .await
    }

    /// Keeps the sign-in's tokens, starts a session and sends the browser on to `redirect` (already checked).
    pub(crate) async fn finish_sign_in(
        &self,
        uid: &str,
        login: &str,
        tokens: &StoredTokens,
        redirect: &str,
    ) -> Result<Response, PluginError> {
        let enterprise = &self.enterprise;
        enterprise.replace_tokens(uid, tokens).await?;
        let session = enterprise.sessions.create(uid, login).await?;
        tracing::info!(user = %uid, login = %login, "signed in");
        Ok(Response {
            status: 302,
            headers: vec![
                Header::new("location", redirect),
                Header::new("set-cookie", &enterprise.sessions.cookie_header(Some(&session))),
                Header::new("set-cookie", &self.state_cookie(None)),
            ]
            .into(),
            body: Vec::new().into(),
        })
    }
}

impl OAuthRoutes {
    /// The public routes of the sign-in.
    pub fn router(self) -> Router<OAuthRoutes> {
        let oidc = self.enterprise.oidc.is_some();
        let mut router = Router::with_state(self)
            .public(RouteSpec::new("GET", LOGIN_PATH), OAuthRoutes::login)
            .public(
                RouteSpec::new("GET", frontend_sign_in::PATH),
                OAuthRoutes::frontend_login,
            )
            .public(RouteSpec::new("GET", CALLBACK_PATH), OAuthRoutes::callback);
        if oidc {
            router = router
                .public(RouteSpec::new("GET", crate::oidc::LOGIN_PATH), OAuthRoutes::oidc_login)
                .public(
                    RouteSpec::new("GET", crate::oidc::CALLBACK_PATH),
                    OAuthRoutes::oidc_callback,
                )
                .public(
                    RouteSpec::new("GET", crate::oidc::LOGOUT_PATH),
                    OAuthRoutes::oidc_logout,
                );
        }
        router
    }
}

impl Enterprise {
    /// `GET /user` with a fresh access token: the numeric id and the login.
    pub async fn github_user(&self, access_token: &str) -> Result<(u64, String), PluginError> {
        let user = self.github_get(access_token, &GitQuery::UserInfo).await?.into_user()?;
        match (user.id.parse::<u64>(), user.login.as_str()) {
            (Ok(id), login) if !login.is_empty() => Ok((id, login.to_owned())),
            _ => Err(PluginError::http(
                502,
                "git_provider_unavailable",
                "GitHub sent a user without an id",
            )),
        }
    }

    /// One GitHub API GET through the host's HTTP service ([`openhost_github::call`] over [`transport::Http`]).
    pub async fn github_get(&self, access_token: &str, query: &GitQuery) -> Result<GitData, openhost_github::GitError> {
        let http = transport::Http(self.host);
        openhost_github::call(
            &http,
            &self.config.github_api_url,
            access_token,
            USER_AGENT,
            query,
            now(),
        )
        .await
    }
}
