//! A fake GitHub on a loopback port, for tests and local runs. It implements the slice of GitHub that openhost
//! uses the way GitHub documents it, not the way openhost's code would like it:
//!
//! - REST: `GET /user`, `/user/repos`, `/user/installations`, `/user/installations/{id}/repositories`,
//!   `/search/repositories`, `/repos/{owner}/{repo}/branches`; `Link` pagination (`per_page` default 30, max 100);
//!   `x-ratelimit-*` headers; `401 {"message":"Bad credentials"}`; `403` without `User-Agent`; installation
//!   endpoints only for GitHub App user tokens (a classic PAT gets 403).
//! - OAuth web flow: `/login/oauth/authorize` (auto-approves as the "browser user" and redirects back with `code`
//!   and `state`), `/login/oauth/access_token` (form, JSON or query parameters; JSON answer only with
//!   `Accept: application/json`; errors as HTTP 200 with `error`; codes single-use and valid 10 minutes; PKCE S256
//!   checked when a challenge was sent; refresh tokens single-use, a refresh also revokes the old access token).
//! - Faults to inject: latency, N upcoming 500s, primary rate limit (403 + `x-ratelimit-remaining: 0`), secondary
//!   rate limit (429 + `retry-after`), a denied authorization.
//! - Counters per endpoint, so tests can assert "exactly one refresh".

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};
use warp::{
    Filter,
    http::{HeaderMap, Method, StatusCode},
    path::FullPath,
};

/// The OAuth client the fake accepts.
pub const CLIENT_ID: &str = "Iv1.fake0client0id";
pub const CLIENT_SECRET: &str = "fake-client-secret-do-not-log-0123456789";
/// A classic personal access token of [`USER_LOGIN`].
pub const PAT: &str = "ghp_fakePersonalAccessToken000000000001";
pub const USER_ID: u64 = 4242;
pub const USER_LOGIN: &str = "octocat";

/// Faults the next requests will meet.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// The next this many REST requests answer 500.
    pub server_errors: u32,
    /// REST requests answer 403 with `x-ratelimit-remaining: 0`.
    pub rate_limited: bool,
    /// REST requests answer 429 with `retry-after: 30`.
    pub secondary_rate_limited: bool,
    /// The next authorization is denied (`error=access_denied`).
    pub deny_authorization: bool,
}

#[derive(Debug, Clone)]
struct User {
    id: u64,
    login: String,
    name: String,
    email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Classic,
    App,
}

#[derive(Debug, Clone)]
struct AccessToken {
    user_id: u64,
    kind: TokenKind,
    expires_at: Option<u64>,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    user_id: u64,
    expires_at: u64,
    access_token: String,
}

#[derive(Debug, Clone)]
struct Grant {
    user_id: u64,
    redirect_uri: String,
    challenge: Option<String>,
    expires_at: u64,
}

#[derive(Debug, Clone)]
struct Repo {
    id: u64,
    owner: String,
    name: String,
    private: bool,
    pushed_at: String,
    installation_id: Option<u64>,
    branches: Vec<String>,
    members: Vec<u64>,
}

#[derive(Debug, Clone)]
struct Installation {
    id: u64,
    account_login: String,
    account_type: String,
    members: Vec<u64>,
}

struct Inner {
    base_url: String,
    users: BTreeMap<u64, User>,
    browser_user: u64,
    tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
    grants: HashMap<String, Grant>,
    repos: Vec<Repo>,
    installations: Vec<Installation>,
    faults: Faults,
    access_token_lifetime: u64,
    refresh_token_lifetime: u64,
    calls: BTreeMap<String, u64>,
    issued: Vec<String>,
}

type Shared = Arc<Mutex<Inner>>;

/// A running fake GitHub. Stops when dropped.
pub struct FakeGithub {
    pub base_url: String,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 20];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("system randomness");
    format!("{prefix}{}", hex::encode(bytes))
}

