//! What to ask GitHub: one [`GitQuery`] per REST call the git services make, validated, and its path.

use openhost_plugin_api::{BranchQuery, PageRequest, RepositoryQuery, SearchQuery};

use crate::GitError;

/// GitHub's `per_page` maximum.
pub const MAX_PER_PAGE: u32 = 100;
/// The repository sorts GitHub's `GET /user/repos` takes.
pub const REPOSITORY_SORTS: &[&str] = &["created", "updated", "pushed", "full_name"];

/// One REST call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitQuery {
    UserInfo,
    Repositories {
        sort: String,
        page: PageRequest,
    },
    SearchRepositories {
        query: String,
        sort: String,
        order: String,
        page: PageRequest,
    },
    Branches {
        owner: String,
        repo: String,
        page: PageRequest,
    },
    Installations {
        page: PageRequest,
    },
    InstallationRepositories {
        installation_id: u64,
        page: PageRequest,
    },
    /// `GET /search/issues`: open issues or pull requests the user takes part in.
    SearchIssues {
        query: String,
        page: PageRequest,
    },
    /// `GET /repos/{owner}/{repo}/pulls/{number}`: one pull request, with its merge state.
    PullRequest {
        owner: String,
        repo: String,
        number: u64,
    },
}

/// An owner or repository name: what GitHub allows, and nothing that could change the path.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text != "."
        && text != ".."
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// A page number from 1 and a page length GitHub accepts.
pub fn check_page(page: PageRequest) -> Result<PageRequest, GitError> {
    if page.page == 0 || !(1..=MAX_PER_PAGE).contains(&page.per_page) {
        return Err(GitError::InvalidRequest(format!(
            "`page` must be at least 1 and `per_page` from 1 to {MAX_PER_PAGE}"
        )));
    }
    Ok(page)
}

/// A sort GitHub's `GET /user/repos` takes; empty means `pushed`.
pub fn repository_sort(sort: &str) -> Result<&str, GitError> {
    let sort = if sort.is_empty() { "pushed" } else { sort };
    if !REPOSITORY_SORTS.contains(&sort) {
        return Err(GitError::InvalidRequest(format!(
            "`sort` must be one of {}",
            REPOSITORY_SORTS.join(", ")
        )));
    }
    Ok(sort)
}

/// Splits and checks `owner/name`.
pub fn split_repository(repository: &str) -> Result<(String, String), GitError> {
    repository
        .split_once('/')
        .filter(|(owner, repo)| is_name(owner) && is_name(repo))
        .map(|(owner, repo)| (owner.to_owned(), repo.to_owned()))
        .ok_or_else(|| GitError::InvalidRequest("`repository` must be `owner/name`".to_owned()))
}

impl GitQuery {
    pub fn repositories(query: &RepositoryQuery<'_>) -> Result<GitQuery, GitError> {
        Ok(GitQuery::Repositories {
            sort: repository_sort(query.sort.as_str())?.to_owned(),
            page: check_page(query.page)?,
        })
    }

    pub fn search_repositories(query: &SearchQuery<'_>) -> Result<GitQuery, GitError> {
        let text = query.query.as_str().trim();
        if text.is_empty() || text.len() > 256 {
            return Err(GitError::InvalidRequest(
                "`query` must be 1 to 256 characters".to_owned(),
            ));
        }
        Ok(GitQuery::SearchRepositories {
            query: text.to_owned(),
            sort: query.sort.as_str().to_owned(),
            order: query.order.as_str().to_owned(),
            page: check_page(query.page)?,
        })
    }

    pub fn branches(query: &BranchQuery<'_>) -> Result<GitQuery, GitError> {
        let (owner, repo) = split_repository(query.repository.as_str())?;
        Ok(GitQuery::Branches {
            owner,
            repo,
            page: check_page(query.page)?,
        })
    }

    pub fn installations(page: PageRequest) -> Result<GitQuery, GitError> {
        Ok(GitQuery::Installations {
            page: check_page(page)?,
        })
    }

    /// The path and query to GET, relative to the API base URL.
    pub fn path_and_query(&self) -> String {
        let paged = |path: String, page: &PageRequest, extra: &[(&str, &str)]| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in extra.iter().filter(|(_, value)| !value.is_empty()) {
                query.append_pair(name, value);
            }
            query.append_pair("page", &page.page.to_string());
            query.append_pair("per_page", &page.per_page.to_string());
            format!("{path}?{}", query.finish())
        };
        match self {
            GitQuery::UserInfo => "/user".to_owned(),
            GitQuery::Repositories { sort, page } => {
                let direction = if sort == "full_name" { "asc" } else { "desc" };
                paged("/user/repos".into(), page, &[("sort", sort), ("direction", direction)])
            }
            GitQuery::SearchRepositories {
                query,
                sort,
                order,
                page,
            } => paged(
                "/search/repositories".into(),
                page,
                &[("q", query), ("sort", sort), ("order", order)],
            ),
            GitQuery::Branches { owner, repo, page } => paged(format!("/repos/{owner}/{repo}/branches"), page, &[]),
            GitQuery::Installations { page } => paged("/user/installations".into(), page, &[]),
            GitQuery::InstallationRepositories { installation_id, page } => {
                paged(format!("/user/installations/{installation_id}/repositories"), page, &[])
            }
            GitQuery::SearchIssues { query, page } => paged("/search/issues".into(), page, &[("q", query)]),
            GitQuery::PullRequest { owner, repo, number } => format!("/repos/{owner}/{repo}/pulls/{number}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use openhost_plugin_api::types::RStr;

    use super::*;

    const FIRST: PageRequest = PageRequest { page: 1, per_page: 30 };

    #[test]
    fn validates_and_builds_paths() {
        let bad = GitQuery::branches(&BranchQuery {
            repository: RStr::from("../etc"),
            page: FIRST,
        });
        assert_eq!(bad.unwrap_err().code(), "invalid_request");
        let too_long = PageRequest { page: 1, per_page: 101 };
        assert!(GitQuery::installations(too_long).is_err());
        let ok = GitQuery::branches(&BranchQuery {
            repository: RStr::from("acme/web.site"),
            page: PageRequest { page: 2, per_page: 30 },
        })
        .unwrap();
        assert_eq!(ok.path_and_query(), "/repos/acme/web.site/branches?page=2&per_page=30");
        let search = GitQuery::search_repositories(&SearchQuery {
            query: RStr::from("a b&c"),
            sort: RStr::from(""),
            order: RStr::from(""),
            page: FIRST,
        })
        .unwrap();
        assert_eq!(
            search.path_and_query(),
            "/search/repositories?q=a+b%26c&page=1&per_page=30"
        );
    }
}
