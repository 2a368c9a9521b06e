//! The sign-in URL the OpenHands web frontend opens in SaaS mode (docs/frontend.md, "Enterprise mode").
//!
//! That frontend does not call `/oauth/github/login`: its "Login with GitHub" button goes to a Keycloak
//! authorization URL, `https://{AUTH_URL}/realms/allhands/protocol/openid-connect/auth?client_id=allhands&
//! kc_idp_hint=github&redirect_uri=...&state=<the page it was on>`, where `AUTH_URL` comes from
//! `GET /api/options/config`. The plugin publishes its own `public_url` as `AUTH_URL` and serves that path: it
//! starts the same GitHub sign-in as `/oauth/github/login`, returning to the page named in `state`. No Keycloak
//! runs, so there is no `/oauth/keycloak/callback` hop: the GitHub callback sets the session and goes back to
//! that page itself. With `login = "oidc"` it starts the OpenID Connect sign-in instead.

use openhost_plugin_api::{PluginError, Request, Response};

use super::{SignInRoutes, github, oidc, redirect::query_param};
use crate::provider::Provider;

/// The path the frontend builds from `AUTH_URL` (realm `allhands` is fixed in the frontend).
pub const PATH: &str = "/realms/allhands/protocol/openid-connect/auth";

/// The identity provider the frontend names in `kc_idp_hint`; GitHub is the only one this plugin signs in with.
pub const GITHUB_HINT: &str = "github";

/// Where to go after signing in: the frontend's `state` is the absolute URL of the page it was on; only a page of
/// this server (`public_url`) is followed, as a relative path, so the sign-in cannot be turned into an open
/// redirect. Anything else is `/`.
pub fn return_path(state: Option<&str>, public_url: &str) -> String {
    let relative = state
        .and_then(|state| state.strip_prefix(public_url))
        .filter(|rest| rest.starts_with('/'));
    super::redirect::safe_redirect(relative)
}

/// The frontend's sign-in URL: GitHub is the one identity provider, reached directly or through the OpenID
/// Connect provider.
pub async fn login(routes: &SignInRoutes, request: Request) -> Result<Response, PluginError> {
    let hint = query_param(&request, "kc_idp_hint");
    if hint.as_deref().is_some_and(|hint| hint != GITHUB_HINT) {
        return Ok(Response::error(
            400,
            "unsupported_identity_provider",
            "this server signs in with GitHub only",
        ));
    }
    let state = query_param(&request, "state");
    let redirect = return_path(state.as_deref(), &routes.enterprise.config.public_url);
    match routes.enterprise.provider.as_ref() {
        Provider::Oidc(_) => oidc::start(routes, redirect).await,
        Provider::Github(_) => github::start(routes, redirect).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://app.example";

    #[test]
    fn only_pages_of_this_server_are_returned_to() {
        assert_eq!(
            return_path(Some("https://app.example/?login_method=github"), PUBLIC),
            "/?login_method=github"
        );
        assert_eq!(
            return_path(Some("https://app.example/settings?x=1&login_method=github"), PUBLIC),
            "/settings?x=1&login_method=github"
        );
        for foreign in [
            "https://evil.example/",
            "https://app.example.evil.example/",
            "https://app.example@evil.example/",
            "https://app.example//evil.example/",
            "/relative-only",
            "",
        ] {
            assert_eq!(return_path(Some(foreign), PUBLIC), "/", "{foreign:?}");
        }
        assert_eq!(return_path(None, PUBLIC), "/");
    }
}
