//! The host's own routes (DESIGN.md section 6). Each is a [`HostRoute`], so the registry can check plugin routes
//! against them. Routes ask `user_auth` who the request is for and `git_service` for data *for that identity*;
//! no route reads a token itself.

use std::sync::Arc;

use openhost_github::{GitError, GitQuery};
use openhost_plugin_api::{
    GitOperation, GitRequest, Identity, PluginError, QueryParam, RequestView, Response,
    types::{RSlice, RStr},
};
use serde_json::{Map, Value, json};

use crate::{
    components::git_service::fetch,
    registry::Owner,
    server::App,
    settings::{ProviderToken, Secret, SettingsError},
};

/// A route served by the host itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRoute {
    Healthz,
    Plugins,
    OptionsConfig,
    GetSettings,
    PostSettings,
    AddGitProviders,
    UnsetProviderTokens,
    Git(GitOperation),
    Authenticate,
    Logout,
}

impl HostRoute {
    /// Method, path and route of everything the host serves.
    pub const ALL: &'static [(&'static str, &'static str, HostRoute)] = &[
        ("GET", "/healthz", HostRoute::Healthz),
        ("GET", "/api/plugins", HostRoute::Plugins),
        ("GET", "/api/options/config", HostRoute::OptionsConfig),
        ("GET", "/api/settings", HostRoute::GetSettings),
        ("POST", "/api/settings", HostRoute::PostSettings),
        ("POST", "/api/add-git-providers", HostRoute::AddGitProviders),
        ("POST", "/api/unset-provider-tokens", HostRoute::UnsetProviderTokens),
        ("GET", "/api/user/info", HostRoute::Git(GitOperation::UserInfo)),
        (
            "GET",
            "/api/user/repositories",
            HostRoute::Git(GitOperation::Repositories),
        ),
        (
            "GET",
            "/api/user/search/repositories",
            HostRoute::Git(GitOperation::SearchRepositories),
        ),
        (
            "GET",
            "/api/user/repository/branches",
            HostRoute::Git(GitOperation::Branches),
        ),
        (
            "GET",
            "/api/user/installations",
            HostRoute::Git(GitOperation::Installations),
        ),
        ("POST", "/api/authenticate", HostRoute::Authenticate),
        ("POST", "/api/logout", HostRoute::Logout),
    ];

    /// Whether the route reads a request body.
    pub fn takes_body(self) -> bool {
        matches!(self, HostRoute::PostSettings | HostRoute::AddGitProviders)
    }
}

/// A failure of a host route: an answer, blamed on whoever produced it.
#[derive(Debug)]
pub struct Failure {
    pub owner: Owner,
    pub error: Box<PluginError>,
}

impl Failure {
    fn new(owner: &Owner, error: PluginError) -> Failure {
        Failure {
            owner: owner.clone(),
            error: Box::new(error),
        }
    }

    fn host(status: u16, code: &str, message: impl Into<String>) -> Failure {
        Failure::new(&Owner::Host, PluginError::http(status, code, message))
    }
}

impl From<SettingsError> for Failure {
    fn from(error: SettingsError) -> Failure {
        match error {
            SettingsError::Invalid(message) => Failure::host(400, "invalid_settings", message),
            other => Failure::new(&Owner::Host, PluginError::Host(other.to_string().into())),
        }
    }
}

impl From<GitError> for Failure {
    fn from(error: GitError) -> Failure {
        Failure::new(&Owner::Host, error.into())
    }
}

type Outcome = Result<Response, Failure>;

fn ok_json(value: &Value) -> Outcome {
    Ok(Response::json(200, value))
}

fn message(text: &str) -> Outcome {
    ok_json(&json!({"message": text}))
}

/// Answers a host route. `who` receives the identity `user_auth` resolved, if the route asked.
pub async fn handle(
    app: &App,
    route: HostRoute,
    request: &RequestView<'_>,
    body: &[u8],
    who: &mut Option<Identity>,
) -> Outcome {
    match route {
        HostRoute::Healthz => ok_json(&json!({"status": "ok"})),
        HostRoute::Plugins => ok_json(&app.registry.describe()),
        HostRoute::OptionsConfig => {
            let active = &app.registry.server_config;
            let blame = |error| Failure::new(&active.blame(), error);
            let object = Arc::clone(&active.object);
            let text = app
                .blocking_within_deadline(move || object.config_json())
                .await
                .map_err(blame)?;
            let config: Value = serde_json::from_str(&text)
                .map_err(|e| blame(PluginError::other(format!("server_config returned invalid JSON: {e}"))))?;
            ok_json(&config)
        }
        HostRoute::GetSettings => {
            let identity = identify(app, request, who).await?;
            match app.settings.get(&identity.user_id)? {
                Some(settings) => ok_json(&settings.public_json()),
                None => Err(Failure::host(
                    404,
                    "settings_not_found",
                    "no settings are stored for this user",
                )),
            }
        }
        HostRoute::PostSettings => {
            let identity = identify(app, request, who).await?;
            let update = json_object(body, "invalid_settings")?;
            app.settings
                .update(&identity.user_id, |settings| settings.apply_update(&update))
                .await?;
            message("Settings stored")
        }
        HostRoute::AddGitProviders => add_git_providers(app, request, body, who).await,
        HostRoute::UnsetProviderTokens => {
            let identity = identify(app, request, who).await?;
            app.settings
                .update(&identity.user_id, |settings| {
                    settings.provider_tokens.clear();
                    Ok(())
                })
                .await?;
            message("Unset Git provider tokens")
        }
        HostRoute::Git(operation) => {
            let identity = identify(app, request, who).await?;
            git(app, &identity, operation, request).await
        }
        HostRoute::Authenticate => {
            identify(app, request, who).await?;
            message("User authenticated")
        }
        HostRoute::Logout => message("User logged out"),
    }
}

