//! What GitHub's answer means: typed records for a success, a [`GitError`] otherwise.

use openhost_plugin_api::{
    Branch, BranchPage, GitUser, Installation, InstallationPage, Page, Repository, RepositoryPage,
    types::{ROption, RString},
};
use serde_json::Value;

use crate::{GitError, GitQuery, link::next_page_from_link};

/// A successful answer, typed by what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitData {
    User(GitUser),
    Repositories(RepositoryPage),
    Branches(BranchPage),
    Installations(InstallationPage),
    /// `GET /search/issues`: the raw items (the caller picks what it needs).
    Issues(Page<IssueItem>),
    /// `GET /repos/{o}/{r}/pulls/{n}`: GitHub's `mergeable_state` (`dirty`: conflicts, `unstable`: failing
    /// checks, `clean`, ...), if it has computed one.
    PullRequest {
        mergeable_state: Option<String>,
    },
}

/// An issue or pull request from GitHub's issue search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueItem {
    /// `owner/name`.
    pub repository: String,
    pub number: u64,
    pub title: String,
    pub is_pull_request: bool,
}

fn unexpected(what: &str) -> GitError {
    GitError::Unavailable(format!("GitHub sent an unexpected {what}"))
}

impl GitData {
    pub fn into_user(self) -> Result<GitUser, GitError> {
        match self {
            GitData::User(user) => Ok(user),
            _ => Err(unexpected("answer")),
        }
    }

    pub fn into_repositories(self) -> Result<RepositoryPage, GitError> {
        match self {
            GitData::Repositories(page) => Ok(page),
            _ => Err(unexpected("answer")),
        }
    }

    pub fn into_branches(self) -> Result<BranchPage, GitError> {
        match self {
            GitData::Branches(page) => Ok(page),
            _ => Err(unexpected("answer")),
        }
    }

    pub fn into_installations(self) -> Result<InstallationPage, GitError> {
        match self {
            GitData::Installations(page) => Ok(page),
            _ => Err(unexpected("answer")),
        }
    }

    pub fn into_issues(self) -> Result<Page<IssueItem>, GitError> {
        match self {
            GitData::Issues(page) => Ok(page),
            _ => Err(unexpected("answer")),
        }
    }

    /// The `mergeable_state` of a pull request.
    pub fn into_mergeable_state(self) -> Result<Option<String>, GitError> {
        match self {
            GitData::PullRequest { mergeable_state } => Ok(mergeable_state),
            _ => Err(unexpected("answer")),
        }
    }
}

/// Interprets GitHub's answer to `query`. `header` looks a response header up by lower-case name; `now_epoch`
/// is the current Unix time (for `x-ratelimit-reset`).
pub fn interpret<'h>(
    query: &GitQuery,
    status: u16,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    now_epoch: u64,
) -> Result<GitData, GitError> {
    if !(200..300).contains(&status) {
        return Err(error_for(status, &header, body, now_epoch));
    }
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| GitError::Unavailable(format!("GitHub sent a body that is not JSON ({e})")))?;
    let next_page = header("link").and_then(next_page_from_link);
    fn list<T>(items: Option<&Value>, next_page: Option<u32>, map: fn(&Value) -> T) -> Result<Page<T>, GitError> {
        let items = items
            .and_then(Value::as_array)
            .ok_or_else(|| unexpected("list shape"))?;
        Ok(Page::new(items.iter().map(map).collect(), next_page))
    }
    let total_count = json.get("total_count").and_then(Value::as_u64);
    fn total<T>(page: Page<T>, total_count: Option<u64>) -> Page<T> {
        Page {
            total_count: total_count.into(),
            ..page
        }
    }
    Ok(match query {
        GitQuery::UserInfo => GitData::User(user(&json)),
        GitQuery::Repositories { .. } => GitData::Repositories(list(Some(&json), next_page, repository)?),
        GitQuery::SearchRepositories { .. } => {
            GitData::Repositories(total(list(json.get("items"), next_page, repository)?, total_count))
        }
        GitQuery::InstallationRepositories { .. } => GitData::Repositories(total(
            list(json.get("repositories"), next_page, repository)?,
            total_count,
        )),
        GitQuery::Branches { .. } => GitData::Branches(list(Some(&json), next_page, branch)?),
        GitQuery::Installations { .. } => GitData::Installations(total(
            list(json.get("installations"), next_page, installation)?,
            total_count,
        )),
        GitQuery::SearchIssues { .. } => {
            GitData::Issues(total(list(json.get("items"), next_page, issue)?, total_count))
        }
        GitQuery::PullRequest { .. } => GitData::PullRequest {
            mergeable_state: json["mergeable_state"].as_str().map(str::to_owned),
        },
    })
}

