//! The GitHub App's web flow: `/oauth/github/login` sends the browser to GitHub, `/oauth/github/callback`
//! exchanges the code (PKCE), reads who signed in (`GET /user`) and starts the session of `github:<id>`.

use oauth2::{AuthorizationCode, PkceCodeVerifier};
use openhost_github::GitQuery;
use openhost_plugin_api::{PluginError, Request, Response};

use super::{
    SignInRoutes,
    redirect::{query_param, safe_redirect},
};
use crate::{
    Enterprise,
    provider::{
        GITHUB_CALLBACK_PATH,
        oauth_client::{HostHttp, TokenIssuer, token_error},
    },
    tokens::store::StoredTokens,
};

pub const LOGIN_PATH: &str = "/oauth/github/login";
pub const CALLBACK_PATH: &str = GITHUB_CALLBACK_PATH;

/// `/oauth/github/login?redirect=/path`.
pub async fn login(routes: &SignInRoutes, request: Request) -> Result<Response, PluginError> {
    start(routes, safe_redirect(query_param(&request, "redirect").as_deref())).await
}

/// Sends the browser to GitHub's authorization page, remembering `redirect` (already checked).
pub async fn start(routes: &SignInRoutes, redirect: String) -> Result<Response, PluginError> {
    let client = routes.enterprise.provider.client(&routes.enterprise.host).await?;
    routes.authorize(&client, redirect, None)
}

/// `/oauth/github/callback?code=..&state=..`.
pub async fn callback(routes: &SignInRoutes, request: Request) -> Result<Response, PluginError> {
    let enterprise = &routes.enterprise;
    let (claims, code) = match routes.state.claim(enterprise, &request, "GitHub").await {
        Ok(callback) => callback,
        Err(response) => return Ok(response),
    };
    let response = enterprise
        .provider
        .client(&enterprise.host)
        .await?
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(claims.verifier))
        .request_async(&HostHttp(enterprise.host))
        .await;
    let tokens = match response {
        Ok(response) => StoredTokens::from_response(&response),
        Err(error) => {
            return routes
                .state
                .refused(token_error(error, "oauth_code_rejected", TokenIssuer::Github));
        }
    };
    let (id, login) = user(enterprise, &tokens.access_token).await?;
    routes
        .finish(&format!("github:{id}"), &login, &tokens, &claims.redirect)
        .await
}

/// `GET /user` with the new access token: the numeric id and the login.
async fn user(enterprise: &Enterprise, access_token: &str) -> Result<(u64, String), PluginError> {
    let user = crate::git::get(enterprise, access_token, &GitQuery::UserInfo)
        .await?
        .into_user()?;
    match (user.id.parse::<u64>(), user.login.as_str()) {
        (Ok(id), login) if !login.is_empty() => Ok((id, login.to_owned())),
        _ => Err(PluginError::http(
            502,
            "git_provider_unavailable",
            "GitHub sent a user without an id",
        )),
    }
}
