//! The routes the host serves itself (docs/architecture.md, "HTTP API"), so the registry can check plugin
//! routes against them and the API can dispatch on them.

/// A git provider operation behind a `/api/user/*` route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitRoute {
    UserInfo,
    Repositories,
    SearchRepositories,
    Branches,
    SearchBranches,
    Installations,
    SuggestedTasks,
}

/// A list of `GET /api/options/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionList {
    LlmModels,
    Agents,
    SecurityAnalyzers,
}

/// A route served by the host itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRoute {
    Healthz,
    Plugins,
    OptionsConfig,
    Options(OptionList),
    GetSettings,
    PostSettings,
    AddGitProviders,
    UnsetProviderTokens,
    Git(GitRoute),
    Authenticate,
    Logout,
    ListConversations,
    StartConversation,
    ListSecrets,
    CreateSecret,
    UpdateSecret,
    DeleteSecret,
}

impl HostRoute {
    /// Method, path and route of everything the host serves.
    pub const ALL: &'static [(&'static str, &'static str, HostRoute)] = &[
        ("GET", "/healthz", HostRoute::Healthz),
        ("GET", "/api/plugins", HostRoute::Plugins),
        ("GET", "/api/options/config", HostRoute::OptionsConfig),
        ("GET", "/api/options/models", HostRoute::Options(OptionList::LlmModels)),
        ("GET", "/api/options/agents", HostRoute::Options(OptionList::Agents)),
        (
            "GET",
            "/api/options/security-analyzers",
            HostRoute::Options(OptionList::SecurityAnalyzers),
        ),
        ("GET", "/api/settings", HostRoute::GetSettings),
        ("POST", "/api/settings", HostRoute::PostSettings),
        ("POST", "/api/add-git-providers", HostRoute::AddGitProviders),
        ("POST", "/api/unset-provider-tokens", HostRoute::UnsetProviderTokens),
        ("GET", "/api/user/info", HostRoute::Git(GitRoute::UserInfo)),
        ("GET", "/api/user/repositories", HostRoute::Git(GitRoute::Repositories)),
        (
            "GET",
            "/api/user/search/repositories",
            HostRoute::Git(GitRoute::SearchRepositories),
        ),
        (
            "GET",
            "/api/user/repository/branches",
            HostRoute::Git(GitRoute::Branches),
        ),
        (
            "GET",
            "/api/user/search/branches",
            HostRoute::Git(GitRoute::SearchBranches),
        ),
        (
            "GET",
            "/api/user/installations",
            HostRoute::Git(GitRoute::Installations),
        ),
        (
            "GET",
            "/api/user/suggested-tasks",
            HostRoute::Git(GitRoute::SuggestedTasks),
        ),
        ("POST", "/api/authenticate", HostRoute::Authenticate),
        ("POST", "/api/logout", HostRoute::Logout),
        ("GET", "/api/conversations", HostRoute::ListConversations),
        ("POST", "/api/conversations", HostRoute::StartConversation),
        ("GET", "/api/secrets", HostRoute::ListSecrets),
        ("POST", "/api/secrets", HostRoute::CreateSecret),
        ("PUT", "/api/secrets/{id}", HostRoute::UpdateSecret),
        ("DELETE", "/api/secrets/{id}", HostRoute::DeleteSecret),
    ];

    /// Whether the route reads a request body.
    pub fn takes_body(self) -> bool {
        matches!(
            self,
            HostRoute::PostSettings | HostRoute::AddGitProviders | HostRoute::CreateSecret | HostRoute::UpdateSecret
        )
    }

    /// Whether the route answers for a user, so the pipeline resolves who the request is for before it runs.
    /// `/api/plugins` describes the server, not a user.
    pub fn needs_identity(self) -> bool {
        !self.is_public() && self != HostRoute::Plugins
    }

    /// Whether the route needs no sign-in: requests for it carry `RequestView::PUBLIC_ROUTE`, so a sign-in gate
    /// lets them through without matching paths.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            HostRoute::Healthz | HostRoute::OptionsConfig | HostRoute::Options(_)
        )
    }
}