fn text(value: &Value) -> RString {
    match value {
        Value::String(text) => text.as_str().into(),
        Value::Number(number) => number.to_string().into(),
        _ => RString::new(),
    }
}

fn optional_text(value: &Value) -> ROption<RString> {
    value.as_str().map(RString::from).into()
}

/// GitHub's `User`/`Organization` as the lower-case words the API uses.
fn owner_type(value: &Value) -> RString {
    match value.as_str() {
        Some("Organization") => "organization".into(),
        _ => "user".into(),
    }
}

fn user(json: &Value) -> GitUser {
    GitUser {
        id: text(&json["id"]),
        login: text(&json["login"]),
        name: optional_text(&json["name"]),
        email: optional_text(&json["email"]),
        avatar_url: optional_text(&json["avatar_url"]),
        company: optional_text(&json["company"]),
    }
}

fn repository(repo: &Value) -> Repository {
    Repository {
        id: text(&repo["id"]),
        full_name: text(&repo["full_name"]),
        git_provider: "github".into(),
        is_public: !repo["private"].as_bool().unwrap_or(false),
        stargazers_count: repo["stargazers_count"].as_u64().into(),
        pushed_at: optional_text(&repo["pushed_at"]),
        owner_type: owner_type(&repo["owner"]["type"]),
        main_branch: optional_text(&repo["default_branch"]),
    }
}

fn branch(branch: &Value) -> Branch {
    Branch {
        name: text(&branch["name"]),
        commit_sha: text(&branch["commit"]["sha"]),
        protected: branch["protected"].as_bool().unwrap_or(false),
        last_push_date: ROption::RNone,
    }
}

fn installation(installation: &Value) -> Installation {
    Installation {
        id: text(&installation["id"]),
        account_login: text(&installation["account"]["login"]),
        account_type: owner_type(&installation["account"]["type"]),
    }
}

fn issue(item: &Value) -> IssueItem {
    // `repository_url` is `{api}/repos/{owner}/{name}`.
    let repository = item["repository_url"]
        .as_str()
        .and_then(|url| {
            url.rsplitn(3, '/')
                .collect::<Vec<_>>()
                .get(..2)
                .map(|p| format!("{}/{}", p[1], p[0]))
        })
        .unwrap_or_default();
    IssueItem {
        repository,
        number: item["number"].as_u64().unwrap_or(0),
        title: item["title"].as_str().unwrap_or_default().to_owned(),
        is_pull_request: item.get("pull_request").is_some_and(|p| !p.is_null()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn maps_records_to_the_fields_clients_read() {
        let body = br#"[{"id": 7, "full_name": "acme/web", "private": true, "stargazers_count": 3,
            "pushed_at": "2025-01-01T00:00:00Z", "owner": {"type": "Organization"}, "default_branch": "main"}]"#;
        let query = GitQuery::Repositories {
            sort: "pushed".into(),
            page: openhost_plugin_api::PageRequest { page: 1, per_page: 30 },
        };
        let link = |name: &str| (name == "link").then_some(r#"<https://x/user/repos?page=2>; rel="next""#);
        let page = interpret(&query, 200, link, body, 0)
            .unwrap()
            .into_repositories()
            .unwrap();
        let repo = &page.items[0];
        assert_eq!(repo.id.as_str(), "7");
        assert!(!repo.is_public);
        assert_eq!(repo.owner_type.as_str(), "organization");
        assert_eq!(repo.main_branch.as_ref().map(RString::as_str), ROption::RSome("main"));
        assert_eq!(page.next_page, ROption::RSome(2));
    }
}
