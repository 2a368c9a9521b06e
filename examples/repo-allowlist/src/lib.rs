//! `repo-allowlist`: hides repositories outside configured owners (users or organisations).
//!
//! It *decorates* `git_service`: every call goes to the active git service (the host's PAT-based one, or the
//! enterprise plugin's), and this plugin filters the typed records that come back. It writes only the
//! operations it changes; the SDK forwards the rest. Branches of a hidden repository answer 404 `not_found`, as
//! if it did not exist.

use std::collections::BTreeSet;

use openhost_plugin_api::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Owners (user or organisation logins) whose repositories stay visible; compared case-insensitively.
    owners: Vec<String>,
}

struct AllowList {
    inner: GitServiceHandle,
    owners: BTreeSet<String>,
}

impl AllowList {
    fn allows_owner(&self, owner: &str) -> bool {
        self.owners.contains(&owner.to_ascii_lowercase())
    }

    fn allows_repository(&self, full_name: &str) -> bool {
        full_name
            .split_once('/')
            .is_some_and(|(owner, _)| self.allows_owner(owner))
    }

    fn check_repository(&self, full_name: &str) -> Result<(), PluginError> {
        if self.allows_repository(full_name) {
            Ok(())
        } else {
            Err(PluginError::http(404, "not_found", "not found on GitHub"))
        }
    }
}

impl GitServiceDecorator for AllowList {
    fn inner(&self) -> &GitServiceHandle {
        &self.inner
    }

    async fn repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &RepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        let page = self.inner.repositories(identity, query).await?;
        Ok(page.retain(|repo| self.allows_repository(&repo.full_name)))
    }

    async fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        let page = self.inner.search_repositories(identity, query).await?;
        Ok(page.retain(|repo| self.allows_repository(&repo.full_name)))
    }

    async fn branches(&self, identity: &IdentityView<'_>, query: &BranchQuery<'_>) -> Result<BranchPage, PluginError> {
        self.check_repository(query.repository.as_str())?;
        self.inner.branches(identity, query).await
    }

    async fn search_branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchSearch<'_>,
    ) -> Result<BranchPage, PluginError> {
        self.check_repository(query.repository.as_str())?;
        self.inner.search_branches(identity, query).await
    }

    async fn installations(
        &self,
        identity: &IdentityView<'_>,
        page: PageRequest,
    ) -> Result<InstallationPage, PluginError> {
        let page = self.inner.installations(identity, page).await?;
        Ok(page.retain(|installation| self.allows_owner(&installation.account_login)))
    }

    async fn suggested_tasks(&self, identity: &IdentityView<'_>) -> Result<Vec<SuggestedTask>, PluginError> {
        let mut tasks = self.inner.suggested_tasks(identity).await?;
        tasks.retain(|task| self.allows_repository(&task.repo));
        Ok(tasks)
    }
}

fn init(_host: Host, config: Config) -> Result<Components, PluginError> {
    if config.owners.is_empty() {
        return Err(PluginError::invalid_config("`owners` must list at least one owner"));
    }
    let owners: BTreeSet<String> = config.owners.iter().map(|o| o.trim().to_ascii_lowercase()).collect();
    tracing::info!(owners = owners.len(), "repository allowlist ready");
    Ok(Components::new().decorate_git_service(move |inner| AllowList {
        inner,
        owners: owners.clone(),
    }))
}

export_plugin! {
    name: "repo-allowlist",
    description: "Hides repositories outside configured owners",
    provides: [],
    decorates: [GitService],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}

#[cfg(test)]
mod tests;
