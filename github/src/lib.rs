//! GitHub's REST API as openhost's git services use it, without doing any I/O.
//!
//! The host's own git service sends requests with reqwest; the enterprise plugin sends them through the host's
//! HTTP service. Both need the same paths, headers, response mapping, `Link` pagination and error mapping, so that
//! knowledge lives here once: [`GitQuery`] says what to ask, [`request_headers`] how, [`interpret`] what the answer
//! means, [`GitError`] what went wrong in API terms.

use openhost_plugin_api::{GitOperation, Header, PluginError};
use serde_json::{Value, json};

/// The REST API version openhost is written against.
pub const API_VERSION: &str = "2022-11-28";
/// The media type GitHub recommends.
pub const ACCEPT: &str = "application/vnd.github+json";
/// GitHub's `per_page` maximum.
pub const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 30;

/// A git provider failure, in the API's terms (DESIGN.md section 6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("no GitHub token is stored for this user")]
    TokenMissing,
    #[error("GitHub rejected the token")]
    TokenInvalid,
    #[error("not found on GitHub")]
    NotFound,
    #[error("GitHub rate limit reached; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("GitHub refused the request: {0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("GitHub is unavailable: {0}")]
    Unavailable(String),
}

impl GitError {
    /// HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self {
            GitError::TokenMissing | GitError::TokenInvalid => 401,
            GitError::NotFound => 404,
            GitError::RateLimited { .. } => 429,
            GitError::Forbidden(_) => 403,
            GitError::InvalidRequest(_) => 400,
            GitError::Unavailable(_) => 502,
        }
    }

    /// The `code` of the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            GitError::TokenMissing => "git_token_missing",
            GitError::TokenInvalid => "git_token_invalid",
            GitError::NotFound => "not_found",
            GitError::RateLimited { .. } => "git_rate_limited",
            GitError::Forbidden(_) => "git_forbidden",
            GitError::InvalidRequest(_) => "invalid_request",
            GitError::Unavailable(_) => "git_provider_unavailable",
        }
    }

    /// Seconds for a `Retry-After` header, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            GitError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl From<GitError> for PluginError {
    fn from(error: GitError) -> Self {
        let mut headers = Vec::new();
        if let Some(secs) = error.retry_after_secs() {
            headers.push(Header::new("retry-after", &secs.to_string()));
        }
        PluginError::Http {
            status: error.status(),
            code: error.code().into(),
            message: error.to_string().into(),
            headers: headers.into(),
        }
    }
}

/// The operations of `/api/user/*`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitQuery {
    UserInfo,
    Repositories {
        sort: String,
        page: u32,
        per_page: u32,
    },
    SearchRepositories {
        query: String,
        page: u32,
        per_page: u32,
    },
    Branches {
        owner: String,
        repo: String,
        page: u32,
        per_page: u32,
    },
    Installations {
        page: u32,
        per_page: u32,
    },
    InstallationRepositories {
        installation_id: u64,
        page: u32,
        per_page: u32,
    },
}

