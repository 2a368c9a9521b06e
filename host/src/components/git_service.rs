//! The open-source `git_service`: GitHub's REST API with the personal access token from the user's settings.
//! `github_api_url` sets the API base (GitHub Enterprise Server: `https://HOST/api/v3`); a token stored with a
//! `host` talks to that host instead.

use std::time::{SystemTime, UNIX_EPOCH};

use openhost_github::{GitError, GitQuery, api_base, interpret, request_headers};
use openhost_plugin_api::{GitRequest, GitService, IdentityView, PluginError};
use serde_json::Value;

use crate::{USER_AGENT, services::error_chain, settings::SettingsStore};

/// GitHub with the user's PAT.
pub struct GithubService {
    pub default_api_url: String,
    pub http: reqwest::Client,
    pub settings: SettingsStore,
}

impl GitService for GithubService {
    async fn call(&self, identity: &IdentityView<'_>, request: &GitRequest<'_>) -> Result<Value, PluginError> {
        let params = request.params.iter().map(|p| (p.name.as_str(), p.value.as_str()));
        let query = GitQuery::from_params(request.operation, params)?;
        let settings = self
            .settings
            .get(identity.user_id.as_str())
            .map_err(|e| PluginError::Host(e.to_string().into()))?;
        let token = settings
            .as_ref()
            .and_then(|s| s.github_token())
            .ok_or(GitError::TokenMissing)?;
        let base = api_base(&self.default_api_url, token.host.as_deref());
        Ok(fetch(&self.http, &base, token.token.expose(), &query).await?)
    }
}

/// Sends one API request and interprets the answer.
pub async fn fetch(http: &reqwest::Client, base: &str, token: &str, query: &GitQuery) -> Result<Value, GitError> {
    let mut request = http.get(format!("{base}{}", query.path_and_query()));
    for (name, value) in request_headers(token, USER_AGENT) {
        request = request.header(name, value);
    }
    // `without_url`: errors are logged, and only the path is ours to show.
    let unavailable = |e: reqwest::Error| GitError::Unavailable(error_chain(&e.without_url()));
    let response = request.send().await.map_err(unavailable)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(unavailable)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    interpret(
        query,
        status,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        &body,
        now,
    )
}
