//! The enterprise plugin: turns the single-user host into a multi-user SaaS server (README.md, "Enterprise mode"),
//! only by overriding host slots (`server_config`, `user_auth`, `git_service`) and stacking onto them (a
//! middleware that requires a session on every route the host does not mark public, and the OAuth routes).
//!
//! Modules: [`config`] (validated settings), [`keys`] (HKDF-derived cookie MAC and token encryption keys),
//! [`session`] (signed cookie + server-side record), [`tokens`] (encrypted token store), [`oauth`] (GitHub App
//! sign-in), [`oidc`] (OpenID Connect sign-in and Keycloak's token broker), [`oauth_client`] (the OAuth client of
//! either, over the host's HTTP), [`redirect`] (where a sign-in may send the browser), [`frontend_sign_in`] (the
//! OpenHands frontend's sign-in URL), [`git_service`] (tokens refreshed single-flight, repositories from
//! installations), [`revoke`] (tokens revoked at GitHub when forgotten), [`transport`] (the one outbound HTTP
//! transport, one deadline), [`clock`] (Unix time). What the parts share is [`Enterprise`].

pub mod clock;
pub mod config;
mod enterprise;
pub mod frontend_sign_in;
pub mod git_service;
pub mod keys;
pub mod oauth;
pub mod oauth_client;
pub mod oidc;
pub mod redirect;
pub mod revoke;
pub mod session;
pub mod tokens;
pub mod transport;

pub use enterprise::Enterprise;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use openhost_github::Github;
use openhost_plugin_api::prelude::*;
use serde_json::{Value, json};

use crate::{
    config::{EnterpriseConfig, GitTokens},
    git_service::AppTokenAccess,
    keys::Keyring,
    oauth::{OAuthRoutes, oauth_client},
    oidc::{Oidc, broker::BrokerAccess},
    session::{SessionError, SessionPolicy, Sessions},
    tokens::TokenStore,
};

/// Requires a valid session on every route the host does not mark public, establishes the identity and re-issues
/// the cookie past half-life.
struct SessionGate {
    enterprise: Arc<Enterprise>,
}

impl Middleware for SessionGate {
    fn order(&self) -> i32 {
        // After CORS, so its 401s carry CORS headers.
        order::AUTHENTICATION
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        // The host marks the routes that need no sign-in; every other request needs a session. No path is
        // matched here, so a route the host adds later is protected without this plugin knowing it. A request an
        // earlier middleware already identified (an API key, plugins/api-keys) is that user's.
        if request.method() == "OPTIONS" || request.is_public() || request.identity().is_some() {
            return Ok(MiddlewareAction::next());
        }
        let sessions = &self.enterprise.sessions;
        let session = match sessions.authenticate_request(request).await {
            Ok(session) => session,
            Err(SessionError::Store(error)) => return Err(error),
            Err(error) => {
                let (code, message) = error.code().unwrap_or(("invalid_session", "sign in again"));
                let mut response = Response::error(401, code, message);
                if !matches!(error, SessionError::NoCredentials) {
                    response
                        .headers
                        .push(Header::new("set-cookie", &sessions.cookie_header(None)));
                }
                return Ok(MiddlewareAction::Respond(response));
            }
        };
        let action = MiddlewareAction::next().with_identity(session.identity);
        Ok(match session.reissued {
            Some(cookie) => action.with_header("set-cookie", &cookie),
            None => action,
        })
    }
}

/// `user_auth` override: the identity of a valid session cookie.
struct SessionAuth {
    enterprise: Arc<Enterprise>,
}