impl FakeGithub {
    /// Starts on `127.0.0.1:0` with [`USER_LOGIN`], its [`PAT`], and `repos` repositories of its own (plus two
    /// in an organisation installation).
    pub fn start(repos: usize) -> FakeGithub {
        FakeGithub::start_on("127.0.0.1:0".parse().expect("loopback address"), repos)
    }

    /// Starts on `addr`.
    pub fn start_on(addr: SocketAddr, repos: usize) -> FakeGithub {
        let state: Shared = Arc::new(Mutex::new(Inner::seeded(repos)));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server_state = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("fake github runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr).await.expect("bind fake github");
                addr_tx
                    .send(listener.local_addr().expect("local addr"))
                    .expect("report address");
                warp::serve(routes(server_state))
                    .incoming(listener)
                    .graceful(async {
                        let _ = stop_rx.await;
                    })
                    .run()
                    .await;
            });
        });
        let local = addr_rx.recv().expect("fake github started");
        let base_url = format!("http://{local}");
        state.lock().expect("state").base_url = base_url.clone();
        FakeGithub {
            base_url,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().expect("fake github state")
    }

    /// Calls so far to `"METHOD /path"` (path without query; `{id}` segments as sent).
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.inner().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// Every endpoint called so far, with counts.
    pub fn all_calls(&self) -> BTreeMap<String, u64> {
        self.inner().calls.clone()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.inner().faults = faults;
    }

    /// Lifetimes (seconds) of access and refresh tokens issued from now on.
    pub fn set_token_lifetimes(&self, access: u64, refresh: u64) {
        let mut inner = self.inner();
        inner.access_token_lifetime = access;
        inner.refresh_token_lifetime = refresh;
    }

    /// Adds a user and makes it the one who approves the next authorizations; returns nothing secret.
    pub fn add_user(&self, id: u64, login: &str) {
        let mut inner = self.inner();
        inner.users.insert(
            id,
            User {
                id,
                login: login.to_owned(),
                name: format!("{login} (fake)"),
                email: None,
            },
        );
        inner.browser_user = id;
    }

    /// Makes `id` the user who approves the next authorizations.
    pub fn set_browser_user(&self, id: u64) {
        self.inner().browser_user = id;
    }

    /// Adds a classic personal access token for `user_id`.
    pub fn add_pat(&self, token: &str, user_id: u64) {
        self.inner().tokens.insert(
            token.to_owned(),
            AccessToken {
                user_id,
                kind: TokenKind::Classic,
                expires_at: None,
            },
        );
    }

    /// Revokes every token of `user_id` (as when the user revokes the app).
    pub fn revoke_all(&self, user_id: u64) {
        let mut inner = self.inner();
        inner.tokens.retain(|_, t| t.user_id != user_id);
        inner.refresh_tokens.retain(|_, t| t.user_id != user_id);
    }

    /// Revokes the access tokens of `user_id` but keeps refresh tokens (GitHub answers 401 until a refresh).
    pub fn revoke_access_tokens(&self, user_id: u64) {
        self.inner().tokens.retain(|_, t| t.user_id != user_id);
    }

    /// Every access and refresh token issued so far (to prove none of them was stored or logged).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.inner().issued.clone()
    }

    /// Whether an access token is currently accepted.
    pub fn token_is_valid(&self, token: &str) -> bool {
        self.inner().token(token).is_some()
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Inner {
    fn seeded(own_repos: usize) -> Inner {
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
            faults: Faults::default(),
            access_token_lifetime: 28_800,
            refresh_token_lifetime: 15_897_600,
            calls: BTreeMap::new(),
            issued: Vec::new(),
        }
    }

    fn token(&self, token: &str) -> Option<&AccessToken> {
        self.tokens
            .get(token)
            .filter(|t| t.expires_at.is_none_or(|expiry| expiry > now()))
    }

    fn issue_tokens(&mut self, user_id: u64) -> Value {
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

    fn repo_json(&self, repo: &Repo) -> Value {
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

/// A fake's answer.
struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(status: StatusCode, value: Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
            body: value.to_string().into_bytes(),
        }
    }

    fn message(status: StatusCode, message: &str) -> Answer {
        Answer::json(
            status,
            json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": status.as_str(),
            }),
        )
    }

    fn with_header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    fn redirect(location: String) -> Answer {
        Answer {
            status: StatusCode::FOUND,
            headers: vec![("location".into(), location)],
            body: Vec::new(),
        }
    }
}

