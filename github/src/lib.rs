//! GitHub's REST API as openhost's git services use it, without doing any I/O.
//!
//! The host's own git service sends requests with reqwest; the enterprise plugin sends them through the host's
//! HTTP service. Both need the same paths, headers, response mapping, `Link` pagination and error mapping, so that
//! knowledge lives here once: [`GitQuery`] says what to ask, [`request_headers`] how, [`interpret`] what the answer
//! means (typed records of the plugin interface), [`GitError`] what went wrong in API terms, and [`Github`] is the
//! `git_service` slot built on them, given a [`GithubAccess`] that does the I/O.

mod error;
mod link;
mod query;
mod response;
mod service;

pub use error::GitError;
pub use link::next_page_from_link;
pub use query::{GitQuery, MAX_PER_PAGE, REPOSITORY_SORTS, check_page, repository_sort, split_repository};
pub use response::{GitData, IssueItem, interpret};
pub use service::{Github, GithubAccess};

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
