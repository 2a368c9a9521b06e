//! `/oauth/oidc/login` and `/oauth/oidc/callback`: the authorization code flow with PKCE, `state` (the signed,
//! single-use state cookie the GitHub sign-in uses too) and `nonce`, then the ID token verified before anyone
//! is signed in. Every refusal is a 4xx with a code; a provider out of reach is a 502. `/oauth/oidc/logout`:
//! RP-initiated logout.

use oauth2::{AuthorizationCode, CsrfToken, PkceCodeVerifier};
use openhost_plugin_api::{Header, PluginError, Request, Response};

use super::{
    SignInRoutes,
    redirect::{query_param, safe_redirect},
};
use crate::{
    clock::now,
    provider::{
        oauth_client::{HostHttp, TokenIssuer, token_error},
        oidc::Oidc,
    },
    tokens::store::StoredTokens,
};

pub use crate::provider::oidc::CALLBACK_PATH;
pub const LOGIN_PATH: &str = "/oauth/oidc/login";
/// Where a browser signs out of this server and of the provider.
pub const LOGOUT_PATH: &str = "/oauth/oidc/logout";

/// The provider, when this server signs in with one (the routes exist only then).
fn provider(routes: &SignInRoutes) -> Result<&Oidc, PluginError> {
    routes
        .enterprise
        .provider
        .oidc()
        .ok_or_else(|| PluginError::http(404, "not_found", "this server does not sign in with OpenID Connect"))
}

/// `/oauth/oidc/login?redirect=/path`.
pub async fn login(routes: &SignInRoutes, request: Request) -> Result<Response, PluginError> {
    start(routes, safe_redirect(query_param(&request, "redirect").as_deref())).await
}

/// Sends the browser to the provider's authorization page, remembering `redirect` (already checked).
pub async fn start(routes: &SignInRoutes, redirect: String) -> Result<Response, PluginError> {
    let oidc = provider(routes)?;
    let client = oidc.client(&routes.enterprise.host).await?;
    let nonce = CsrfToken::new_random().secret().clone();
    routes.authorize(&client, redirect, Some((&oidc.config.scopes, nonce)))
}

/// `GET /oauth/oidc/logout` (OpenID Connect RP-Initiated Logout 1.0): ends this server's session, then sends
/// the browser to the provider's `end_session_endpoint` (with `client_id` and `post_logout_redirect_uri`,
/// `{public_url}/`) so that the provider's session ends too; to `/` when the provider offers none.
///
/// A GET ends a session, so a navigation another site starts (a link, an image) must not: a request the
/// browser marks `Sec-Fetch-Site: cross-site` or `same-site` (a sibling subdomain) is refused with 403
/// `cross_site_request` and ends nothing. The app's own link (`same-origin`), a typed address (`none`) and
/// clients that send no such header (older browsers, scripts) sign out.
pub async fn logout(routes: &SignInRoutes, request: Request) -> Result<Response, PluginError> {
    if request
        .header("sec-fetch-site")
        .is_some_and(|site| !matches!(site.to_ascii_lowercase().as_str(), "same-origin" | "none"))
    {
        return Ok(Response::error(
            403,
            "cross_site_request",
            "signing out is started from this server's own pages",
        ));
    }
    let enterprise = &routes.enterprise;
    let oidc = provider(routes)?;
    let sessions = &enterprise.sessions;
    if let Ok(session) = sessions
        .authenticate(request.cookie(sessions.cookie_name()).as_deref())
        .await
    {
        enterprise.end_session(&session).await?;
        tracing::info!(user = %session.identity.user_id, "signed out");
    }
    let home = format!("{}/", enterprise.config.public_url);
    let location = match oidc.provider(&enterprise.host).await {
        Ok(provider) => match provider.end_session_endpoint.as_deref() {
            Some(end_session) => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("client_id", &oidc.config.client_id)
                    .append_pair("post_logout_redirect_uri", &home)
                    .finish();
                let separator = if end_session.contains('?') { '&' } else { '?' };
                format!("{end_session}{separator}{query}")
            }
            None => home,
        },
        // Signed out here; the provider's session is left to expire.
        Err(_) => home,
    };
    Ok(Response {
        status: 302,
        headers: vec![
            Header::new("location", &location),
            Header::new("set-cookie", &sessions.cookie_header(None)),
        ]
        .into(),
        body: Vec::new().into(),
    })
}

/// `/oauth/oidc/callback?code=..&state=..`.
pub async fn callback(routes: &SignInRoutes, request: Request) -> Result<Response, PluginError> {
    let enterprise = &routes.enterprise;
    let oidc = provider(routes)?;
    let (claims, code) = match routes.state.claim(enterprise, &request, "the sign-in provider").await {
        Ok(callback) => callback,
        Err(response) => return Ok(response),
    };
    let Some(nonce) = claims.nonce.clone() else {
        // A state made for the GitHub sign-in.
        return Ok(routes.state.refuse(
            400,
            "oauth_state_invalid",
            "the sign-in state has no nonce; start again",
        ));
    };
    let host = &enterprise.host;
    let response = oidc
        .client(host)
        .await?
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(claims.verifier.clone()))
        .request_async(&HostHttp(*host))
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            return routes
                .state
                .refused(token_error(error, "oauth_code_rejected", TokenIssuer::IdentityProvider));
        }
    };
    let Some(id_token) = response.extra_fields().id_token.as_deref() else {
        return Ok(routes.state.refuse(
            502,
            "identity_provider_unavailable",
            "the provider answered without an ID token (is `openid` among oidc_scopes?)",
        ));
    };
    let person = match oidc.verify(host, id_token, &nonce, now()).await? {
        Ok(person) => person,
        Err(refused) => {
            tracing::warn!(code = refused.code(), "refused an ID token: {refused}");
            return Ok(routes
                .state
                .refuse(401, refused.code(), &format!("{refused}; sign in again")));
        }
    };
    routes
        .finish(
            &format!("oidc:{}", person.subject),
            &person.login,
            &StoredTokens::from_response(&response),
            &claims.redirect,
        )
        .await
}
