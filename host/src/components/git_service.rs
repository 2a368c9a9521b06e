//! The open-source `git_service`: GitHub's REST API with the personal access token from the user's settings.
//! `github_api_url` sets the API base (GitHub Enterprise Server: `https://HOST/api/v3`); a token stored with a
//! `host` talks to that host instead.

use openhost_github::{Answer, GitData, GitError, GitQuery, GithubAccess, Transport, api_base};
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

/// Sends one API request over the host's HTTP client and interprets the answer ([`openhost_github::call`]). A
/// transport failure is "GitHub cannot be reached", nothing more ([`outbound`]).
pub async fn fetch(http: &reqwest::Client, base: &str, token: &str, query: &GitQuery) -> Result<GitData, GitError> {
    openhost_github::call(&HostClient(http), base, token, USER_AGENT, query, now_epoch()).await
}

/// The host's HTTP client as the GitHub crate's transport.
struct HostClient<'a>(&'a reqwest::Client);

impl Transport for HostClient<'_> {
    async fn get(&self, url: String, headers: Vec<(&'static str, String)>) -> Result<Answer, String> {
        let mut request = self.0.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let (status, headers, body) = outbound::send(request).await.map_err(|e| e.to_string())?;
        let headers = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        Ok(Answer { status, headers, body })
    }
}
