//! The SaaS git service (overrides `git_service`): the token comes from the token store, is refreshed before it
//! expires, and repositories come from the user's installations of the GitHub App.
//!
//! GitHub rotates refresh tokens: using one invalidates it and the access token issued with it. So a refresh is
//! single-flight per user, across every host on the store: requests of one process queue on a lock of their own,
//! and the one at its head takes the host's lease `refresh/<user>` (interface 1.3), which hosts sharing a
//! PostgreSQL store share. Whoever gets it re-reads the store (another host may have refreshed meanwhile), and
//! refreshes only if the tokens are still stale; the new pair is durable before anyone uses it. A 401 from GitHub
//! causes at most one forced refresh and one retry. A refresh token GitHub rejects (or one past its expiry) ends
//! the user's tokens and sessions: 401 `reauth_required`. The same single-flight refresh serves the tokens of an
//! OpenID Connect sign-in (crate::oidc::broker), at the provider's token endpoint.

use std::{sync::Arc, time::Duration};

use oauth2::{RefreshToken, RequestTokenError};
use openhost_github::{GitData, GitError, GitQuery, GithubAccess};
use openhost_plugin_api::{Header, PageRequest, PluginError, RepositoryPage};

use crate::{
    Enterprise,
    clock::now,
    oauth_client::{HostHttp, stored_tokens, token_error},
    tokens::StoredTokens,
};

/// Repository pages walk the installations one after another: page `k * STRIDE + n` is page `n` of the
/// `k`-th installation. Clients only follow `next_page`, so the numbering is theirs to ignore.
const PAGES_PER_INSTALLATION: u32 = 1000;
/// Installations read per request, at 100 a page.
const MAX_INSTALLATION_PAGES: u32 = 10;
/// The refresh lease's time to live: how long hosts wait for a holder that died mid-refresh. A living holder's
/// lease is renewed, however long GitHub takes.
const REFRESH_LEASE_TTL: Duration = Duration::from_secs(10);
/// How long a request waits for another host's refresh: past GitHub's deadline (15 s) plus a lapsed lease.
const REFRESH_LEASE_WAIT: Duration = Duration::from_secs(30);

/// How the SaaS git service reaches GitHub: with the user's app token, refreshed as needed.
pub struct AppTokenAccess {
    pub enterprise: Arc<Enterprise>,
}

impl GithubAccess for AppTokenAccess {
    async fn get(&self, user_id: &str, query: &GitQuery) -> Result<GitData, PluginError> {
        self.enterprise.api(user_id, query).await
    }

    fn manages_tokens(&self) -> bool {
        true
    }

    /// Installations list their repositories in their own order: `sort` does not apply.
    async fn repositories(&self, user_id: &str, _sort: &str, page: PageRequest) -> Result<RepositoryPage, PluginError> {
        self.enterprise.installation_repositories(user_id, page).await
    }
}

impl Enterprise {
    /// One API call for `uid` with a fresh token; a 401 is retried once after a forced refresh.
    pub async fn api(&self, uid: &str, query: &GitQuery) -> Result<GitData, PluginError> {
        let token = self.access_token(uid, None).await?;
        match self.github_get(&token, query).await {
            Err(GitError::TokenInvalid) => {
                tracing::info!(user = uid, "GitHub rejected the access token; refreshing once");
                let token = self.access_token(uid, Some(&token)).await?;
                Ok(self.github_get(&token, query).await?)
            }
            result => Ok(result?),
        }
    }

    /// A usable access token: the stored one, or a refreshed one if it expires within the margin or is the
    /// token GitHub just `rejected`.
    pub(crate) async fn access_token(&self, uid: &str, rejected: Option<&str>) -> Result<String, PluginError> {
        let margin = self.config.refresh_margin_secs;
        let stale = |tokens: &StoredTokens| {
            rejected == Some(tokens.access_token.as_str())
                || tokens.access_expires_at.is_some_and(|expiry| expiry <= now() + margin)
        };
        match self.tokens.load(uid).await? {
            Some(tokens) if !stale(&tokens) => return Ok(tokens.access_token),
            Some(_) => {}
            None => return Err(self.reauth(uid).await),
        }
        let lock = self.refresh_lock(uid);
        let _this_process = lock.lock().await;
        match self.tokens.load(uid).await? {
            Some(tokens) if !stale(&tokens) => return Ok(tokens.access_token),
            Some(_) => {}
            None => return Err(self.reauth(uid).await),
        }
        let lease = format!("refresh/{uid}");
        let Some(_every_host) = self.host.lease(&lease, REFRESH_LEASE_TTL, REFRESH_LEASE_WAIT).await? else {
            tracing::warn!(user = uid, "another host's token refresh did not end in time");
            return Err(PluginError::http(
                503,
                "git_provider_unavailable",
                "a refresh of the sign-in's tokens is taking too long; try again",
            ));
        };
        match self.tokens.load(uid).await? {
            Some(tokens) if !stale(&tokens) => Ok(tokens.access_token),
            Some(tokens) => self.refresh(uid, tokens).await,
            None => Err(self.reauth(uid).await),
        }
    }

