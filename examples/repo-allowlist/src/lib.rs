//! `repo-allowlist`: hides repositories outside configured owners (users or organisations).
//!
//! It *decorates* `git_service`: every call goes to the active git service (the host's PAT-based one, or the
//! enterprise plugin's), and this plugin filters what comes back. Branches of a hidden repository answer
//! 404 `not_found`, as if it did not exist.

use std::collections::BTreeSet;

use openhost_plugin_api::prelude::*;
use serde::Deserialize;
use serde_json::Value;

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

    /// Keeps the items of a `{"items": [...], "next_page": ...}` answer that `keep` accepts.
    fn filter_items(&self, mut answer: Value, keep: impl Fn(&Value) -> bool) -> Value {
        if let Some(items) = answer.get_mut("items").and_then(Value::as_array_mut) {
            items.retain(|item| keep(item));
        }
        answer
    }
}

impl GitService for AllowList {
    async fn call(&self, identity: &IdentityView<'_>, request: &GitRequest<'_>) -> Result<Value, PluginError> {
        if request.operation == GitOperation::Branches {
            let repository = request
                .params
                .iter()
                .find(|p| p.name.as_str() == "repository")
                .map(|p| p.value.as_str())
                .unwrap_or_default();
            if !self.allows_repository(repository) {
                return Err(PluginError::http(404, "not_found", "not found on GitHub"));
            }
        }
        let answer = self.inner.call(identity, request).await?;
        Ok(match request.operation {
            GitOperation::Repositories | GitOperation::SearchRepositories => self.filter_items(answer, |repo| {
                repo["full_name"]
                    .as_str()
                    .is_some_and(|name| self.allows_repository(name))
            }),
            GitOperation::Installations => self.filter_items(answer, |installation| {
                installation["account"]["login"]
                    .as_str()
                    .is_some_and(|login| self.allows_owner(login))
            }),
            GitOperation::UserInfo | GitOperation::Branches => answer,
        })
    }
}

fn init(_host: Host, config: Value) -> Result<Components, PluginError> {
    let config: Config = serde_json::from_value(config).map_err(|e| PluginError::invalid_config(e.to_string()))?;
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
    init: init,
}
