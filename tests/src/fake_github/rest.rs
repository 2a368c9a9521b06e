//! The REST endpoints: users, repositories, installations, search and branches, with GitHub's pagination,
//! rate limits and errors.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};

use super::{
    answer::Answer,
    state::{Inner, Issue, Repo, TokenKind, User},
};

/// `page`/`per_page` as GitHub reads them: defaults 1 and 30, `per_page` capped at 100.
pub(super) fn page_params(query: &HashMap<String, String>) -> (usize, usize) {
    let page = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(30usize)
        .min(100);
    (page, per_page)
}

/// One page of `items` and the `Link` header GitHub would send with it.
pub(super) fn paginate(
    base_url: &str,
    path: &str,
    query: &HashMap<String, String>,
    items: Vec<Value>,
) -> (Vec<Value>, Option<String>) {
    let (page, per_page) = page_params(query);
    let last = items.len().div_ceil(per_page).max(1);
    let slice = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let link_to = |target: usize, rel: &str| {
        let mut params: BTreeMap<&str, String> = query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        params.insert("page", target.to_string());
        params.insert("per_page", per_page.to_string());
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("<{base_url}{path}?{encoded}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link_to(page - 1, "prev"));
    }
    if page < last {
        links.push(link_to(page + 1, "next"));
        links.push(link_to(last, "last"));
    }
    if page > 1 {
        links.push(link_to(1, "first"));
    }
    (slice, (!links.is_empty()).then(|| links.join(", ")))
}

pub(super) fn with_link(answer: Answer, link: Option<String>) -> Answer {
    match link {
        Some(link) => answer.with_header("link", link),
        None => answer,
    }
}

pub(super) fn rest(
    inner: &Inner,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    user: &User,
    kind: TokenKind,
) -> Answer {
    if method != Method::GET {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let accessible = |repo: &&Repo| repo.members.contains(&user.id);
    match segments.as_slice() {
        ["user"] => Answer::json(
            StatusCode::OK,
            json!({
                "login": user.login,
                "id": user.id,
                "node_id": format!("U_{}", user.id),
                "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", user.id),
                "type": "User",
                "name": user.name,
                "email": user.email,
            }),
        ),
        ["user", "repos"] => {
            let mut repos: Vec<&Repo> = inner.repos.iter().filter(accessible).collect();
            match query.get("sort").map(String::as_str).unwrap_or("full_name") {
                "pushed" | "updated" => repos.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at)),
                "created" => repos.sort_by_key(|r| r.id),
                _ => repos.sort_by_key(|r| format!("{}/{}", r.owner, r.name).to_lowercase()),
            }
            let items = repos.iter().map(|r| inner.repo_json(r)).collect();
            let (page, link) = paginate(&inner.base_url, path, query, items);
            with_link(Answer::json(StatusCode::OK, Value::Array(page)), link)
        }
        ["search", "repositories"] => {
            let Some(q) = query.get("q").filter(|q| !q.trim().is_empty()) else {
                return Answer::json(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": "Validation Failed", "errors": [{"resource": "Search", "field": "q", "code": "missing"}], "documentation_url": "https://docs.github.com/v3/search", "status": "422"}),
                );
            };
            let mut owner_filter = None;
            let mut words = Vec::new();
            for term in q.split_whitespace() {
                match term.split_once(':') {
                    Some(("user" | "org", owner)) => owner_filter = Some(owner.to_lowercase()),
                    Some(_) => {}
                    None => words.push(term.to_lowercase()),
                }
            }
            let matching: Vec<Value> = inner
                .repos
                .iter()
                .filter(|r| !r.private || r.members.contains(&user.id))
                .filter(|r| owner_filter.as_ref().is_none_or(|o| r.owner.to_lowercase() == *o))
                .filter(|r| words.iter().all(|w| r.name.to_lowercase().contains(w)))
                .map(|r| inner.repo_json(r))
                .collect();
            let total = matching.len();
            let (page, link) = paginate(&inner.base_url, path, query, matching);
            with_link(
                Answer::json(
                    StatusCode::OK,
                    json!({"total_count": total, "incomplete_results": false, "items": page}),
                ),
                link,
            )
        }
        ["repos", owner, name, "branches"] => {
            let Some(repo) = inner
                .repos
                .iter()
                .filter(accessible)
                .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
            else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            let items = repo
                .branches
                .iter()
                .enumerate()
                .map(|(i, branch)| {
                    json!({
                        "name": branch,
                        "commit": {"sha": format!("{:040x}", repo.id * 1000 + i as u64), "url": format!("{}/repos/{}/{}/commits/{branch}", inner.base_url, repo.owner, repo.name)},
                        "protected": branch == "main",
                    })
                })
                .collect();
            let (page, link) = paginate(&inner.base_url, path, query, items);
            with_link(Answer::json(StatusCode::OK, Value::Array(page)), link)
        }
        ["user", "installations", ..] if kind == TokenKind::Classic => Answer::message(
            StatusCode::FORBIDDEN,
            "You must authenticate with an access token authorized to a GitHub App in order to list installations",
        ),
        ["user", "installations"] => {
            let items: Vec<Value> = inner
                .installations
                .iter()
                .filter(|i| i.members.contains(&user.id))
                .map(|i| {
                    json!({
                        "id": i.id,
                        "account": {"login": i.account_login, "type": i.account_type},
                        "app_id": 1,
                        "target_type": i.account_type,
                        "repository_selection": "selected",
                    })
                })
                .collect();
            let total = items.len();
            let (page, link) = paginate(&inner.base_url, path, query, items);
            with_link(
                Answer::json(StatusCode::OK, json!({"total_count": total, "installations": page})),
                link,
            )
        }
        ["search", "issues"] => {
            let q = query.get("q").map(String::as_str).unwrap_or_default();
            let matches = |issue: &&Issue| {
                q.split_whitespace().all(|term| match term.split_once(':') {
                    Some(("is", "open")) => issue.open,
                    Some(("is", "closed")) => !issue.open,
                    Some(("is", "pr")) => issue.mergeable_state.is_some(),
                    Some(("is", "issue")) => issue.mergeable_state.is_none(),
                    Some(("author", login)) => inner.login_of(issue.author) == Some(login),
                    Some(("assignee", login)) => issue.assignee.and_then(|id| inner.login_of(id)) == Some(login),
                    _ => true,
                })
            };
            let items: Vec<Value> = inner
                .issues
                .iter()
                .filter(matches)
                .map(|issue| {
                    let mut item = json!({
                        "number": issue.number,
                        "title": issue.title,
                        "state": if issue.open { "open" } else { "closed" },
                        "repository_url": format!("{}/repos/{}", inner.base_url, issue.repo),
                    });
                    if issue.mergeable_state.is_some() {
                        item["pull_request"] =
                            json!({"url": format!("{}/repos/{}/pulls/{}", inner.base_url, issue.repo, issue.number)});
                    }
                    item
                })
                .collect();
            let total = items.len();
            let (page, link) = paginate(&inner.base_url, path, query, items);
            with_link(
                Answer::json(
                    StatusCode::OK,
                    json!({"total_count": total, "incomplete_results": false, "items": page}),
                ),
                link,
            )
        }
        ["repos", owner, name, "pulls", number] => {
            let full_name = format!("{owner}/{name}");
            let pull = inner.issues.iter().find(|issue| {
                issue.repo == full_name
                    && issue.mergeable_state.is_some()
                    && number.parse::<u64>().ok() == Some(issue.number)
            });
            match pull {
                Some(pull) => Answer::json(
                    StatusCode::OK,
                    json!({
                        "number": pull.number,
                        "title": pull.title,
                        "state": if pull.open { "open" } else { "closed" },
                        "mergeable": pull.mergeable_state != Some("dirty"),
                        "mergeable_state": pull.mergeable_state,
                    }),
                ),
                None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        ["user", "installations", id, "repositories"] => {
            let installation = id.parse::<u64>().ok().and_then(|id| {
                inner
                    .installations
                    .iter()
                    .find(|i| i.id == id && i.members.contains(&user.id))
            });
            let Some(installation) = installation else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            let mut repos: Vec<&Repo> = inner
                .repos
                .iter()
                .filter(|r| r.installation_id == Some(installation.id))
                .filter(accessible)
                .collect();
            repos.sort_by_key(|r| r.id);
            let items: Vec<Value> = repos.iter().map(|r| inner.repo_json(r)).collect();
            let total = items.len();
            let (page, link) = paginate(&inner.base_url, path, query, items);
            with_link(
                Answer::json(
                    StatusCode::OK,
                    json!({"total_count": total, "repository_selection": "selected", "repositories": page}),
                ),
                link,
            )
        }
        _ => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
    }
}
