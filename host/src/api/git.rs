//! The `/api/user/*` routes: query parameters parsed into the typed queries of the `git_service` slot, and the
//! typed records it answers with written as the JSON the OpenHands web frontend reads.

use openhost_plugin_api::{
    Branch, BranchQuery, BranchSearch, GitUser, Identity, InstallationRepositoryQuery, Page, PageRequest, Repository,
    RepositoryQuery, RequestView, SearchQuery, Slot, SuggestedTask,
    types::{RStr, RString},
};
use serde_json::{Value, json};

use crate::{
    api::{Failure, Outcome, ok_json},
    app::Serving,
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

/// Empty repository pages skipped over in one request before an empty array is answered.
const MAX_EMPTY_PAGES_SKIPPED: usize = 20;
/// Installation pages read for `GET /api/user/installations` (100 each).
const MAX_INSTALLATION_PAGES: u32 = 10;

/// Answers a `/api/user/*` route for `identity`, in the shapes of the OpenHands frontend (d6fab190bf,
/// `frontend/src/types/git.d.ts` and `frontend/src/api/git-service/git-service.api.ts`).
pub async fn handle(app: &Serving<'_>, identity: &Identity, route: GitRoute, request: &RequestView<'_>) -> Outcome {
    let params = Params::of(request);
    let active = &app.registry.git_service;
    let service = &active.object;
    let who = identity.as_view();
    let blame = |error| Failure::new(&active.blame(), error);
    let json = match route {
        GitRoute::UserInfo => user_json(
            &app.within_deadline(active.site(Slot::GitService), service.user_info(who))
                .await
                .map_err(blame)?,
        ),
        GitRoute::Repositories => {
            // In SaaS mode the frontend asks installation by installation (interface 1.1).
            let installation_id = params.get("installation_id");
            if !installation_id.is_empty() {
                let query = InstallationRepositoryQuery {
                    installation_id: RStr::from(installation_id),
                    page: params.page()?,
                };
                let page = app
                    .within_deadline(
                        active.site(Slot::GitService),
                        service.installation_repositories(who, query),
                    )
                    .await
                    .map_err(blame)?;
                return ok_json(&repositories_json(&page, request.path(), query.page));
            }
            let mut query = RepositoryQuery {
                sort: RStr::from(params.get("sort")),
                page: params.page()?,
            };
            // A plain array cannot say "empty, but more follows" (the next page rides on the first item), so an
            // empty page with a next one (a decorator filtered it, an installation has no repositories) is
            // skipped over, a bounded number of times.
            let mut skipped = 0;
            let page = loop {
                let page = app
                    .within_deadline(active.site(Slot::GitService), service.repositories(who, query))
                    .await
                    .map_err(blame)?;
                match page.next_page.into_option() {
                    Some(next) if page.items.is_empty() && skipped < MAX_EMPTY_PAGES_SKIPPED => {
                        query.page.page = next;
                        skipped += 1;
                    }
                    _ => break page,
                }
            };
            repositories_json(&page, request.path(), query.page)
        }
        GitRoute::SearchRepositories => {
            let query = SearchQuery {
                query: RStr::from(params.required("query")?),
                sort: RStr::from(params.get("sort")),
                order: RStr::from(params.get("order")),
                page: params.page()?,
            };
            let page = app
                .within_deadline(active.site(Slot::GitService), service.search_repositories(who, query))
                .await
                .map_err(blame)?;
            repositories_json(&page, request.path(), query.page)
        }
        GitRoute::Branches => {
            let query = BranchQuery {
                repository: RStr::from(params.required("repository")?),
                page: params.page()?,
            };
            let page = app
                .within_deadline(active.site(Slot::GitService), service.branches(who, query))
                .await
                .map_err(blame)?;
            json!({
                "branches": page.items.iter().map(branch_json).collect::<Vec<_>>(),
                "has_next_page": page.next_page.is_some(),
                "current_page": query.page.page,
                "per_page": query.page.per_page,
                "total_count": page.total_count.into_option(),
            })
        }
        GitRoute::SearchBranches => {
            let query = BranchSearch {
                repository: RStr::from(params.required("repository")?),
                query: RStr::from(params.get("query")),
                per_page: params.number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
            };
            let page = app
                .within_deadline(active.site(Slot::GitService), service.search_branches(who, query))
                .await
                .map_err(blame)?;
            Value::Array(page.items.iter().map(branch_json).collect())
        }
        GitRoute::SuggestedTasks => {
            let tasks = app
                .within_deadline(active.site(Slot::GitService), service.suggested_tasks(who))
                .await
                .map_err(blame)?;
            Value::Array(tasks.iter().map(task_json).collect())
        }
        GitRoute::Installations => {
            let mut ids = Vec::new();
            let mut next = Some(1);
            while let Some(page) = next.filter(|page| *page <= MAX_INSTALLATION_PAGES) {
                let request = PageRequest { page, per_page: 100 };
                let answer = app
                    .within_deadline(active.site(Slot::GitService), service.installations(who, request))
                    .await
                    .map_err(blame)?;
                ids.extend(answer.items.iter().map(|installation| json!(installation.id.as_str())));
                next = answer.next_page.into_option();
            }
            Value::Array(ids)
        }
    };
    ok_json(&json)
}

/// A plain array of repositories; when there is a next page, the first carries it as GitHub's `Link` text in
/// `link_header`, which is where the frontend looks.
fn repositories_json(page: &Page<Repository>, path: &str, asked: PageRequest) -> Value {
    let mut items: Vec<Value> = page.items.iter().map(repository_json).collect();
    if let (Some(first), Some(next)) = (items.first_mut(), page.next_page.into_option()) {
        first["link_header"] = json!(format!(
            "<{path}?page={next}&per_page={}>; rel=\"next\"",
            asked.per_page
        ));
    }
    Value::Array(items)
}

fn text_json(text: &openhost_plugin_api::types::ROption<RString>) -> Value {
    text.as_ref().map_or(Value::Null, |t| json!(t.as_str()))
}

fn user_json(user: &GitUser) -> Value {
    json!({
        "id": user.id.as_str(),
        "login": user.login.as_str(),
        "name": text_json(&user.name),
        "email": text_json(&user.email),
        "avatar_url": text_json(&user.avatar_url),
        "company": text_json(&user.company),
    })
}

fn repository_json(repo: &Repository) -> Value {
    json!({
        "id": repo.id.as_str(),
        "full_name": repo.full_name.as_str(),
        "git_provider": repo.git_provider.as_str(),
        "is_public": repo.is_public,
        "stargazers_count": repo.stargazers_count.into_option(),
        "pushed_at": text_json(&repo.pushed_at),
        "owner_type": repo.owner_type.as_str(),
        "main_branch": text_json(&repo.main_branch),
    })
}

/// The frontend's `SuggestedTask` (`frontend/src/utils/types.ts`).
fn task_json(task: &SuggestedTask) -> Value {
    json!({
        "git_provider": task.git_provider.as_str(),
        "task_type": task.task_type.as_str(),
        "repo": task.repo.as_str(),
        "issue_number": task.issue_number,
        "title": task.title.as_str(),
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
