//! Reading `[plugins.enterprise.config]`: serde reads the table's shape into [`Raw`] (each key typed, unknown
//! keys kept aside), then one small check per concern turns it into an [`EnterpriseConfig`]. No check stops at
//! the first problem: an operator fixing a config sees every missing or invalid key at once, in one line, and the
//! plugin refuses to start until there are none.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::Value;

use super::{
    DEFAULT_MAX_SESSIONS_PER_USER, DEFAULT_REFRESH_MARGIN_SECS, DEFAULT_SESSION_MAX_AGE_SECS, DEFAULT_SESSION_TTL_SECS,
    EnterpriseConfig, GithubApp, OidcConfig, SignIn,
};

const MIN_SECRET_KEY_BYTES: usize = 32;
const DEFAULT_GITHUB_WEB_URL: &str = "https://github.com";
const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
const DEFAULT_BROKER_ALIAS: &str = "github";
const DEFAULT_OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Everything wrong with a config, in the order found.
type Problems = Vec<String>;

/// One key of the table as serde found it: absent (or an empty string), of its type, or of another type (the
/// reason kept, so that the other keys are still read).
#[derive(Default)]
enum Setting<T> {
    #[default]
    Absent,
    Given(T),
    Invalid(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Setting<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Setting::Absent,
            Value::String(text) if text.trim().is_empty() => Setting::Absent,
            Value::String(text) => Setting::read(Value::String(text.trim().to_owned())),
            value => Setting::read(value),
        })
    }
}

impl<T: DeserializeOwned> Setting<T> {
    fn read(value: Value) -> Setting<T> {
        match T::deserialize(value) {
            Ok(value) => Setting::Given(value),
            Err(error) => Setting::Invalid(error.to_string()),
        }
    }
}

impl<T> Setting<T> {
    /// The value, or `None` with the problem noted: an invalid value, or an absent one when `required`.
    fn take(self, key: &str, required: bool, problems: &mut Problems) -> Option<T> {
        match self {
            Setting::Given(value) => Some(value),
            Setting::Absent if required => {
                problems.push(format!("`{key}` is required"));
                None
            }
            Setting::Absent => None,
            Setting::Invalid(reason) => {
                problems.push(format!("`{key}`: {reason}"));
                None
            }
        }
    }
}

/// `login`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum LoginKind {
    Github,
    Oidc,
}

/// `git_tokens`: it only restates what the sign-in decides, so it is checked against `login` and then dropped.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum GitTokensKey {
    GithubApp,
    KeycloakBroker,
}

/// The table's shape: every key the plugin reads, typed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Raw {
    login: Setting<LoginKind>,
    git_tokens: Setting<GitTokensKey>,
    github_client_id: Setting<String>,
    github_client_secret: Setting<String>,
    #[serde(flatten)]
    oidc: RawOidc,
    public_url: Setting<String>,
    secret_key: Setting<String>,
    previous_secret_keys: Setting<Vec<String>>,
    github_web_url: Setting<String>,
    github_api_url: Setting<String>,
    app_slug: Setting<String>,
    session_ttl_secs: Setting<u64>,
    session_max_age_secs: Setting<u64>,
    max_sessions_per_user: Setting<u64>,
    refresh_margin_secs: Setting<u64>,
    /// Keys the plugin does not know: a typo, which would otherwise silently keep a default.
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// The keys of `login = "oidc"`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawOidc {
    oidc_issuer: Setting<String>,
    oidc_client_id: Setting<String>,
    oidc_client_secret: Setting<String>,
    oidc_scopes: Setting<Vec<String>>,
    keycloak_broker_alias: Setting<String>,
}

impl EnterpriseConfig {
    /// Reads and checks the plugin's config table; the error lists every problem, in one line.
    pub fn from_json(config: &Value) -> Result<EnterpriseConfig, String> {
        parse(config)
    }
}