const SORTS: &[&str] = &["created", "updated", "pushed", "full_name"];

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text != "."
        && text != ".."
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl GitQuery {
    /// Validates the query parameters of an operation (`page`, `per_page`, `sort`, `query`, `repository`).
    pub fn from_params<'a>(
        operation: GitOperation,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<GitQuery, GitError> {
        let params: Vec<(&str, &str)> = params.into_iter().collect();
        let get = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let number = |name: &str, default: u32, max: u32| -> Result<u32, GitError> {
            match get(name) {
                None | Some("") => Ok(default),
                Some(text) => text
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| GitError::InvalidRequest(format!("`{name}` must be a number from 1 to {max}"))),
            }
        };
        let page = number("page", 1, 100_000)?;
        let per_page = number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
        Ok(match operation {
            GitOperation::UserInfo => GitQuery::UserInfo,
            GitOperation::Repositories => {
                let sort = get("sort").filter(|s| !s.is_empty()).unwrap_or("pushed");
                if !SORTS.contains(&sort) {
                    return Err(GitError::InvalidRequest(format!(
                        "`sort` must be one of {}",
                        SORTS.join(", ")
                    )));
                }
                GitQuery::Repositories {
                    sort: sort.to_owned(),
                    page,
                    per_page,
                }
            }
            GitOperation::SearchRepositories => {
                let query = get("query").map(str::trim).filter(|q| !q.is_empty());
                let query = query.ok_or_else(|| GitError::InvalidRequest("`query` is required".to_owned()))?;
                if query.len() > 256 {
                    return Err(GitError::InvalidRequest(
                        "`query` is longer than 256 characters".to_owned(),
                    ));
                }
                GitQuery::SearchRepositories {
                    query: query.to_owned(),
                    page,
                    per_page,
                }
            }
            GitOperation::Branches => {
                let repository = get("repository").unwrap_or_default();
                let Some((owner, repo)) = repository.split_once('/').filter(|(o, r)| is_name(o) && is_name(r)) else {
                    return Err(GitError::InvalidRequest("`repository` must be `owner/name`".to_owned()));
                };
                GitQuery::Branches {
                    owner: owner.to_owned(),
                    repo: repo.to_owned(),
                    page,
                    per_page,
                }
            }
            GitOperation::Installations => GitQuery::Installations { page, per_page },
        })
    }

    /// The path and query to GET, relative to the API base URL.
    pub fn path_and_query(&self) -> String {
        let paged = |path: String, page: &u32, per_page: &u32, extra: &[(&str, &str)]| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in extra {
                query.append_pair(name, value);
            }
            query.append_pair("page", &page.to_string());
            query.append_pair("per_page", &per_page.to_string());
            format!("{path}?{}", query.finish())
        };
        match self {
            GitQuery::UserInfo => "/user".to_owned(),
            GitQuery::Repositories { sort, page, per_page } => {
                let direction = if sort == "full_name" { "asc" } else { "desc" };
                paged(
                    "/user/repos".into(),
                    page,
                    per_page,
                    &[("sort", sort), ("direction", direction)],
                )
            }
            GitQuery::SearchRepositories { query, page, per_page } => {
                paged("/search/repositories".into(), page, per_page, &[("q", query)])
            }
            GitQuery::Branches {
                owner,
                repo,
                page,
                per_page,
            } => paged(format!("/repos/{owner}/{repo}/branches"), page, per_page, &[]),
            GitQuery::Installations { page, per_page } => paged("/user/installations".into(), page, per_page, &[]),
            GitQuery::InstallationRepositories {
                installation_id,
                page,
                per_page,
            } => paged(
                format!("/user/installations/{installation_id}/repositories"),
                page,
                per_page,
                &[],
            ),
        }
    }
}

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

/// Interprets GitHub's answer to `query`. `header` looks a response header up by lower-case name; `now_epoch`
/// is the current Unix time (for `x-ratelimit-reset`).
pub fn interpret<'h>(
    query: &GitQuery,
    status: u16,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    now_epoch: u64,
) -> Result<Value, GitError> {
    if !(200..300).contains(&status) {
        return Err(error_for(status, &header, body, now_epoch));
    }
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| GitError::Unavailable(format!("GitHub sent a body that is not JSON ({e})")))?;
    let next_page = header("link").and_then(next_page_from_link);
    let list = |items: Option<&Value>, map: fn(&Value) -> Value| -> Result<Value, GitError> {
        let items = items
            .and_then(Value::as_array)
            .ok_or_else(|| GitError::Unavailable("GitHub sent an unexpected list shape".to_owned()))?;
        Ok(json!({"items": items.iter().map(map).collect::<Vec<_>>(), "next_page": next_page}))
    };
    match query {
        GitQuery::UserInfo => Ok(json!({
            "id": json["id"],
            "login": json["login"],
            "name": json["name"],
            "email": json["email"],
            "avatar_url": json["avatar_url"],
        })),
        GitQuery::Repositories { .. } => list(Some(&json), repository),
        GitQuery::SearchRepositories { .. } => list(json.get("items"), repository),
        GitQuery::InstallationRepositories { .. } => list(json.get("repositories"), repository),
        GitQuery::Branches { .. } => list(Some(&json), branch),
        GitQuery::Installations { .. } => list(json.get("installations"), installation),
    }
}

