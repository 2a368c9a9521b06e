//! The `/api/user/*` routes: query parameters parsed into the typed queries of the `git_service` slot, and the
//! typed records it answers with written as the API's JSON.

use openhost_plugin_api::{
    Branch, BranchQuery, GitUser, Identity, Installation, Page, PageRequest, Repository, RepositoryQuery, RequestView,
    SearchQuery,
    types::{RStr, RString},
};
use serde_json::{Value, json};

use crate::{
    api::{Failure, Outcome, ok_json},
    app::App,
    routes::GitRoute,
};

const DEFAULT_PER_PAGE: u32 = 30;
const MAX_PER_PAGE: u32 = 100;
const MAX_PAGE: u32 = 100_000;

/// The decoded query parameters of a request.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(request: &RequestView<'_>) -> Params {
        Params(
            form_urlencoded::parse(request.query().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn number(&self, name: &str, default: u32, max: u32) -> Result<u32, Failure> {
        match self.get(name) {
            "" => Ok(default),
            text => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    Failure::host(
                        400,
                        "invalid_request",
                        format!("`{name}` must be a number from 1 to {max}"),
                    )
                }),
        }
    }

    fn page(&self) -> Result<PageRequest, Failure> {
        Ok(PageRequest {
            page: self.number("page", 1, MAX_PAGE)?,
            per_page: self.number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
        })
    }

    fn required(&self, name: &str) -> Result<&str, Failure> {
        Some(self.get(name).trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Failure::host(400, "invalid_request", format!("`{name}` is required")))
    }
}

/// Answers a `/api/user/*` route for `identity`.
pub async fn handle(app: &App, identity: &Identity, route: GitRoute, request: &RequestView<'_>) -> Outcome {
    let params = Params::of(request);
    let active = &app.registry.git_service;
    let service = &active.object;
    let who = identity.as_view();
    let blame = |error| Failure::new(&active.blame(), error);
    let json = match route {
        GitRoute::UserInfo => user_json(&app.within_deadline(service.user_info(who)).await.map_err(blame)?),
        GitRoute::Repositories => {
            let query = RepositoryQuery {
                sort: RStr::from(params.get("sort")),
                page: params.page()?,
            };
            page_json(
                &app.within_deadline(service.repositories(who, query))
                    .await
                    .map_err(blame)?,
                repository_json,
            )
        }
        GitRoute::SearchRepositories => {
            let query = SearchQuery {
                query: RStr::from(params.required("query")?),
                sort: RStr::from(params.get("sort")),
                order: RStr::from(params.get("order")),
                page: params.page()?,
            };
            let page = app
                .within_deadline(service.search_repositories(who, query))
                .await
                .map_err(blame)?;
            page_json(&page, repository_json)
        }
        GitRoute::Branches => {
            let query = BranchQuery {
                repository: RStr::from(params.required("repository")?),
                page: params.page()?,
            };
            page_json(
                &app.within_deadline(service.branches(who, query)).await.map_err(blame)?,
                branch_json,
            )
        }
        GitRoute::Installations => {
            let page = app
                .within_deadline(service.installations(who, params.page()?))
                .await
                .map_err(blame)?;
            page_json(&page, installation_json)
        }
    };
    ok_json(&json)
}

/// A provider id: a JSON number where it is one (GitHub's), else text.
fn id_json(id: &RString) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id.as_str()), |n| json!(n))
}

fn text_json(text: &openhost_plugin_api::types::ROption<RString>) -> Value {
    text.as_ref().map_or(Value::Null, |t| json!(t.as_str()))
}

fn user_json(user: &GitUser) -> Value {
    json!({
        "id": id_json(&user.id),
        "login": user.login.as_str(),
        "name": text_json(&user.name),
        "email": text_json(&user.email),
        "avatar_url": text_json(&user.avatar_url),
    })
}

fn repository_json(repo: &Repository) -> Value {
    json!({
        "id": id_json(&repo.id),
        "full_name": repo.full_name.as_str(),
        "git_provider": repo.git_provider.as_str(),
        "is_public": repo.is_public,
        "private": !repo.is_public,
        "stargazers_count": repo.stargazers_count.into_option(),
        "pushed_at": text_json(&repo.pushed_at),
        "owner_type": repo.owner_type.as_str(),
        "main_branch": text_json(&repo.main_branch),
        "default_branch": text_json(&repo.main_branch),
    })
}

fn branch_json(branch: &Branch) -> Value {
    json!({
        "name": branch.name.as_str(),
        "commit_sha": branch.commit_sha.as_str(),
        "protected": branch.protected,
        "last_push_date": text_json(&branch.last_push_date),
    })
}

fn installation_json(installation: &Installation) -> Value {
    json!({
        "id": id_json(&installation.id),
        "account": {
            "login": installation.account_login.as_str(),
            "type": installation.account_type.as_str(),
        },
    })
}

/// `{"items": [...], "next_page": n|null}`.
fn page_json<T>(page: &Page<T>, item: fn(&T) -> Value) -> Value {
    json!({
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "next_page": page.next_page.into_option(),
    })
}