    /// The per-user refresh lock. Locks nobody holds are dropped as new ones are made.
    fn refresh_lock(&self, uid: &str) -> Arc<futures_util::lock::Mutex<()>> {
        let mut locks = self
            .refresh_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        Arc::clone(locks.entry(uid.to_owned()).or_default())
    }

    async fn refresh(&self, uid: &str, old: StoredTokens) -> Result<String, PluginError> {
        let usable = old.refresh_expires_at.is_none_or(|expiry| expiry > now());
        let Some(refresh_token) = old.refresh_token.clone().filter(|_| usable) else {
            return Err(self.reauth(uid).await);
        };
        let response = self
            .login_client()
            .await?
            .exchange_refresh_token(&RefreshToken::new(refresh_token))
            .request_async(&HostHttp(self.host))
            .await;
        match response {
            Ok(response) => {
                let mut fresh = stored_tokens(&response);
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = old.refresh_token;
                    fresh.refresh_expires_at = old.refresh_expires_at;
                }
                self.tokens.save(uid, &fresh).await?;
                tracing::info!(
                    user = uid,
                    issuer = self.token_issuer().name(),
                    "refreshed the sign-in's tokens"
                );
                self.count_refresh("ok");
                Ok(fresh.access_token)
            }
            Err(RequestTokenError::ServerResponse(response)) => {
                tracing::info!(user = uid, error = %response.error(), issuer = self.token_issuer().name(), "the refresh token was refused");
                self.count_refresh("refused");
                Err(self.reauth(uid).await)
            }
            Err(other) => {
                self.count_refresh("failed");
                Err(token_error(other, "reauth_required", self.token_issuer()))
            }
        }
    }

    /// `openhost_plugin_token_refreshes_total{outcome}`: `ok`, `refused` (GitHub refused the refresh token: the
    /// user signs in again), `failed` (GitHub could not be reached or answered nonsense).
    fn count_refresh(&self, outcome: &str) {
        if let Err(e) = self.host.counter("token_refreshes_total", &[("outcome", outcome)], 1.0) {
            tracing::warn!("counting a token refresh failed: {e}");
        }
    }

    /// Ends the user's tokens and sessions; the answer tells the client to sign in again.
    async fn reauth(&self, uid: &str) -> PluginError {
        if let Err(e) = self.forget_tokens(uid).await {
            tracing::error!(user = uid, "deleting tokens failed: {e}");
        }
        if let Err(e) = self.sessions.revoke_all(uid).await {
            tracing::error!(user = uid, "ending sessions failed: {e}");
        }
        PluginError::Http {
            status: 401,
            code: "reauth_required".into(),
            message: "GitHub access has ended; sign in again".into(),
            headers: vec![Header::new("set-cookie", &self.sessions.cookie_header(None))].into(),
        }
    }

    async fn installation_ids(&self, uid: &str) -> Result<Vec<u64>, PluginError> {
        let mut ids = Vec::new();
        let mut page = Some(1);
        while let Some(current) = page.filter(|p| *p <= MAX_INSTALLATION_PAGES) {
            let query = GitQuery::Installations {
                page: PageRequest {
                    page: current,
                    per_page: 100,
                },
            };
            let list = self.api(uid, &query).await?.into_installations()?;
            ids.extend(list.items.iter().filter_map(|i| i.id.parse::<u64>().ok()));
            page = list.next_page.into_option();
        }
        Ok(ids)
    }

    /// `GET /api/user/repositories` in SaaS: the repositories of each installation, one after another.
    async fn installation_repositories(&self, uid: &str, page: PageRequest) -> Result<RepositoryPage, PluginError> {
        let installations = self.installation_ids(uid).await?;
        let index = ((page.page - 1) / PAGES_PER_INSTALLATION) as usize;
        let inner_page = (page.page - 1) % PAGES_PER_INSTALLATION + 1;
        let Some(&installation_id) = installations.get(index) else {
            return Ok(RepositoryPage::new(Vec::new(), None));
        };
        let query = GitQuery::InstallationRepositories {
            installation_id,
            page: PageRequest {
                page: inner_page,
                per_page: page.per_page,
            },
        };
        let mut result = self.api(uid, &query).await?.into_repositories()?;
        let base = index as u32 * PAGES_PER_INSTALLATION;
        let next = match result.next_page.into_option() {
            Some(next) if next <= PAGES_PER_INSTALLATION => Some(base + next),
            _ if index + 1 < installations.len() => Some(base + PAGES_PER_INSTALLATION + 1),
            _ => None,
        };
        result.next_page = next.into();
        // Counted per installation by GitHub; not the length of the walk.
        result.total_count = None.into();
        Ok(result)
    }
}
