//! What the fake GitHub remembers: users, tokens, grants, repositories, installations, faults and call counts.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::{Faults, PAT, USER_ID, USER_LOGIN, now, random_token};

#[derive(Debug, Clone)]
pub(super) struct User {
    pub(super) id: u64,
    pub(super) login: String,
    pub(super) name: String,
    pub(super) email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Classic,
    App,
}

#[derive(Debug, Clone)]
pub(super) struct AccessToken {
    pub(super) user_id: u64,
    pub(super) kind: TokenKind,
    pub(super) expires_at: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct RefreshToken {
    pub(super) user_id: u64,
    pub(super) expires_at: u64,
    pub(super) access_token: String,
}

#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub(super) user_id: u64,
    pub(super) redirect_uri: String,
    pub(super) challenge: Option<String>,
    pub(super) expires_at: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Repo {
    pub(super) id: u64,
    pub(super) owner: String,
    pub(super) name: String,
    pub(super) private: bool,
    pub(super) pushed_at: String,
    pub(super) installation_id: Option<u64>,
    pub(super) branches: Vec<String>,
    pub(super) members: Vec<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct Installation {
    pub(super) id: u64,
    pub(super) account_login: String,
    pub(super) account_type: String,
    pub(super) members: Vec<u64>,
}

/// An issue or pull request, for `GET /search/issues` and `GET /repos/{o}/{r}/pulls/{n}`.
#[derive(Debug, Clone)]
pub(super) struct Issue {
    pub(super) repo: String,
    pub(super) number: u64,
    pub(super) title: String,
    pub(super) open: bool,
    pub(super) author: u64,
    pub(super) assignee: Option<u64>,
    /// `Some` for a pull request: GitHub's `mergeable_state` (`dirty`, `unstable`, `clean`, ...).
    pub(super) mergeable_state: Option<&'static str>,
}

/// The user's work in progress: an assigned open issue, pull requests in three states, a closed issue.
fn seeded_issues() -> Vec<Issue> {
    let repo = format!("{USER_LOGIN}/repo-000");
    let item = |number: u64, title: &str, open: bool, assignee: Option<u64>, state: Option<&'static str>| Issue {
        repo: repo.clone(),
        number,
        title: title.to_owned(),
        open,
        author: USER_ID,
        assignee,
        mergeable_state: state,
    };
    vec![
        item(1, "Fix the flaky login test", true, Some(USER_ID), None),
        item(2, "Add a dark theme", true, None, Some("dirty")),
        item(3, "Bump dependencies", true, None, Some("unstable")),
        item(4, "Refactor the settings page", true, None, Some("clean")),
        item(5, "Old bug", false, Some(USER_ID), None),
    ]
}

pub(super) struct Inner {
    pub(super) base_url: String,
    pub(super) users: BTreeMap<u64, User>,
    pub(super) browser_user: u64,
    pub(super) tokens: HashMap<String, AccessToken>,
    pub(super) refresh_tokens: HashMap<String, RefreshToken>,
    pub(super) grants: HashMap<String, Grant>,
    pub(super) repos: Vec<Repo>,
    pub(super) installations: Vec<Installation>,
    pub(super) issues: Vec<Issue>,
    pub(super) faults: Faults,
    /// Tokens revoked through `DELETE /applications/{client_id}/token`.
    pub(super) revoked: u64,
    pub(super) access_token_lifetime: u64,
    pub(super) refresh_token_lifetime: u64,
    pub(super) calls: BTreeMap<String, u64>,
    pub(super) issued: Vec<String>,
}

impl Inner {
    pub(super) fn seeded(own_repos: usize) -> Inner {
        let mut users = BTreeMap::new();
        users.insert(
            USER_ID,
            User {
                id: USER_ID,
                login: USER_LOGIN.to_owned(),
                name: "The Octocat".to_owned(),
                email: Some("octocat@example.com".to_owned()),
            },
        );
        let mut tokens = HashMap::new();
        tokens.insert(
            PAT.to_owned(),
            AccessToken {
                user_id: USER_ID,
                kind: TokenKind::Classic,
                expires_at: None,
            },
        );
        let mut repos: Vec<Repo> = (0..own_repos)
            .map(|i| Repo {
                id: 1000 + i as u64,
                owner: USER_LOGIN.to_owned(),
                name: format!("repo-{i:03}"),
                private: i % 3 == 0,
                // Newest first by index, so sort=pushed has a visible order.
                pushed_at: format!("2026-{:02}-{:02}T12:00:00Z", 12 - (i / 28) % 12, 28 - i % 28),
                installation_id: Some(1),
                branches: (0..if i == 0 { 45 } else { 2 })
                    .map(|b| {
                        if b == 0 {
                            "main".to_owned()
                        } else {
                            format!("feature-{b:02}")
                        }
                    })
                    .collect(),
                members: vec![USER_ID],
            })
            .collect();
        for (i, name) in ["platform", "website"].iter().enumerate() {
            repos.push(Repo {
                id: 9000 + i as u64,
                owner: "acme".to_owned(),
                name: (*name).to_owned(),
                private: true,
                pushed_at: "2025-06-01T00:00:00Z".to_owned(),
                installation_id: Some(2),
                branches: vec!["main".to_owned()],
                members: vec![USER_ID],
            });
        }
        Inner {
            base_url: String::new(),
            users,
            browser_user: USER_ID,
            tokens,
            refresh_tokens: HashMap::new(),
            grants: HashMap::new(),
            repos,
            installations: vec![
                Installation {
                    id: 1,
                    account_login: USER_LOGIN.to_owned(),
                    account_type: "User".to_owned(),
                    members: vec![USER_ID],
                },
                Installation {
                    id: 2,
                    account_login: "acme".to_owned(),
                    account_type: "Organization".to_owned(),
                    members: vec![USER_ID],
                },
            ],
            issues: seeded_issues(),
            faults: Faults::default(),
            revoked: 0,
            access_token_lifetime: 28_800,
            refresh_token_lifetime: 15_897_600,
            calls: BTreeMap::new(),
            issued: Vec::new(),
        }
    }

