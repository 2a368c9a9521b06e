//! `[plugins.enterprise.config]` (README.md, "Enterprise mode"): what the plugin runs with, once
//! [`parse`] has read and checked it. Who signs users in is one tagged enum, [`SignIn`], so a GitHub App's
//! credentials exist only when GitHub signs users in and an OpenID Connect provider only when it does.

// Adds `EnterpriseConfig::from_json`: serde reads the table, small checks follow.
mod parse;

pub const DEFAULT_SESSION_TTL_SECS: u64 = 7 * 24 * 3600;
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 300;
pub const DEFAULT_SESSION_MAX_AGE_SECS: u64 = 30 * 24 * 3600;
pub const DEFAULT_MAX_SESSIONS_PER_USER: u64 = 20;

/// Who signs users in (`login`), with what that sign-in needs.
pub enum SignIn {
    /// `login = "github"` (the default): the GitHub App's OAuth web flow.
    Github(GithubApp),
    /// `login = "oidc"`: any OpenID Connect provider (Keycloak, ...).
    Oidc(OidcConfig),
}

/// The GitHub App users sign in with. `Debug` is not derived: it holds the client secret.
pub struct GithubApp {
    pub client_id: String,
    pub client_secret: String,
}

/// `login = "oidc"`'s provider. `Debug` is not derived: it holds the client secret.
#[derive(Clone)]
pub struct OidcConfig {
    /// Without a trailing slash.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub broker_alias: String,
}

/// Where the git service's GitHub tokens come from (`git_tokens`); each sign-in has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitTokens {
    /// The GitHub App's user tokens from the GitHub sign-in, refreshed here.
    GithubApp,
    /// Keycloak's identity broker (`GET {issuer}/broker/{alias}/token`), which stored them when the user linked
    /// GitHub.
    KeycloakBroker,
}

/// The checked configuration. `Debug` is not derived: it holds the client secret and keys.
pub struct EnterpriseConfig {
    pub sign_in: SignIn,
    /// Without a trailing slash.
    pub public_url: String,
    pub secret_key: Vec<u8>,
    pub previous_secret_keys: Vec<Vec<u8>>,
    /// Without a trailing slash.
    pub github_web_url: String,
    /// Without a trailing slash.
    pub github_api_url: String,
    pub app_slug: Option<String>,
    pub session_ttl_secs: u64,
    /// A session ends this long after sign-in, however often it is used.
    pub session_max_age_secs: u64,
    /// Beyond this, a new sign-in ends the user's oldest session.
    pub max_sessions_per_user: u64,
    pub refresh_margin_secs: u64,
}

impl EnterpriseConfig {
    /// The GitHub App users sign in with, if they sign in with GitHub.
    pub fn github_app(&self) -> Option<&GithubApp> {
        match &self.sign_in {
            SignIn::Github(app) => Some(app),
            SignIn::Oidc(_) => None,
        }
    }

    /// Where the git service's GitHub tokens come from: the sign-in decides.
    pub fn git_tokens(&self) -> GitTokens {
        match self.sign_in {
            SignIn::Github(_) => GitTokens::GithubApp,
            SignIn::Oidc(_) => GitTokens::KeycloakBroker,
        }
    }

    /// `public_url` without its path: where browsers reach the server (the host trusts it as an origin).
    pub fn public_origin(&self) -> &str {
        let authority_start = self.public_url.find("://").map_or(0, |i| i + 3);
        let end = self.public_url[authority_start..]
            .find('/')
            .map_or(self.public_url.len(), |i| authority_start + i);
        &self.public_url[..end]
    }

    /// Whether browsers reach the server over https: cookies then get the `__Host-`/`__Secure-` name prefixes,
    /// which a browser accepts only from a secure origin and (for `__Host-`) never scopes to other subdomains.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Cookies get `Secure` unless the server is plain http on a loopback name.
    pub fn secure_cookies(&self) -> bool {
        let Some(rest) = self.public_url.strip_prefix("http://") else {
            return true;
        };
        let host = rest.split('/').next().unwrap_or_default();
        let name = if host.starts_with('[') {
            host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_owned()
        };
        !matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }
}