fn parse(config: &Value) -> Result<EnterpriseConfig, String> {
    let raw = match config {
        Value::Null => Raw::default(),
        Value::Object(_) => Raw::deserialize(config).map_err(|e| format!("the config table: {e}"))?,
        _ => return Err("the config must be a table".to_owned()),
    };
    let mut problems: Problems = raw.unknown.keys().map(|key| format!("unknown key `{key}`")).collect();
    let problems = &mut problems;

    let login = raw.login.take("login", false, problems).unwrap_or(LoginKind::Github);
    check_git_tokens(login, raw.git_tokens.take("git_tokens", false, problems), problems);
    let github = login == LoginKind::Github;
    let github_app = github_app(raw.github_client_id, raw.github_client_secret, github, problems);
    let oidc = oidc(raw.oidc, !github, problems);
    let sign_in = match login {
        LoginKind::Github => github_app.map(SignIn::Github),
        LoginKind::Oidc => oidc.map(SignIn::Oidc),
    };

    let public_url = url(raw.public_url, "public_url", true, problems);
    let github_web_url = url(raw.github_web_url, "github_web_url", false, problems);
    let github_api_url = url(raw.github_api_url, "github_api_url", false, problems);
    let secret_key = raw
        .secret_key
        .take("secret_key", true, problems)
        .and_then(|text| key_bytes("secret_key", &text).map_err(|p| problems.push(p)).ok());
    let previous_secret_keys = previous_keys(raw.previous_secret_keys, problems);
    let app_slug = raw.app_slug.take("app_slug", false, problems);
    let session_ttl_secs = positive(
        raw.session_ttl_secs,
        "session_ttl_secs",
        DEFAULT_SESSION_TTL_SECS,
        problems,
    );
    let session_max_age_secs = positive(
        raw.session_max_age_secs,
        "session_max_age_secs",
        DEFAULT_SESSION_MAX_AGE_SECS,
        problems,
    );
    let max_sessions_per_user = positive(
        raw.max_sessions_per_user,
        "max_sessions_per_user",
        DEFAULT_MAX_SESSIONS_PER_USER,
        problems,
    );
    let refresh_margin_secs = raw
        .refresh_margin_secs
        .take("refresh_margin_secs", false, problems)
        .unwrap_or(DEFAULT_REFRESH_MARGIN_SECS);

    match (sign_in, public_url, secret_key) {
        (Some(sign_in), Some(public_url), Some(secret_key)) if problems.is_empty() => Ok(EnterpriseConfig {
            sign_in,
            public_url,
            secret_key,
            previous_secret_keys,
            github_web_url: github_web_url.unwrap_or_else(|| DEFAULT_GITHUB_WEB_URL.to_owned()),
            github_api_url: github_api_url.unwrap_or_else(|| DEFAULT_GITHUB_API_URL.to_owned()),
            app_slug,
            session_ttl_secs,
            session_max_age_secs,
            max_sessions_per_user,
            refresh_margin_secs,
        }),
        (None, ..) if problems.is_empty() => Err("the sign-in is not configured".to_owned()),
        _ => Err(problems.join("; ")),
    }
}

/// `git_tokens`, when given, must be the sign-in's own source of tokens.
fn check_git_tokens(login: LoginKind, git_tokens: Option<GitTokensKey>, problems: &mut Problems) {
    match (login, git_tokens) {
        (LoginKind::Oidc, Some(GitTokensKey::GithubApp)) => problems.push(
            "`login = \"oidc\"` needs `git_tokens = \"keycloak_broker\"`: GitHub App tokens come from a GitHub \
             sign-in, which the OpenID Connect sign-in replaces"
                .to_owned(),
        ),
        (LoginKind::Github, Some(GitTokensKey::KeycloakBroker)) => {
            problems.push("`git_tokens = \"keycloak_broker\"` needs `login = \"oidc\"`".to_owned())
        }
        _ => {}
    }
}

/// The GitHub App's credentials, required when GitHub signs users in (`used`).
fn github_app(
    client_id: Setting<String>,
    client_secret: Setting<String>,
    used: bool,
    problems: &mut Problems,
) -> Option<GithubApp> {
    let client_id = client_id.take("github_client_id", used, problems);
    let client_secret = client_secret.take("github_client_secret", used, problems);
    Some(GithubApp {
        client_id: client_id?,
        client_secret: client_secret?,
    })
}

