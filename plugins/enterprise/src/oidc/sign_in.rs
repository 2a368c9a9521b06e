//! `/oauth/oidc/login` and `/oauth/oidc/callback`: the authorization code flow with PKCE, `state` (the signed,
//! single-use state cookie the GitHub sign-in uses too) and `nonce`, then the ID token verified before anyone
//! is signed in. Every refusal is a 4xx with a code; a provider out of reach is a 502.

use oauth2::{AuthorizationCode, CsrfToken, PkceCodeVerifier};
use openhost_plugin_api::{PluginError, Request, Response};

use crate::{
    now,
    oauth::{HostHttp, OAuthRoutes, TokenIssuer, query_param, safe_redirect, stored_tokens, token_error},
};

impl OAuthRoutes {
    /// `/oauth/oidc/login?redirect=/path`.
    pub(crate) async fn oidc_login(&self, request: &Request) -> Result<Response, PluginError> {
        self.start_oidc_sign_in(safe_redirect(query_param(request, "redirect").as_deref()))
            .await
    }

    /// Sends the browser to the provider's authorization page.
    pub(crate) async fn start_oidc_sign_in(&self, redirect: String) -> Result<Response, PluginError> {
        let Some(oidc) = self.enterprise.oidc.as_ref() else {
            return Err(PluginError::http(
                404,
                "not_found",
                "this server does not sign in with OpenID Connect",
            ));
        };
        let client = oidc.client(&self.enterprise.host).await?;
        let nonce = CsrfToken::new_random().secret().clone();
        self.authorize(&client, redirect, Some((&oidc.config.scopes, nonce)))
    }

    /// `/oauth/oidc/callback?code=..&state=..`.
    pub(crate) async fn oidc_callback(&self, request: &Request) -> Result<Response, PluginError> {
        let enterprise = &self.enterprise;
        let Some(oidc) = enterprise.oidc.as_ref() else {
            return Err(PluginError::http(
                404,
                "not_found",
                "this server does not sign in with OpenID Connect",
            ));
        };
        let claims = match self.claim_state(request, "identity provider").await {
            Ok(claims) => claims,
            Err(response) => return Ok(response),
        };
        let clear_state = self.state_cookie(None);
        let fail = |status: u16, code: &str, message: &str| {
            Ok(Response::error(status, code, message).with_header("set-cookie", &clear_state))
        };
        let (Some(code), Some(nonce)) = (query_param(request, "code"), claims.nonce.clone()) else {
            return fail(400, "oauth_state_invalid", "the provider sent no code; start again");
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
                let error = token_error(error, "oauth_code_rejected", TokenIssuer::IdentityProvider);
                return match error.http_response() {
                    Some(response) => Ok(response.with_header("set-cookie", &clear_state)),
                    None => Err(error),
                };
            }
        };
        let Some(id_token) = response.extra_fields().id_token.as_deref() else {
            return fail(
                502,
                "identity_provider_unavailable",
                "the provider answered without an ID token (is `openid` among oidc_scopes?)",
            );
        };
        let person = match oidc.verify(host, id_token, &nonce, now()).await? {
            Ok(person) => person,
            Err(refused) => {
                tracing::warn!(code = refused.code(), "refused an ID token: {refused}");
                return fail(401, refused.code(), &format!("{refused}; sign in again"));
            }
        };
        self.finish_sign_in(
            &format!("oidc:{}", person.subject),
            &person.login,
            &stored_tokens(&response),
            &claims.redirect,
        )
        .await
    }
}