impl UserAuth for SessionAuth {
    async fn identify(&self, request: &RequestView<'_>) -> Result<Option<Identity>, PluginError> {
        match self.enterprise.sessions.authenticate_request(request).await {
            Ok(session) => Ok(Some(session.identity)),
            Err(SessionError::Store(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }

    /// Revokes the session server-side (a copied cookie dies with it), deletes the user's tokens when it was
    /// their last session, and clears the cookie.
    async fn sign_out(
        &self,
        request: &RequestView<'_>,
        identity: &IdentityView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        let sessions = &self.enterprise.sessions;
        let uid = identity.user_id();
        if let Ok(session) = sessions.authenticate_request(request).await
            && session.identity.user_id.as_str() == uid
        {
            self.enterprise.end_session(&session).await?;
        }
        tracing::info!(user = %uid, "signed out");
        Ok(vec![HeaderChange::Append(Header::new(
            "set-cookie",
            &sessions.cookie_header(None),
        ))])
    }
}

/// `server_config` override: the SaaS configuration.
struct SaasConfig {
    enterprise: Arc<Enterprise>,
}

impl ServerConfig for SaasConfig {
    async fn config(&self) -> Result<Value, PluginError> {
        let config = &self.enterprise.config;
        Ok(json!({
            "APP_MODE": "saas",
            "GITHUB_CLIENT_ID": config.github_client_id,
            "APP_SLUG": config.app_slug,
            "PROVIDERS_CONFIGURED": ["github"],
            // The frontend signs in at `https://{AUTH_URL}/realms/...`, which this plugin serves.
            "AUTH_URL": config.public_url,
            "FEATURE_FLAGS": {
                "ENABLE_BILLING": false,
                "HIDE_LLM_SETTINGS": false,
                "ENABLE_JIRA": false,
                "ENABLE_JIRA_DC": false,
                "ENABLE_LINEAR": false,
            },
        }))
    }
}

fn init(host: Host, config: Value) -> Result<Components, PluginError> {
    let mut config = EnterpriseConfig::from_json(&config).map_err(PluginError::invalid_config)?;
    let oidc = config.oidc.take().map(|oidc| Oidc::new(oidc, &config.public_url));
    let oauth = oauth_client(&config).map_err(PluginError::invalid_config)?;
    let keys = Arc::new(Keyring::new(&config.secret_key, &config.previous_secret_keys));
    let sessions = Sessions::new(
        host,
        Arc::clone(&keys),
        SessionPolicy {
            ttl: config.session_ttl_secs,
            max_age: config.session_max_age_secs,
            max_per_user: config.max_sessions_per_user,
            secure: config.secure_cookies(),
            https: config.is_https(),
            auth_kind: match config.login {
                config::Login::Github => "github_oauth",
                config::Login::Oidc => "oidc",
            },
        },
    );
    let enterprise = Arc::new(Enterprise {
        host,
        tokens: TokenStore::new(host, Arc::clone(&keys)),
        sessions,
        keys,
        oauth,
        oidc,
        config,
        refresh_locks: Mutex::new(HashMap::new()),
    });
    tracing::info!(
        public_url = %enterprise.config.public_url,
        github = %enterprise.config.github_web_url,
        previous_keys = enterprise.config.previous_secret_keys.len(),
        "enterprise plugin initialised"
    );
    let public_origin = enterprise.config.public_origin().to_owned();
    let git_tokens = enterprise.config.git_tokens;
    let components = Components::new()
        .public_origin(&public_origin)
        .middleware(SessionGate {
            enterprise: Arc::clone(&enterprise),
        })
        .routes(
            OAuthRoutes {
                enterprise: Arc::clone(&enterprise),
            }
            .router(),
        )
        .server_config(SaasConfig {
            enterprise: Arc::clone(&enterprise),
        })
        .user_auth(SessionAuth {
            enterprise: Arc::clone(&enterprise),
        });
    Ok(match git_tokens {
        GitTokens::GithubApp => components.git_service(Github(AppTokenAccess { enterprise })),
        GitTokens::KeycloakBroker => components.git_service(Github(BrokerAccess { enterprise })),
    })
}

export_plugin! {
    name: "enterprise",
    description: "GitHub App OAuth login, signed sessions, rotating tokens and SaaS config",
    provides: [Middleware, Routes, ServerConfig, UserAuth, GitService],
    init: init,
}
