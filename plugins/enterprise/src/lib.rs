//! The enterprise plugin: turns the single-user host into a multi-user SaaS server (README.md, "Enterprise mode"),
//! only by overriding host slots (`server_config`, `user_auth`, `git_service`) and stacking onto them (a
//! middleware that requires a session on every route the host does not mark public, and the sign-in routes).
//!
//! What each module does:
//! - [`config`]: the settings, read and checked;
//! - [`keys`]: HKDF-derived cookie MAC and token encryption keys;
//! - [`session`]: signed cookies with server-side records; [`verified_cookies`]: the cookies whose signature
//!   checked out, so a signature is checked once;
//! - [`provider`]: whoever signs users in (the GitHub App, or an OpenID Connect provider) and its OAuth client;
//! - [`sign_in`]: the sign-in routes;
//! - [`tokens`]: the users' tokens, sealed, refreshed single-flight and revoked;
//! - [`git`]: the git service with the user's token;
//! - [`gate`], [`user_auth`], [`saas_config`]: the middleware and the two overrides that read the session;
//! - [`transport`]: the one outbound HTTP transport, one deadline;
//! - [`clock`]: Unix time.
//!
//! What the parts share is [`Enterprise`]; `init` below wires them.

pub mod clock;
pub mod config;
mod enterprise;
pub mod gate;
pub mod git;
pub mod keys;
pub mod provider;
pub mod saas_config;
pub mod session;
pub mod sign_in;
pub mod tokens;
pub mod transport;
pub mod user_auth;
pub mod verified_cookies;

pub use enterprise::Enterprise;

use std::sync::Arc;

use openhost_github::Github;
use openhost_plugin_api::prelude::*;
use serde_json::Value;

use crate::{
    config::{EnterpriseConfig, SignIn},
    gate::SessionGate,
    git::{app_tokens::AppTokenAccess, broker::BrokerAccess},
    keys::Keyring,
    provider::Provider,
    saas_config::SaasConfig,
    session::{SessionPolicy, Sessions},
    sign_in::SignInRoutes,
    tokens::{Tokens, revoke::Revocation, store::TokenStore},
    user_auth::SessionAuth,
};

fn init(host: Host, config: Value) -> Result<Components, PluginError> {
    let config = EnterpriseConfig::from_json(&config).map_err(PluginError::invalid_config)?;
    let provider = Arc::new(Provider::new(&config).map_err(PluginError::invalid_config)?);
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
            auth_kind: match config.sign_in {
                SignIn::Github(_) => "github_oauth",
                SignIn::Oidc(_) => "oidc",
            },
        },
    );
    let revocation = config
        .github_app()
        .map(|app| Revocation::new(host, app, &config.github_api_url));
    let tokens = Tokens::new(
        host,
        TokenStore::new(host, Arc::clone(&keys)),
        Arc::clone(&provider),
        revocation,
        config.refresh_margin_secs,
    );
    let enterprise = Arc::new(Enterprise {
        host,
        config,
        keys,
        provider,
        tokens,
        sessions,
    });
    tracing::info!(
        public_url = %enterprise.config.public_url,
        github = %enterprise.config.github_web_url,
        previous_keys = enterprise.config.previous_secret_keys.len(),
        "enterprise plugin initialised"
    );
    let components = Components::new()
        .public_origin(enterprise.config.public_origin())
        .middleware(SessionGate {
            enterprise: Arc::clone(&enterprise),
        })
        .routes(SignInRoutes::new(Arc::clone(&enterprise)).router())
        .server_config(SaasConfig {
            enterprise: Arc::clone(&enterprise),
        })
        .user_auth(SessionAuth {
            enterprise: Arc::clone(&enterprise),
        });
    Ok(match BrokerAccess::new(Arc::clone(&enterprise)) {
        Some(broker) => components.git_service(Github(broker)),
        None => components.git_service(Github(AppTokenAccess { enterprise })),
    })
}

export_plugin! {
    name: "enterprise",
    description: "GitHub App OAuth login, signed sessions, rotating tokens and SaaS config",
    provides: [Middleware, Routes, ServerConfig, UserAuth, GitService],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}
