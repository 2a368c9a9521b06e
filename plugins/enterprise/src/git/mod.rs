//! The `git_service` override: GitHub with the signed-in user's token. Where the token comes from is the config's
//! choice: the GitHub App's user tokens ([`app_tokens`]), or Keycloak's identity broker ([`broker`]). Either way
//! the calls are the `github` crate's, over the host's HTTP service ([`get`]).

pub mod app_tokens;
pub mod broker;

use openhost_github::{GitData, GitError, GitQuery};

use crate::{
    Enterprise,
    clock::now,
    transport::{Http, USER_AGENT},
};

/// One GitHub API GET with `access_token` ([`openhost_github::call`] over [`Http`]).
pub async fn get(enterprise: &Enterprise, access_token: &str, query: &GitQuery) -> Result<GitData, GitError> {
    let api_url = &enterprise.config.github_api_url;
    openhost_github::call(&Http(enterprise.host), api_url, access_token, USER_AGENT, query, now()).await
}
