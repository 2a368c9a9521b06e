//! The `git_service` slot over GitHub, once for every deployment: [`Github`] validates each typed query, asks
//! GitHub through a [`GithubAccess`] and returns the typed records. What differs between deployments is only how
//! a request reaches GitHub for a user (a personal access token over the host's client, refreshed app tokens over
//! the host's HTTP service) and, for a GitHub App, where the user's repositories come from.

use std::future::Future;

use openhost_plugin_api::{
    BranchPage, BranchQuery, BranchSearch, GitService, GitUser, IdentityView, InstallationPage,
    InstallationRepositoryQuery, PageRequest, PluginError, RepositoryPage, RepositoryQuery, SearchQuery, SuggestedTask,
};

use crate::{GitData, GitError, GitQuery, IssueItem, MAX_PER_PAGE, check_page, repository_sort, split_repository};

/// Issues and pull requests a suggestion search reads.
const MAX_SUGGESTED: u32 = 30;
/// Pull requests whose merge state suggestions look up (one request each).
const MAX_PULLS_CHECKED: usize = 10;
/// Branch pages a branch search reads at most (100 branches each).
pub const MAX_BRANCH_SEARCH_PAGES: u32 = 10;

/// How a git service reaches GitHub for a user.
pub trait GithubAccess: Send + Sync + 'static {
    /// Asks `query` for the user `user_id` and interprets the answer.
    fn get(&self, user_id: &str, query: &GitQuery) -> impl Future<Output = Result<GitData, PluginError>> + Send;

    /// Whether tokens come from somewhere other than the user (see `GitService::manages_tokens`).
    fn manages_tokens(&self) -> bool {
        false
    }

    /// The user's repositories, `sort` and `page` already validated. The default asks `GET /user/repos`; a
    /// GitHub App lists them through its installations instead.
    fn repositories(
        &self,
        user_id: &str,
        sort: &str,
        page: PageRequest,
    ) -> impl Future<Output = Result<RepositoryPage, PluginError>> + Send {
        async move {
            let query = GitQuery::Repositories {
                sort: sort.to_owned(),
                page,
            };
            Ok(self.get(user_id, &query).await?.into_repositories()?)
        }
    }
}

/// The `git_service` slot over a [`GithubAccess`].
pub struct Github<A>(pub A);

impl<A: GithubAccess> GitService for Github<A> {
    fn manages_tokens(&self) -> bool {
        self.0.manages_tokens()
    }

    async fn user_info(&self, identity: &IdentityView<'_>) -> Result<GitUser, PluginError> {
        Ok(self.0.get(identity.user_id(), &GitQuery::UserInfo).await?.into_user()?)
    }

    async fn repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &RepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        let sort = repository_sort(query.sort.as_str())?;
        let page = check_page(query.page)?;
        self.0.repositories(identity.user_id(), sort, page).await
    }

    async fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        let query = GitQuery::search_repositories(query)?;
        Ok(self.0.get(identity.user_id(), &query).await?.into_repositories()?)
    }

    async fn branches(&self, identity: &IdentityView<'_>, query: &BranchQuery<'_>) -> Result<BranchPage, PluginError> {
        let query = GitQuery::branches(query)?;
        Ok(self.0.get(identity.user_id(), &query).await?.into_branches()?)
    }

    /// GitHub has no branch search: the branches are read 100 at a time (at most
    /// [`MAX_BRANCH_SEARCH_PAGES`] pages) and those whose name contains the query, ignoring case, returned.
    async fn search_branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchSearch<'_>,
    ) -> Result<BranchPage, PluginError> {
        let (owner, repo) = split_repository(query.repository.as_str())?;
        let wanted = query.query.as_str().trim().to_lowercase();
        let limit = usize::try_from(query.per_page.clamp(1, MAX_PER_PAGE)).unwrap_or(1);
        let mut found = Vec::new();
        let mut page = Some(1);
        while let Some(current) = page.filter(|p| *p <= MAX_BRANCH_SEARCH_PAGES) {
            let list = GitQuery::Branches {
                owner: owner.clone(),
                repo: repo.clone(),
                page: PageRequest {
                    page: current,
                    per_page: MAX_PER_PAGE,
                },
            };
            let branches = self.0.get(identity.user_id(), &list).await?.into_branches()?;
            found.extend(
                branches
                    .items
                    .into_iter()
                    .filter(|branch| branch.name.to_lowercase().contains(&wanted)),
            );
            if found.len() >= limit {
                found.truncate(limit);
                break;
            }
            page = branches.next_page.into_option();
        }
        Ok(BranchPage::new(found, None))
    }

    /// What the user could pick up: open issues assigned to them (`OPEN_ISSUE`), and their open pull requests
    /// that have merge conflicts (`MERGE_CONFLICTS`) or failing checks (`FAILING_CHECKS`), from GitHub's REST
    /// search and each pull request's `mergeable_state`. Unresolved review comments need GitHub's GraphQL API and
    /// are not looked for.
    async fn suggested_tasks(&self, identity: &IdentityView<'_>) -> Result<Vec<SuggestedTask>, PluginError> {
        let user_id = identity.user_id();
        let login = self.0.get(user_id, &GitQuery::UserInfo).await?.into_user()?.login;
        let search = |query: String| GitQuery::SearchIssues {
            query,
            page: PageRequest {
                page: 1,
                per_page: MAX_SUGGESTED,
            },
        };
        let task = |item: &IssueItem, task_type: &str| SuggestedTask {
            git_provider: "github".into(),
            task_type: task_type.into(),
            repo: item.repository.as_str().into(),
            issue_number: item.number,
            title: item.title.as_str().into(),
        };
        let issues = self
            .0
            .get(user_id, &search(format!("is:open is:issue assignee:{login}")))
            .await?;
        let mut tasks: Vec<SuggestedTask> = issues
            .into_issues()?
            .items
            .iter()
            .map(|i| task(i, "OPEN_ISSUE"))
            .collect();
        let pulls = self
            .0
            .get(user_id, &search(format!("is:open is:pr author:{login}")))
            .await?;
        for pull in pulls.into_issues()?.items.iter().take(MAX_PULLS_CHECKED) {
            let (owner, repo) = split_repository(&pull.repository)?;
            let query = GitQuery::PullRequest {
                owner,
                repo,
                number: pull.number,
            };
            match self.0.get(user_id, &query).await?.into_mergeable_state()?.as_deref() {
                Some("dirty") => tasks.push(task(pull, "MERGE_CONFLICTS")),
                Some("unstable") => tasks.push(task(pull, "FAILING_CHECKS")),
                _ => {}
            }
        }
        Ok(tasks)
    }

    async fn installation_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &InstallationRepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        let installation_id = query
            .installation_id
            .as_str()
            .parse::<u64>()
            .map_err(|_| GitError::InvalidRequest("`installation_id` must be a number".to_owned()))?;
        let query = GitQuery::InstallationRepositories {
            installation_id,
            page: check_page(query.page)?,
        };
        Ok(self.0.get(identity.user_id(), &query).await?.into_repositories()?)
    }

    async fn installations(
        &self,
        identity: &IdentityView<'_>,
        page: PageRequest,
    ) -> Result<InstallationPage, PluginError> {
        let query = GitQuery::installations(page)?;
        Ok(self.0.get(identity.user_id(), &query).await?.into_installations()?)
    }
}
