//! The implementation a decorator wraps, seen from plugin code: the host's, an override's, or a lower
//! decorator's. Calls go through the ABI object as they would from the host.

use crate::{
    wire::{
        git::{
            BranchPage, BranchQuery, BranchSearch, GitUser, InstallationPage, InstallationRepositoryQuery, PageRequest,
            RepositoryPage, RepositoryQuery, SearchQuery, SuggestedTask,
        },
        http::{HeaderChange, RequestView},
        identity::{Identity, IdentityView},
        slots::{GitServiceObject, ServerConfigObject, UserAuthObject},
    },
    PluginError,
};

/// The `server_config` a decorator wraps.
pub struct ServerConfigHandle(pub(crate) ServerConfigObject);

impl ServerConfigHandle {
    /// A handle calling `object` through the interface, as the host calls it.
    pub fn new(object: ServerConfigObject) -> ServerConfigHandle {
        ServerConfigHandle(object)
    }

    pub async fn config(&self) -> Result<serde_json::Value, PluginError> {
        let text = self.0.config_json().await.into_result()?;
        serde_json::from_str(&text).map_err(|e| PluginError::other(format!("inner server_config sent bad JSON: {e}")))
    }
}

/// The `user_auth` a decorator wraps.
pub struct UserAuthHandle(pub(crate) UserAuthObject);

impl UserAuthHandle {
    /// A handle calling `object` through the interface, as the host calls it.
    pub fn new(object: UserAuthObject) -> UserAuthHandle {
        UserAuthHandle(object)
    }

    pub async fn identify(&self, request: &RequestView<'_>) -> Result<Option<Identity>, PluginError> {
        Ok(self.0.identify(*request).await.into_result()?.into_option())
    }

    pub async fn sign_out(
        &self,
        request: &RequestView<'_>,
        identity: &IdentityView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        Ok(self.0.sign_out(*request, *identity).await.into_result()?.into_vec())
    }
}

/// The `git_service` a decorator wraps.
pub struct GitServiceHandle(pub(crate) GitServiceObject);

impl GitServiceHandle {
    /// A handle calling `object` through the interface, as the host calls it.
    pub fn new(object: GitServiceObject) -> GitServiceHandle {
        GitServiceHandle(object)
    }

    pub fn manages_tokens(&self) -> bool {
        self.0.manages_tokens()
    }

    pub fn providers(&self) -> Vec<String> {
        self.0.providers().into_iter().map(String::from).collect()
    }

    pub async fn user_info(&self, identity: &IdentityView<'_>) -> Result<GitUser, PluginError> {
        self.0.user_info(*identity).await.into_result()
    }

    pub async fn repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &RepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.0.repositories(*identity, *query).await.into_result()
    }

    pub async fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.0.search_repositories(*identity, *query).await.into_result()
    }

    pub async fn branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchQuery<'_>,
    ) -> Result<BranchPage, PluginError> {
        self.0.branches(*identity, *query).await.into_result()
    }

    pub async fn search_branches(
        &self,
        identity: &IdentityView<'_>,
        query: &BranchSearch<'_>,
    ) -> Result<BranchPage, PluginError> {
        self.0.search_branches(*identity, *query).await.into_result()
    }

    pub async fn installations(
        &self,
        identity: &IdentityView<'_>,
        page: PageRequest,
    ) -> Result<InstallationPage, PluginError> {
        self.0.installations(*identity, page).await.into_result()
    }

    pub async fn suggested_tasks(&self, identity: &IdentityView<'_>) -> Result<Vec<SuggestedTask>, PluginError> {
        Ok(self.0.suggested_tasks(*identity).await.into_result()?.into_vec())
    }

    /// Interface 1.1; an inner implementation built for 1.0 answers the user's repositories.
    pub async fn installation_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &InstallationRepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.0.installation_repositories(*identity, *query).await.into_result()
    }
}