    pub(super) fn login_of(&self, user_id: u64) -> Option<&str> {
        self.users.get(&user_id).map(|user| user.login.as_str())
    }

    pub(super) fn token(&self, token: &str) -> Option<&AccessToken> {
        self.tokens
            .get(token)
            .filter(|t| t.expires_at.is_none_or(|expiry| expiry > now()))
    }

    pub(super) fn issue_tokens(&mut self, user_id: u64) -> Value {
        let access = random_token("ghu_");
        let refresh = random_token("ghr_");
        self.issued.push(access.clone());
        self.issued.push(refresh.clone());
        let issued = now();
        self.tokens.insert(
            access.clone(),
            AccessToken {
                user_id,
                kind: TokenKind::App,
                expires_at: Some(issued + self.access_token_lifetime),
            },
        );
        self.refresh_tokens.insert(
            refresh.clone(),
            RefreshToken {
                user_id,
                expires_at: issued + self.refresh_token_lifetime,
                access_token: access.clone(),
            },
        );
        json!({
            "access_token": access,
            "expires_in": self.access_token_lifetime,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_token_lifetime,
            "scope": "",
            "token_type": "bearer",
        })
    }

    pub(super) fn repo_json(&self, repo: &Repo) -> Value {
        let owner_type = if self.users.values().any(|u| u.login == repo.owner) {
            "User"
        } else {
            "Organization"
        };
        json!({
            "id": repo.id,
            "node_id": format!("R_{}", repo.id),
            "name": repo.name,
            "full_name": format!("{}/{}", repo.owner, repo.name),
            "private": repo.private,
            "owner": {"login": repo.owner, "type": owner_type},
            "html_url": format!("https://github.com/{}/{}", repo.owner, repo.name),
            "description": null,
            "fork": false,
            "default_branch": "main",
            "pushed_at": repo.pushed_at,
            "updated_at": repo.pushed_at,
            "created_at": "2020-01-01T00:00:00Z",
            "stargazers_count": repo.id % 97,
            "language": "Rust",
        })
    }
}