fn routes(state: Shared) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(raw_query)
        .and(warp::header::headers_cloned())
        .and(warp::body::bytes())
        .then(
            move |method: Method, path: FullPath, query: String, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&state);
                async move {
                    let latency = state.lock().expect("state").faults.latency;
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    let answer = answer(&state, &method, path.as_str(), &query, &headers, &body);
                    let mut response = warp::reply::Response::new(answer.body.into());
                    *response.status_mut() = answer.status;
                    for (name, value) in answer.headers {
                        if let (Ok(name), Ok(value)) = (
                            warp::http::header::HeaderName::from_bytes(name.as_bytes()),
                            warp::http::HeaderValue::from_str(&value),
                        ) {
                            response.headers_mut().append(name, value);
                        }
                    }
                    response
                }
            },
        )
}

fn params(text: &str) -> HashMap<String, String> {
    form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

fn answer(state: &Shared, method: &Method, path: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
    let mut inner = state.lock().expect("state");
    let endpoint = format!("{method} {path}");
    *inner.calls.entry(endpoint).or_default() += 1;
    let query = params(query);
    if path.starts_with("/login/oauth/") {
        return oauth(&mut inner, method, path, &query, headers, body);
    }
    if headers.get("user-agent").is_none() {
        return Answer {
            status: StatusCode::FORBIDDEN,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n".to_vec(),
        };
    }
    if inner.faults.server_errors > 0 {
        inner.faults.server_errors -= 1;
        return Answer::message(StatusCode::INTERNAL_SERVER_ERROR, "Server Error");
    }
    let reset = (now() + 3600).to_string();
    if inner.faults.rate_limited {
        return Answer::json(
            StatusCode::FORBIDDEN,
            json!({
                "message": "API rate limit exceeded for user ID 4242. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403",
            }),
        )
        .with_header("x-ratelimit-limit", "5000")
        .with_header("x-ratelimit-remaining", "0")
        .with_header("x-ratelimit-used", "5000")
        .with_header("x-ratelimit-reset", reset)
        .with_header("x-ratelimit-resource", "core");
    }
    if inner.faults.secondary_rate_limited {
        return Answer::message(
            StatusCode::TOO_MANY_REQUESTS,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )
        .with_header("retry-after", "30");
    }

    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("token ")))
        .map(str::trim);
    let Some(token) = token else {
        return Answer::message(StatusCode::UNAUTHORIZED, "Requires authentication");
    };
    let Some(access) = inner.token(token).cloned() else {
        return Answer::message(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    let Some(user) = inner.users.get(&access.user_id).cloned() else {
        return Answer::message(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    let answer = rest(&inner, method, path, &query, &user, access.kind);
    answer
        .with_header("x-ratelimit-limit", "5000")
        .with_header("x-ratelimit-remaining", "4999")
        .with_header("x-ratelimit-used", "1")
        .with_header("x-ratelimit-reset", reset)
        .with_header("x-ratelimit-resource", "core")
}

/// `page`/`per_page` as GitHub reads them: defaults 1 and 30, `per_page` capped at 100.
fn page_params(query: &HashMap<String, String>) -> (usize, usize) {
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
fn paginate(
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

fn with_link(answer: Answer, link: Option<String>) -> Answer {
    match link {
        Some(link) => answer.with_header("link", link),
        None => answer,
    }
}

fn rest(
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

fn oauth(
    inner: &mut Inner,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    match (method.as_str(), path) {
        ("GET", "/login/oauth/authorize") => authorize(inner, query),
        ("POST", "/login/oauth/access_token") => {
            let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
            let mut params = query.clone();
            if content_type.starts_with("application/json") {
                if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
                    params.extend(map.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_owned()))));
                }
            } else {
                params.extend(params_from(body));
            }
            let wants_json = headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/json"));
            let result = access_token(inner, &params);
            let grant_kind = if params.get("grant_type").map(String::as_str) == Some("refresh_token") {
                "refresh"
            } else {
                "code"
            };
            let key = format!("POST /login/oauth/access_token ({grant_kind})");
            *inner.calls.entry(key).or_default() += 1;
            let value = result.unwrap_or_else(|(error, description)| {
                json!({
                    "error": error,
                    "error_description": description,
                    "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
                })
            });
            // GitHub answers token errors with HTTP 200.
            if wants_json {
                Answer::json(StatusCode::OK, value)
            } else {
                let pairs: Vec<(String, String)> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                    .collect();
                Answer {
                    status: StatusCode::OK,
                    headers: vec![(
                        "content-type".into(),
                        "application/x-www-form-urlencoded; charset=utf-8".into(),
                    )],
                    body: form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs)
                        .finish()
                        .into_bytes(),
                }
            }
        }
        _ => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn params_from(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn authorize(inner: &mut Inner, query: &HashMap<String, String>) -> Answer {
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return Answer::message(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(redirect_uri) = query.get("redirect_uri").cloned() else {
        return Answer::message(StatusCode::BAD_REQUEST, "redirect_uri is required by this fake");
    };
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut back = form_urlencoded::Serializer::new(String::new());
    if std::mem::take(&mut inner.faults.deny_authorization) {
        back.append_pair("error", "access_denied");
        back.append_pair("error_description", "The user has denied your application access.");
        back.append_pair(
            "error_uri",
            "https://docs.github.com/apps/troubleshooting-authorization-request-errors/#access-denied",
        );
    } else {
        let code = random_token("");
        let challenge = match query.get("code_challenge_method").map(String::as_str) {
            Some("S256") | None => query.get("code_challenge").cloned(),
            Some(_) => return Answer::message(StatusCode::BAD_REQUEST, "unsupported code_challenge_method"),
        };
        inner.grants.insert(
            code.clone(),
            Grant {
                user_id: inner.browser_user,
                redirect_uri: redirect_uri.clone(),
                challenge,
                expires_at: now() + 600,
            },
        );
        back.append_pair("code", &code);
    }
    if let Some(state) = query.get("state") {
        back.append_pair("state", state);
    }
    Answer::redirect(format!("{redirect_uri}{separator}{}", back.finish()))
}

type TokenResult = Result<Value, (&'static str, &'static str)>;

fn access_token(inner: &mut Inner, params: &HashMap<String, String>) -> TokenResult {
    if params.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || params.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return Err((
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ));
    }
    if params.get("grant_type").map(String::as_str) == Some("refresh_token") {
        let bad = ("bad_refresh_token", "The refresh token passed is incorrect or expired.");
        let token = params.get("refresh_token").ok_or(bad)?;
        // Single use: taken out whether or not it is still valid.
        let refresh = inner.refresh_tokens.remove(token).ok_or(bad)?;
        if refresh.expires_at <= now() {
            return Err(bad);
        }
        inner.tokens.remove(&refresh.access_token);
        return Ok(inner.issue_tokens(refresh.user_id));
    }
    let bad_code = ("bad_verification_code", "The code passed is incorrect or expired.");
    let code = params.get("code").ok_or(bad_code)?;
    let grant = inner.grants.remove(code).ok_or(bad_code)?;
    if grant.expires_at <= now() {
        return Err(bad_code);
    }
    if let Some(redirect_uri) = params.get("redirect_uri")
        && *redirect_uri != grant.redirect_uri
    {
        return Err((
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        ));
    }
    if let Some(challenge) = &grant.challenge {
        let verifier = params.get("code_verifier").ok_or(bad_code)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        if computed != *challenge {
            return Err(bad_code);
        }
    }
    Ok(inner.issue_tokens(grant.user_id))
}
