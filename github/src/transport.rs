//! How a request reaches the API (its base URL and headers), and one API call over any transport: the crate does no I/O of its own, the caller says how a GET is sent (the
//! host's HTTP client, a plugin's host service). The path, the headers and the reading of the answer are this
//! crate's, once, for every caller.

use std::future::Future;

use crate::{GitData, GitError, GitQuery, interpret};

/// The REST API version openhost is written against.
pub const API_VERSION: &str = "2022-11-28";
/// The media type GitHub recommends.
pub const ACCEPT: &str = "application/vnd.github+json";

/// The API base URL for a token: `host` set means a GitHub Enterprise Server at `https://{host}/api/v3`.
pub fn api_base(default_base: &str, host: Option<&str>) -> String {
    match host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(host) => format!("https://{}/api/v3", host.trim_end_matches('/')),
        None => default_base.trim_end_matches('/').to_owned(),
    }
}

/// Headers of every API request. `user_agent` is required by GitHub.
pub fn request_headers(token: &str, user_agent: &str) -> Vec<(&'static str, String)> {
    vec![
        ("authorization", format!("Bearer {token}")),
        ("accept", ACCEPT.to_owned()),
        ("x-github-api-version", API_VERSION.to_owned()),
        ("user-agent", user_agent.to_owned()),
    ]
}

/// An HTTP answer as a transport hands it back.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    /// Names as sent; looked up case-insensitively.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a GET and reads the answer, whatever its status. An `Err` is a transport failure: nothing was answered.
pub trait Transport: Sync {
    fn get(
        &self,
        url: String,
        headers: Vec<(&'static str, String)>,
    ) -> impl Future<Output = Result<Answer, String>> + Send;
}

/// Asks the GitHub API at `api_url` for `query` with `token` over `transport`, and reads the answer (`now_epoch`:
/// Unix seconds, for rate-limit resets). A transport failure is "GitHub cannot be reached".
pub async fn call(
    transport: &impl Transport,
    api_url: &str,
    token: &str,
    user_agent: &str,
    query: &GitQuery,
    now_epoch: u64,
) -> Result<GitData, GitError> {
    let url = format!("{api_url}{}", query.path_and_query());
    let answer = transport
        .get(url, request_headers(token, user_agent))
        .await
        .map_err(|e| GitError::Unavailable(format!("GitHub cannot be reached ({e})")))?;
    interpret(
        query,
        answer.status,
        |name| answer.header(name),
        &answer.body,
        now_epoch,
    )
}
