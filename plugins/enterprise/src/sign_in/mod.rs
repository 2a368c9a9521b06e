//! The sign-in routes (README.md, "Enterprise mode"): the GitHub App's web flow ([`github`]), an OpenID Connect
//! provider's ([`oidc`]), and the URL the OpenHands frontend opens ([`frontend`]). Each starts with
//! [`SignInRoutes::authorize`] (PKCE, a signed single-use [`state`]) and ends with [`SignInRoutes::finish`]: the
//! tokens kept, a session started, the browser sent back to a page of this site ([`redirect`]).

pub mod frontend;
pub mod github;
pub mod oidc;
pub mod redirect;
pub mod state;

use std::sync::Arc;

use oauth2::{CsrfToken, PkceCodeChallenge};
use openhost_plugin_api::{Header, PluginError, Response, RouteSpec, Router};

use crate::{Enterprise, provider::oauth_client::OAuthClient, tokens::store::StoredTokens};
use state::{StateClaims, StateCookie};

/// What every sign-in route shares.
pub struct SignInRoutes {
    enterprise: Arc<Enterprise>,
    state: StateCookie,
}

impl SignInRoutes {
    pub fn new(enterprise: Arc<Enterprise>) -> SignInRoutes {
        let state = StateCookie::new(&enterprise.config);
        SignInRoutes { enterprise, state }
    }

    /// The public routes of the sign-in the config names, and the frontend's sign-in URL, which starts it.
    pub fn router(self) -> Router<SignInRoutes> {
        let openid_connect = self.enterprise.provider.oidc().is_some();
        let router = Router::with_state(self).public(RouteSpec::new("GET", frontend::PATH), frontend::login);
        if openid_connect {
            router
                .public(RouteSpec::new("GET", oidc::LOGIN_PATH), oidc::login)
                .public(RouteSpec::new("GET", oidc::CALLBACK_PATH), oidc::callback)
                .public(RouteSpec::new("GET", oidc::LOGOUT_PATH), oidc::logout)
        } else {
            router
                .public(RouteSpec::new("GET", github::LOGIN_PATH), github::login)
                .public(RouteSpec::new("GET", github::CALLBACK_PATH), github::callback)
        }
    }

    /// Sends the browser to `client`'s authorization page with PKCE (and the OpenID Connect `nonce`, if any),
    /// remembering the state, the verifier, the nonce and `redirect` (already checked) in the signed state cookie.
    fn authorize(
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
        let claims = StateClaims::new(state.secret().clone(), verifier.secret().clone(), redirect, nonce);
        let payload = serde_json::to_vec(&claims).map_err(|e| PluginError::other(e.to_string()))?;
        let cookie = self.enterprise.keys.sign(&payload);
        Ok(Response {
            status: 302,
            headers: vec![
                Header::new("location", url.as_str()),
                Header::new("set-cookie", &self.state.header(Some(&cookie))),
            ]
            .into(),
            body: Vec::new().into(),
        })
    }

    /// Keeps the sign-in's tokens, starts a session and sends the browser on to `redirect` (already checked).
    async fn finish(
        &self,
        uid: &str,
        login: &str,
        tokens: &StoredTokens,
        redirect: &str,
    ) -> Result<Response, PluginError> {
        let enterprise = &self.enterprise;
        enterprise.tokens.replace(uid, tokens).await?;
        let session = enterprise.sessions.create(uid, login).await?;
        tracing::info!(user = %uid, login = %login, "signed in");
        Ok(Response {
            status: 302,
            headers: vec![
                Header::new("location", redirect),
                Header::new("set-cookie", &enterprise.sessions.cookie_header(Some(&session))),
                Header::new("set-cookie", &self.state.header(None)),
            ]
            .into(),
            body: Vec::new().into(),
        })
    }
}
