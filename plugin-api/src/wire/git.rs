//! Git provider data as typed records: what the `git_service` slot answers with, and what decorators filter.
//!
//! The fields are the ones the OpenHands web frontend reads (docs/plugin-interface.md lists them). Text that a
//! provider may extend (`owner_type`, `task_type`, `git_provider`) is a string, not an enum, so a new value is not
//! a layout change. The records are frozen for interface 1.x: data added in a later minor arrives through a new
//! method appended to the slot trait, whose default (for plugins built earlier) derives it from the old one.

use abi_stable::{
    std_types::{ROption, RStr, RString, RVec},
    StableAbi,
};

/// Which page of a list (from 1) and how many items a page holds.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

/// `GET /api/user/repositories`: the user's repositories, sorted by `sort` (`pushed`, `updated`, `created`,
/// `full_name`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct RepositoryQuery<'a> {
    pub sort: RStr<'a>,
    pub page: PageRequest,
}

/// `GET /api/user/repositories?installation_id=..`: the repositories one installation of the provider's app
/// grants (the web frontend asks installation by installation in SaaS mode). Added in interface 1.1.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct InstallationRepositoryQuery<'a> {
    pub installation_id: RStr<'a>,
    pub page: PageRequest,
}

/// `GET /api/user/search/repositories`: a free-text search, `sort` and `order` as the provider takes them
/// (empty: the provider's default).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct SearchQuery<'a> {
    pub query: RStr<'a>,
    pub sort: RStr<'a>,
    pub order: RStr<'a>,
    pub page: PageRequest,
}

/// `GET /api/user/repository/branches`: the branches of `owner/name`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct BranchQuery<'a> {
    pub repository: RStr<'a>,
    pub page: PageRequest,
}

/// `GET /api/user/search/branches`: branches of `owner/name` whose name contains `query`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct BranchSearch<'a> {
    pub repository: RStr<'a>,
    pub query: RStr<'a>,
    pub per_page: u32,
}

/// The signed-in user at the git provider.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct GitUser {
    /// The provider's id, as text.
    pub id: RString,
    pub login: RString,
    pub name: ROption<RString>,
    pub email: ROption<RString>,
    pub avatar_url: ROption<RString>,
    pub company: ROption<RString>,
}

/// A repository.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The provider's id, as text.
    pub id: RString,
    /// `owner/name`.
    pub full_name: RString,
    /// `github`, `gitlab`, `bitbucket`, ...
    pub git_provider: RString,
    pub is_public: bool,
    pub stargazers_count: ROption<u64>,
    /// RFC 3339 time of the last push.
    pub pushed_at: ROption<RString>,
    /// `user` or `organization`.
    pub owner_type: RString,
    /// The default branch.
    pub main_branch: ROption<RString>,
}

impl Repository {
    /// The owner part of `full_name`.
    pub fn owner(&self) -> &str {
        self.full_name.split_once('/').map_or("", |(owner, _)| owner)
    }
}

/// A branch.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub name: RString,
    pub commit_sha: RString,
    pub protected: bool,
    /// RFC 3339 time of the last commit, where the provider says.
    pub last_push_date: ROption<RString>,
}

/// An installation of the git provider's app (GitHub App), or an equivalent grant.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// The provider's id, as text.
    pub id: RString,
    pub account_login: RString,
    /// `user` or `organization`.
    pub account_type: RString,
}

/// Something the user could start on: an open pull request or issue of theirs.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct SuggestedTask {
    pub git_provider: RString,
    /// `OPEN_PR`, `OPEN_ISSUE`, `MERGE_CONFLICTS`, `FAILING_CHECKS`, `UNRESOLVED_COMMENTS`.
    pub task_type: RString,
    /// `owner/name`.
    pub repo: RString,
    pub issue_number: u64,
    pub title: RString,
}

/// One page of a list, and the number of the next page if there is one.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: RVec<T>,
    pub next_page: ROption<u32>,
    /// The length of the whole list, where the provider says.
    pub total_count: ROption<u64>,
}

impl<T> Page<T> {
    /// A page of `items`, followed by `next_page`.
    pub fn new(items: Vec<T>, next_page: Option<u32>) -> Self {
        Page {
            items: items.into(),
            next_page: next_page.into(),
            total_count: ROption::RNone,
        }
    }

    /// Keeps the items `keep` accepts (a decorator's filter); the paging stays as it was.
    pub fn retain(mut self, keep: impl FnMut(&T) -> bool) -> Self {
        self.items.retain(keep);
        self
    }
}

pub type RepositoryPage = Page<Repository>;
pub type BranchPage = Page<Branch>;
pub type InstallationPage = Page<Installation>;
