//! repo-allowlist without a server (openhost-plugin-test): repositories of other owners are hidden, and their
//! branches are as if they did not exist.

use openhost_plugin_api::prelude::*;
use openhost_plugin_test::{TestHost, block_on, start};
use serde_json::json;

/// The git service the allowlist decorates: two owners' repositories.
struct Underneath;

fn repository(full_name: &str) -> Repository {
    Repository {
        id: full_name.len().to_string().into(),
        full_name: full_name.into(),
        git_provider: "github".into(),
        is_public: true,
        stargazers_count: ROption::RNone,
        pushed_at: ROption::RNone,
        owner_type: "user".into(),
        main_branch: ROption::RSome("main".into()),
    }
}

impl GitService for Underneath {
    async fn user_info(&self, _identity: &IdentityView<'_>) -> Result<GitUser, PluginError> {
        Err(PluginError::other("not asked"))
    }

    async fn repositories(
        &self,
        _identity: &IdentityView<'_>,
        _query: &RepositoryQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        let all = vec![
            repository("acme/app"),
            repository("Mallory/tool"),
            repository("ACME/lib"),
        ];
        Ok(Page::new(all, None))
    }

    async fn search_repositories(
        &self,
        identity: &IdentityView<'_>,
        query: &SearchQuery<'_>,
    ) -> Result<RepositoryPage, PluginError> {
        self.repositories(
            identity,
            &RepositoryQuery {
                sort: query.sort,
                page: query.page,
            },
        )
        .await
    }

    async fn branches(
        &self,
        _identity: &IdentityView<'_>,
        _query: &BranchQuery<'_>,
    ) -> Result<BranchPage, PluginError> {
        Ok(Page::new(Vec::new(), None))
    }

    async fn installations(
        &self,
        _identity: &IdentityView<'_>,
        _page: PageRequest,
    ) -> Result<InstallationPage, PluginError> {
        Ok(Page::new(Vec::new(), None))
    }
}

#[test]
fn other_owners_repositories_are_hidden_and_their_branches_not_found() {
    let plugin = start!(TestHost::new(), json!({"owners": ["acme"]})).expect("starts");
    let service = plugin.decorate_git_service(Underneath).expect("decorates");
    let who = Identity::new("local", "alice", "test");
    let page = PageRequest { page: 1, per_page: 30 };
    let query = RepositoryQuery {
        sort: "pushed".into(),
        page,
    };
    let shown = block_on(service.repositories(&who.as_view(), &query)).expect("answers");
    let names: Vec<&str> = shown.items.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(names, ["acme/app", "ACME/lib"]);

    let hidden = BranchQuery {
        repository: "mallory/tool".into(),
        page,
    };
    let refused = block_on(service.branches(&who.as_view(), &hidden)).expect_err("refused");
    assert_eq!(refused.http_response().map(|r| r.status), Some(404));
}