/// Who the request is for: the identity a middleware established, else what `user_auth` says. The answer is
/// also left in `who`, so the response hooks see who was served.
async fn identify(app: &App, request: &RequestView<'_>, who: &mut Option<Identity>) -> Result<Identity, Failure> {
    if let Some(identity) = request.identity.into_option() {
        return Ok(Identity::new(
            identity.user_id.as_str(),
            identity.login.as_str(),
            identity.auth_kind.as_str(),
        ));
    }
    let active = &app.registry.user_auth;
    let identity = match app.within_deadline(active.object.identify(*request)).await {
        Ok(identity) => identity
            .into_option()
            .ok_or_else(|| Failure::host(401, "not_authenticated", "this request is not signed in"))?,
        Err(error) => return Err(Failure::new(&active.blame(), error)),
    };
    *who = Some(identity.clone());
    Ok(identity)
}

fn json_object(body: &[u8], code: &str) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Failure::host(400, code, "the body must be a JSON object")),
        Err(e) => Err(Failure::host(400, code, format!("the body is not valid JSON: {e}"))),
    }
}

async fn git(app: &App, identity: &Identity, operation: GitOperation, request: &RequestView<'_>) -> Outcome {
    let decoded: Vec<(String, String)> = form_urlencoded::parse(request.query.as_str().as_bytes())
        .into_owned()
        .collect();
    let params: Vec<QueryParam<'_>> = decoded
        .iter()
        .map(|(name, value)| QueryParam {
            name: RStr::from(name.as_str()),
            value: RStr::from(value.as_str()),
        })
        .collect();
    let git_request = GitRequest {
        operation,
        params: RSlice::from_slice(&params),
    };
    let active = &app.registry.git_service;
    let blame = |error| Failure::new(&active.blame(), error);
    let text = app
        .within_deadline(active.object.call(identity.as_view(), git_request))
        .await
        .map_err(blame)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| blame(PluginError::other(format!("git_service returned invalid JSON: {e}"))))?;
    ok_json(&value)
}

/// `{"provider_tokens": {"github": {"token": "...", "host": null}}}`: the token is checked with GitHub's
/// `GET /user` before it is stored.
async fn add_git_providers(app: &App, request: &RequestView<'_>, body: &[u8], who: &mut Option<Identity>) -> Outcome {
    let identity = identify(app, request, who).await?;
    let invalid = |message: &str| Failure::host(400, "invalid_request", message);
    let object = json_object(body, "invalid_request")?;
    let providers = object
        .get("provider_tokens")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`provider_tokens` must be an object"))?;
    if let Some(other) = providers.keys().find(|provider| *provider != "github") {
        let other: String = other.chars().take(64).collect();
        return Err(invalid(&format!(
            "unsupported git provider `{other}` (supported: github)"
        )));
    }
    let github = providers
        .get("github")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`provider_tokens.github` must be an object"))?;
    let token = github
        .get("token")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("`provider_tokens.github.token` must be a non-empty string"))?;
    if token.len() > 512 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid("`provider_tokens.github.token` is not a token"));
    }
    let host = match github.get("host") {
        None | Some(Value::Null) => None,
        Some(Value::String(host)) if is_hostname(host) => Some(host.to_ascii_lowercase()),
        Some(_) => return Err(invalid("`provider_tokens.github.host` must be a host name or null")),
    };
    let base = openhost_github::api_base(&app.config.github_api_url, host.as_deref());
    fetch(&app.http, &base, token, &GitQuery::UserInfo).await?;
    let stored = ProviderToken {
        token: Secret::new(token.to_owned()),
        host,
    };
    app.settings
        .update(&identity.user_id, |settings| {
            settings.provider_tokens.insert("github".to_owned(), stored.clone());
            Ok(())
        })
        .await?;
    message("Git providers stored")
}

/// A DNS name with an optional port, nothing else (it becomes part of a URL).
fn is_hostname(host: &str) -> bool {
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && (port.is_empty() || port.parse::<u16>().is_ok())
}
