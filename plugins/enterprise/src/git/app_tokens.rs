//! `git_tokens = "github_app"`: the git service reaches GitHub with the user's GitHub App token, fresh from
//! crate::tokens (refreshed single-flight across hosts), and a 401 from GitHub causes at most one forced refresh
//! and one retry. A refresh token GitHub rejects (or one past its expiry) ends the user's tokens and sessions:
//! 401 `reauth_required`. Repositories come from the user's installations of the GitHub App.

use std::sync::Arc;

use openhost_github::{GitData, GitError, GitQuery, GithubAccess};
use openhost_plugin_api::{PageRequest, PluginError, RepositoryPage};

use crate::Enterprise;

/// Repository pages walk the installations one after another: page `k * STRIDE + n` is page `n` of the
/// `k`-th installation. Clients only follow `next_page`, so the numbering is theirs to ignore.
const PAGES_PER_INSTALLATION: u32 = 1000;
/// Installations read per request, at 100 a page.
const MAX_INSTALLATION_PAGES: u32 = 10;

/// How the SaaS git service reaches GitHub: with the user's app token, refreshed as needed.
pub struct AppTokenAccess {
    pub enterprise: Arc<Enterprise>,
}

impl GithubAccess for AppTokenAccess {
    async fn get(&self, user_id: &str, query: &GitQuery) -> Result<GitData, PluginError> {
        self.api(user_id, query).await
    }

    fn manages_tokens(&self) -> bool {
        true
    }

    /// Installations list their repositories in their own order: `sort` does not apply.
    async fn repositories(&self, user_id: &str, _sort: &str, page: PageRequest) -> Result<RepositoryPage, PluginError> {
        self.installation_repositories(user_id, page).await
    }
}

impl AppTokenAccess {
    /// One API call for `uid` with a fresh token; a 401 is retried once after a forced refresh.
    pub async fn api(&self, uid: &str, query: &GitQuery) -> Result<GitData, PluginError> {
        let enterprise = &self.enterprise;
        let token = enterprise.access_token(uid, None).await?;
        match super::get(enterprise, &token, query).await {
            Err(GitError::TokenInvalid) => {
                tracing::info!(user = uid, "GitHub rejected the access token; refreshing once");
                let token = enterprise.access_token(uid, Some(&token)).await?;
                Ok(super::get(enterprise, &token, query).await?)
            }
            result => Ok(result?),
        }
    }

    async fn installation_ids(&self, uid: &str) -> Result<Vec<u64>, PluginError> {
        let mut ids = Vec::new();
        let mut page = Some(1);
        while let Some(current) = page.filter(|p| *p <= MAX_INSTALLATION_PAGES) {
            let query = GitQuery::Installations {
                page: PageRequest {
                    page: current,
                    per_page: 100,
                },
            };
            let list = self.api(uid, &query).await?.into_installations()?;
            ids.extend(list.items.iter().filter_map(|i| i.id.parse::<u64>().ok()));
            page = list.next_page.into_option();
        }
        Ok(ids)
    }

    /// `GET /api/user/repositories` in SaaS: the repositories of each installation, one after another.
    async fn installation_repositories(&self, uid: &str, page: PageRequest) -> Result<RepositoryPage, PluginError> {
        let installations = self.installation_ids(uid).await?;
        let index = ((page.page - 1) / PAGES_PER_INSTALLATION) as usize;
        let inner_page = (page.page - 1) % PAGES_PER_INSTALLATION + 1;
        let Some(&installation_id) = installations.get(index) else {
            return Ok(RepositoryPage::new(Vec::new(), None));
        };
        let query = GitQuery::InstallationRepositories {
            installation_id,
            page: PageRequest {
                page: inner_page,
                per_page: page.per_page,
            },
        };
        let mut result = self.api(uid, &query).await?.into_repositories()?;
        let base = index as u32 * PAGES_PER_INSTALLATION;
        let next = match result.next_page.into_option() {
            Some(next) if next <= PAGES_PER_INSTALLATION => Some(base + next),
            _ if index + 1 < installations.len() => Some(base + PAGES_PER_INSTALLATION + 1),
            _ => None,
        };
        result.next_page = next.into();
        // Counted per installation by GitHub; not the length of the walk.
        result.total_count = None.into();
        Ok(result)
    }
}
