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

mod answer;
mod oauth;
mod rest;
mod state;

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use serde_json::json;
use warp::{
    Filter,
    http::{HeaderMap, Method, StatusCode},
    path::FullPath,
};

use self::{
    answer::Answer,
    state::{AccessToken, Inner, TokenKind, User},
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
    /// Every request (REST and OAuth) answers `307 Temporary Redirect` to this base URL + the same path: a
    /// client that follows it sends its token or client secret there.
    pub redirect_to: Option<String>,
    /// REST requests answer a body of this many bytes (a JSON string), declared with its length.
    pub oversized_body: Option<usize>,
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

    /// How many tokens were revoked through `DELETE /applications/{client_id}/token`.
    pub fn revoked_tokens(&self) -> u64 {
        self.inner().revoked
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
    if let Some(target) = &inner.faults.redirect_to {
        let separator = if query.is_empty() { "" } else { "?" };
        return Answer {
            status: StatusCode::TEMPORARY_REDIRECT,
            headers: vec![("location".into(), format!("{target}{path}{separator}{query}"))],
            body: Vec::new(),
        };
    }
    let query = params(query);
    if path.starts_with("/login/oauth/") {
        return oauth::oauth(&mut inner, method, path, &query, headers, body);
    }
    if headers.get("user-agent").is_none() {
        return Answer {
            status: StatusCode::FORBIDDEN,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: b"Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n".to_vec(),
        };
    }
    if let Some(size) = inner.faults.oversized_body {
        let mut body = vec![b'x'; size];
        if let (Some(first), Some(last)) = (body.first_mut(), size.checked_sub(1)) {
            *first = b'"';
            body[last] = b'"';
        }
        return Answer {
            status: StatusCode::OK,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        };
    }
    if method == Method::DELETE && path.starts_with("/applications/") {
        return oauth::revoke_token(&mut inner, path, headers, body);
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
    let answer = rest::rest(&inner, method, path, &query, &user, access.kind);
    answer
        .with_header("x-ratelimit-limit", "5000")
        .with_header("x-ratelimit-remaining", "4999")
        .with_header("x-ratelimit-used", "1")
        .with_header("x-ratelimit-reset", reset)
        .with_header("x-ratelimit-resource", "core")
}