/// The OpenID Connect provider, required when it signs users in (`used`).
fn oidc(raw: RawOidc, used: bool, problems: &mut Problems) -> Option<OidcConfig> {
    let issuer = url(raw.oidc_issuer, "oidc_issuer", used, problems);
    let client_id = raw.oidc_client_id.take("oidc_client_id", used, problems);
    let client_secret = raw.oidc_client_secret.take("oidc_client_secret", used, problems);
    let scopes = raw
        .oidc_scopes
        .take("oidc_scopes", false, problems)
        .unwrap_or_else(|| DEFAULT_OIDC_SCOPES.map(str::to_owned).to_vec());
    if scopes.iter().any(|scope| scope.is_empty() || scope.contains(' ')) {
        problems.push("`oidc_scopes` must be scope names, without spaces".to_owned());
    } else if used && !scopes.iter().any(|scope| scope == "openid") {
        problems.push("`oidc_scopes` must include \"openid\"".to_owned());
    }
    let broker_alias = raw
        .keycloak_broker_alias
        .take("keycloak_broker_alias", false, problems)
        .unwrap_or_else(|| DEFAULT_BROKER_ALIAS.to_owned());
    if !broker_alias
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        problems.push("`keycloak_broker_alias` must be letters, digits, `-` and `_`".to_owned());
    }
    Some(OidcConfig {
        issuer: issuer?,
        client_id: client_id?,
        client_secret: client_secret?,
        scopes,
        broker_alias,
    })
    .filter(|_| used)
}

/// An http(s) URL, without its trailing slash.
fn url(setting: Setting<String>, key: &str, required: bool, problems: &mut Problems) -> Option<String> {
    let url = setting.take(key, required, problems)?;
    if is_http_url(&url) {
        Some(url.trim_end_matches('/').to_owned())
    } else {
        problems.push(format!("`{key}` must be an http:// or https:// URL, not `{url}`"));
        None
    }
}

fn is_http_url(text: &str) -> bool {
    (text.starts_with("http://") || text.starts_with("https://"))
        && text.len() > "https://".len()
        && !text.contains(char::is_whitespace)
}

/// The keys that verified cookies before the current one (key rotation).
fn previous_keys(setting: Setting<Vec<String>>, problems: &mut Problems) -> Vec<Vec<u8>> {
    let texts = setting
        .take("previous_secret_keys", false, problems)
        .unwrap_or_default();
    texts
        .iter()
        .enumerate()
        .filter_map(|(i, text)| {
            key_bytes(&format!("previous_secret_keys[{i}]"), text)
                .map_err(|p| problems.push(p))
                .ok()
        })
        .collect()
}

/// A count or a duration: more than 0.
fn positive(setting: Setting<u64>, key: &str, default: u64, problems: &mut Problems) -> u64 {
    let value = setting.take(key, false, problems).unwrap_or(default);
    if value == 0 {
        problems.push(format!("`{key}` must be more than 0"));
    }
    value
}

/// Decodes a key in standard or URL-safe base64, padded or not.
fn decode_key(text: &str) -> Option<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GitTokens;
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
    fn wrong_types_are_reported_with_the_rest_and_by_key() {
        let err = EnterpriseConfig::from_json(&json!({
            "login": "saml", "github_client_id": 7, "public_url": "https://a.example", "secret_key": KEY,
            "session_ttl_secs": "a week", "previous_secret_keys": "one", "max_sessions_per_user": 0,
        }))
        .err()
        .unwrap();
        for needle in [
            "`login`: unknown variant `saml`, expected `github` or `oidc`",
            "`github_client_id`: invalid type: integer `7`, expected a string",
            "`session_ttl_secs`: invalid type: string \"a week\", expected u64",
            "`previous_secret_keys`: invalid type: string \"one\", expected a sequence",
            "`max_sessions_per_user` must be more than 0",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
        assert!(EnterpriseConfig::from_json(&json!("login = github")).is_err_and(|e| e.contains("table")));
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
        assert_eq!(config.git_tokens(), GitTokens::KeycloakBroker);
        let SignIn::Oidc(oidc) = config.sign_in else {
            panic!("an OpenID Connect sign-in")
        };
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
