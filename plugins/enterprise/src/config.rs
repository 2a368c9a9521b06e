//! `[plugins.enterprise.config]` (README.md, "Enterprise mode"), validated at `init`: every missing or invalid
//! key is reported, in one line, and the plugin refuses to start.

use base64::Engine as _;
use serde_json::{Map, Value};

pub const DEFAULT_SESSION_TTL_SECS: u64 = 7 * 24 * 3600;
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 300;
pub const DEFAULT_SESSION_MAX_AGE_SECS: u64 = 30 * 24 * 3600;
pub const DEFAULT_MAX_SESSIONS_PER_USER: u64 = 20;
const MIN_SECRET_KEY_BYTES: usize = 32;

/// Who signs users in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The GitHub App's OAuth web flow.
    Github,
    /// Any OpenID Connect provider (Keycloak, ...): [`OidcConfig`].
    Oidc,
}

/// Where the git service's GitHub tokens come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitTokens {
    /// The GitHub App's user tokens from the GitHub sign-in, refreshed here.
    GithubApp,
    /// Keycloak's identity broker (`GET {issuer}/broker/{alias}/token`), which stored them when the user linked
    /// GitHub.
    KeycloakBroker,
}

/// `login = "oidc"`'s provider. `Debug` is not derived: it holds the client secret.
pub struct OidcConfig {
    /// Without a trailing slash.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub broker_alias: String,
}

/// The validated configuration. `Debug` is not derived: it holds the client secret and keys.
pub struct EnterpriseConfig {
    pub login: Login,
    pub git_tokens: GitTokens,
    /// Present when `login = "oidc"`.
    pub oidc: Option<OidcConfig>,
    /// Empty when `login = "oidc"` (no GitHub App is used).
    pub github_client_id: String,
    pub github_client_secret: String,
    /// Without a trailing slash.
    pub public_url: String,
    pub secret_key: Vec<u8>,
    pub previous_secret_keys: Vec<Vec<u8>>,
    pub github_web_url: String,
    pub github_api_url: String,
    pub app_slug: Option<String>,
    pub session_ttl_secs: u64,
    /// A session ends this long after sign-in, however often it is used.
    pub session_max_age_secs: u64,
    /// Beyond this, a new sign-in ends the user's oldest session.
    pub max_sessions_per_user: u64,
    pub refresh_margin_secs: u64,
}

const KNOWN_KEYS: &[&str] = &[
    "login",
    "git_tokens",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_scopes",
    "keycloak_broker_alias",
    "github_client_id",
    "github_client_secret",
    "public_url",
    "secret_key",
    "previous_secret_keys",
    "github_web_url",
    "github_api_url",
    "app_slug",
    "session_ttl_secs",
    "session_max_age_secs",
    "max_sessions_per_user",
    "refresh_margin_secs",
];

/// Decodes a key in standard or URL-safe base64, padded or not.
pub fn decode_key(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let trimmed = text.trim().trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
}

/// A secret key's bytes, or the problem with it.
fn key_bytes(key: &str, text: &str) -> Result<Vec<u8>, String> {
    match decode_key(text) {
        Some(bytes) if bytes.len() >= MIN_SECRET_KEY_BYTES => Ok(bytes),
        Some(bytes) => Err(format!(
            "`{key}` decodes to {} bytes; at least {MIN_SECRET_KEY_BYTES} are needed",
            bytes.len()
        )),
        None => Err(format!("`{key}` is not base64")),
    }
}

fn is_http_url(text: &str) -> bool {
    (text.starts_with("http://") || text.starts_with("https://"))
        && text.len() > "https://".len()
        && !text.contains(char::is_whitespace)
}