fn repository(repo: &Value) -> Value {
    json!({
        "id": repo["id"],
        "full_name": repo["full_name"],
        "private": repo["private"],
        "default_branch": repo["default_branch"],
        "pushed_at": repo["pushed_at"],
        "stargazers_count": repo["stargazers_count"],
        "owner_type": repo["owner"]["type"],
        "git_provider": "github",
    })
}

fn branch(branch: &Value) -> Value {
    json!({
        "name": branch["name"],
        "commit_sha": branch["commit"]["sha"],
        "protected": branch["protected"],
    })
}

fn installation(installation: &Value) -> Value {
    json!({
        "id": installation["id"],
        "account": {
            "login": installation["account"]["login"],
            "type": installation["account"]["type"],
        },
    })
}

/// Maps an error status. A rate limit is a 403 or 429 that says so through `x-ratelimit-remaining: 0` or
/// `retry-after`; any other 403 is a refusal.
fn error_for<'h>(status: u16, header: &impl Fn(&str) -> Option<&'h str>, body: &[u8], now_epoch: u64) -> GitError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
    let exhausted = header("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    match status {
        403 | 429 if retry_after.is_some() || exhausted => {
            let until_reset = header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|reset| reset.saturating_sub(now_epoch));
            GitError::RateLimited {
                retry_after_secs: retry_after.or(until_reset).unwrap_or(60).max(1),
            }
        }
        401 => GitError::TokenInvalid,
        404 => GitError::NotFound,
        403 => GitError::Forbidden(message),
        422 => GitError::InvalidRequest(format!("GitHub rejected the request: {message}")),
        500..=599 => GitError::Unavailable(format!("GitHub answered {status}")),
        _ => GitError::Unavailable(format!("GitHub answered {status}: {message}")),
    }
}

/// The `page` of the `rel="next"` link of a `Link` header.
pub fn next_page_from_link(link: &str) -> Option<u32> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        if !is_next {
            return None;
        }
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let query = url.split_once('?')?.1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_next_page_from_a_link_header() {
        let link = r#"<https://api.github.com/user/repos?page=1&per_page=30>; rel="prev", <https://api.github.com/user/repos?per_page=30&page=3>; rel="next", <https://api.github.com/user/repos?page=5&per_page=30>; rel="last""#;
        assert_eq!(next_page_from_link(link), Some(3));
        assert_eq!(next_page_from_link(r#"<https://x/?page=1>; rel="first""#), None);
    }

    #[test]
    fn maps_rate_limits_only_when_github_says_so() {
        let none = |_: &str| None;
        let q = GitQuery::UserInfo;
        assert_eq!(interpret(&q, 401, none, b"{}", 0), Err(GitError::TokenInvalid));
        assert!(
            matches!(interpret(&q, 403, none, b"{\"message\":\"nope\"}", 0), Err(GitError::Forbidden(m)) if m == "nope")
        );
        let limited = |name: &str| match name {
            "x-ratelimit-remaining" => Some("0"),
            "x-ratelimit-reset" => Some("1100"),
            _ => None,
        };
        assert_eq!(
            interpret(&q, 403, limited, b"{}", 1000),
            Err(GitError::RateLimited { retry_after_secs: 100 })
        );
        let secondary = |name: &str| (name == "retry-after").then_some("30");
        assert_eq!(
            interpret(&q, 429, secondary, b"{}", 0),
            Err(GitError::RateLimited { retry_after_secs: 30 })
        );
        assert_eq!(interpret(&q, 503, none, b"", 0).unwrap_err().status(), 502);
    }

    #[test]
    fn validates_parameters() {
        let bad = GitQuery::from_params(GitOperation::Branches, [("repository", "../etc")]);
        assert_eq!(bad.unwrap_err().code(), "invalid_request");
        let bad = GitQuery::from_params(GitOperation::Repositories, [("per_page", "101")]);
        assert!(bad.is_err());
        let ok =
            GitQuery::from_params(GitOperation::Branches, [("repository", "acme/web.site"), ("page", "2")]).unwrap();
        assert_eq!(ok.path_and_query(), "/repos/acme/web.site/branches?page=2&per_page=30");
        let search = GitQuery::from_params(GitOperation::SearchRepositories, [("query", "a b&c")]).unwrap();
        assert_eq!(
            search.path_and_query(),
            "/search/repositories?q=a+b%26c&page=1&per_page=30"
        );
    }
}
