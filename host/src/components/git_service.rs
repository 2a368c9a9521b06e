//! The open-source `git_service`: GitHub's REST API with the personal access token from the user's settings.
//! `github_api_url` sets the API base (GitHub Enterprise Server: `https://HOST/api/v3`); a token stored with a
//! `host` talks to that host instead.

use openhost_github::{GitData, GitError, GitQuery, GithubAccess, api_base, interpret, request_headers};
use openhost_plugin_api::PluginError;

use crate::{USER_AGENT, outbound, settings::SettingsStore, text::now_epoch};

/// GitHub with the user's PAT, over the host's HTTP client.
pub struct PatAccess {
    pub default_api_url: String,
    pub http: reqwest::Client,
    pub settings: SettingsStore,
}

impl GithubAccess for PatAccess {
    async fn get(&self, user_id: &str, query: &GitQuery) -> Result<GitData, PluginError> {
        let settings = self
            .settings
            .get(user_id)
            .await
            .map_err(|e| PluginError::Host(e.to_string().into()))?;
        let token = settings
            .as_ref()
            .and_then(|s| s.github_token())
            .ok_or(GitError::TokenMissing)?;
        let base = api_base(&self.default_api_url, token.host.as_deref());
        Ok(fetch(&self.http, &base, token.token.expose(), query).await?)
    }
}

/// Sends one API request and interprets the answer. A transport failure is "GitHub cannot be reached", nothing
/// more ([`outbound`]).
pub async fn fetch(http: &reqwest::Client, base: &str, token: &str, query: &GitQuery) -> Result<GitData, GitError> {
    let mut request = http.get(format!("{base}{}", query.path_and_query()));
    for (name, value) in request_headers(token, USER_AGENT) {
        request = request.header(name, value);
    }
    let (status, headers, body) = outbound::send(request)
        .await
        .map_err(|e| GitError::Unavailable(format!("GitHub cannot be reached ({e})")))?;
    interpret(
        query,
        status,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        &body,
        now_epoch(),
    )
}