impl EnterpriseConfig {
    /// Parses and validates; the error lists every problem.
    pub fn from_json(config: &Value) -> Result<EnterpriseConfig, String> {
        let empty = Map::new();
        let table = config.as_object().unwrap_or(&empty);
        let mut problems: Vec<String> = table
            .keys()
            .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
            .map(|key| format!("unknown key `{key}`"))
            .collect();

        let mut text = |key: &str, required: bool| -> Option<String> {
            match table.get(key) {
                Some(Value::String(value)) if !value.trim().is_empty() => Some(value.trim().to_owned()),
                Some(Value::String(_)) | None | Some(Value::Null) => {
                    if required {
                        problems.push(format!("`{key}` is required"));
                    }
                    None
                }
                Some(_) => {
                    problems.push(format!("`{key}` must be a string"));
                    None
                }
            }
        };
        let login_text = text("login", false);
        let git_tokens_text = text("git_tokens", false);
        let oidc_login = login_text.as_deref() == Some("oidc");
        let client_id = text("github_client_id", !oidc_login);
        let client_secret = text("github_client_secret", !oidc_login);
        let oidc_issuer = text("oidc_issuer", oidc_login);
        let oidc_client_id = text("oidc_client_id", oidc_login);
        let oidc_client_secret = text("oidc_client_secret", oidc_login);
        let public_url = text("public_url", true);
        let secret_key = text("secret_key", true);
        let web_url = text("github_web_url", false).unwrap_or_else(|| "https://github.com".to_owned());
        let api_url = text("github_api_url", false).unwrap_or_else(|| "https://api.github.com".to_owned());
        let app_slug = text("app_slug", false);
        let broker_alias = text("keycloak_broker_alias", false).unwrap_or_else(|| "github".to_owned());
        let login = match login_text.as_deref() {
            None | Some("github") => Login::Github,
            Some("oidc") => Login::Oidc,
            Some(other) => {
                problems.push(format!("`login` must be \"github\" or \"oidc\", not `{other}`"));
                Login::Github
            }
        };
        let git_tokens = match git_tokens_text.as_deref() {
            None => match login {
                Login::Github => GitTokens::GithubApp,
                Login::Oidc => GitTokens::KeycloakBroker,
            },
            Some("github_app") => GitTokens::GithubApp,
            Some("keycloak_broker") => GitTokens::KeycloakBroker,
            Some(other) => {
                problems.push(format!(
                    "`git_tokens` must be \"github_app\" or \"keycloak_broker\", not `{other}`"
                ));
                GitTokens::GithubApp
            }
        };
        match (login, git_tokens) {
            (Login::Oidc, GitTokens::GithubApp) => problems.push(
                "`login = \"oidc\"` needs `git_tokens = \"keycloak_broker\"`: GitHub App tokens come from a GitHub \
                 sign-in, which the OpenID Connect sign-in replaces"
                    .to_owned(),
            ),
            (Login::Github, GitTokens::KeycloakBroker) => {
                problems.push("`git_tokens = \"keycloak_broker\"` needs `login = \"oidc\"`".to_owned())
            }
            _ => {}
        }

        let scopes = match table.get("oidc_scopes") {
            None | Some(Value::Null) => vec!["openid".to_owned(), "profile".to_owned(), "email".to_owned()],
            Some(Value::Array(items)) if items.iter().all(|item| item.as_str().is_some_and(|s| !s.contains(' '))) => {
                items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
            }
            Some(_) => {
                problems.push("`oidc_scopes` must be an array of scope names".to_owned());
                Vec::new()
            }
        };
        if oidc_login && !scopes.is_empty() && !scopes.iter().any(|scope| scope == "openid") {
            problems.push("`oidc_scopes` must include \"openid\"".to_owned());
        }
        if !broker_alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            problems.push("`keycloak_broker_alias` must be letters, digits, `-` and `_`".to_owned());
        }
        for (key, url) in [
            ("oidc_issuer", oidc_issuer.as_deref()),
            ("public_url", public_url.as_deref()),
            ("github_web_url", Some(&web_url)),
            ("github_api_url", Some(&api_url)),
        ] {
            if let Some(url) = url.filter(|url| !is_http_url(url)) {
                problems.push(format!("`{key}` must be an http:// or https:// URL, not `{url}`"));
            }
        }
        let secret_key = secret_key.and_then(|text| key_bytes("secret_key", &text).map_err(|p| problems.push(p)).ok());
        let mut previous = Vec::new();
        match table.get("previous_secret_keys") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let key = format!("previous_secret_keys[{i}]");
                    match item
                        .as_str()
                        .ok_or_else(|| format!("`{key}` must be a string"))
                        .and_then(|t| key_bytes(&key, t))
                    {
                        Ok(bytes) => previous.push(bytes),
                        Err(problem) => problems.push(problem),
                    }
                }
            }
            Some(_) => problems.push("`previous_secret_keys` must be an array of strings".to_owned()),
        }
        let mut seconds = |key: &str, default: u64| match table.get(key) {
            None | Some(Value::Null) => default,
            Some(value) => match value.as_u64() {
                Some(n) => n,
                None => {
                    problems.push(format!("`{key}` must be a whole number"));
                    default
                }
            },
        };
        let session_ttl_secs = seconds("session_ttl_secs", DEFAULT_SESSION_TTL_SECS);
        let refresh_margin_secs = seconds("refresh_margin_secs", DEFAULT_REFRESH_MARGIN_SECS);
        let session_max_age_secs = seconds("session_max_age_secs", DEFAULT_SESSION_MAX_AGE_SECS);
        let max_sessions_per_user = seconds("max_sessions_per_user", DEFAULT_MAX_SESSIONS_PER_USER);
        for (key, value) in [
            ("session_ttl_secs", session_ttl_secs),
            ("session_max_age_secs", session_max_age_secs),
            ("max_sessions_per_user", max_sessions_per_user),
        ] {
            if value == 0 {
                problems.push(format!("`{key}` must be more than 0"));
            }
        }

        let oidc = match (oidc_issuer, oidc_client_id, oidc_client_secret) {
            (Some(issuer), Some(client_id), Some(client_secret)) if oidc_login => Some(OidcConfig {
                issuer: issuer.trim_end_matches('/').to_owned(),
                client_id,
                client_secret,
                scopes,
                broker_alias,
            }),
            _ => None,
        };
        match (public_url, secret_key) {
            (Some(public_url), Some(secret_key)) if problems.is_empty() => Ok(EnterpriseConfig {
                login,
                git_tokens,
                oidc,
                github_client_id: client_id.unwrap_or_default(),
                github_client_secret: client_secret.unwrap_or_default(),
                public_url: public_url.trim_end_matches('/').to_owned(),
                secret_key,
                previous_secret_keys: previous,
                github_web_url: web_url.trim_end_matches('/').to_owned(),
                github_api_url: api_url.trim_end_matches('/').to_owned(),
                app_slug,
                session_ttl_secs,
                session_max_age_secs,
                max_sessions_per_user,
                refresh_margin_secs,
            }),
            _ => Err(problems.join("; ")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY";

    #[test]
    fn reports_every_problem_in_one_line() {
        let err = EnterpriseConfig::from_json(&json!({"secret_key": "c2hvcnQ=", "public_url": "ftp://x", "oops": 1}))
            .err()
            .unwrap();
        for needle in [
            "github_client_id",
            "github_client_secret",
            "public_url",
            "secret_key` decodes to 5 bytes",
            "unknown key `oops`",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
        assert!(!err.contains('\n'));
    }

    #[test]
    fn openid_connect_needs_its_provider_and_the_broker() {
        let base = |extra: Value| {
            let mut config = json!({"public_url": "https://a.example", "secret_key": KEY, "login": "oidc"});
            config
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            EnterpriseConfig::from_json(&config)
        };
        let err = base(json!({})).err().unwrap();
        for needle in [
            "`oidc_issuer` is required",
            "`oidc_client_id` is required",
            "`oidc_client_secret`",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
        assert!(!err.contains("github_client_id"), "no GitHub App is needed: {err}");
        let provider =
            json!({"oidc_issuer": "https://kc.example/realms/r/", "oidc_client_id": "c", "oidc_client_secret": "s"});
        let config = base(provider.clone()).unwrap();
        assert_eq!(config.git_tokens, GitTokens::KeycloakBroker);
        let oidc = config.oidc.unwrap();
        assert_eq!(
            (oidc.issuer.as_str(), oidc.broker_alias.as_str()),
            ("https://kc.example/realms/r", "github")
        );
        assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
        let mut app_tokens = provider.clone();
        app_tokens["git_tokens"] = json!("github_app");
        assert!(
            base(app_tokens)
                .err()
                .unwrap()
                .contains("needs `git_tokens = \"keycloak_broker\"`")
        );
        let mut no_openid = provider;
        no_openid["oidc_scopes"] = json!(["profile"]);
        assert!(base(no_openid).err().unwrap().contains("must include \"openid\""));
        let broker_without_oidc = EnterpriseConfig::from_json(&json!({
            "github_client_id": "id", "github_client_secret": "s", "public_url": "https://a.example",
            "secret_key": KEY, "git_tokens": "keycloak_broker",
        }));
        assert!(broker_without_oidc.err().unwrap().contains("needs `login = \"oidc\"`"));
    }

    #[test]
    fn accepts_both_base64_alphabets_and_knows_when_cookies_are_secure() {
        let config = |url: &str, key: &str| {
            EnterpriseConfig::from_json(&json!({
                "github_client_id": "id", "github_client_secret": "s", "public_url": url, "secret_key": key,
            }))
        };
        let padded = format!("{KEY}=");
        assert!(config("https://a.example", &padded).is_ok());
        assert_eq!(
            decode_key(&"+/v7".repeat(11)),
            decode_key(&"-_v7".repeat(11)),
            "both alphabets"
        );
        assert_eq!(decode_key(&"-_v7".repeat(11)).map(|k| k.len()), Some(33));
        assert!(config("https://a.example", KEY).unwrap().secure_cookies());
        assert!(!config("http://127.0.0.1:3000/", KEY).unwrap().secure_cookies());
        assert!(!config("http://localhost", KEY).unwrap().secure_cookies());
        assert!(!config("http://[::1]:8080", KEY).unwrap().secure_cookies());
        assert!(config("http://app.example", KEY).unwrap().secure_cookies());
        assert!(config("http://localhost.evil.example", KEY).unwrap().secure_cookies());
        assert_eq!(
            config("https://a.example/openhost/", KEY).unwrap().public_origin(),
            "https://a.example"
        );
        assert_eq!(
            config("http://[::1]:8080", KEY).unwrap().public_origin(),
            "http://[::1]:8080"
        );
    }
}
