//! A user's tokens from their sign-in: kept sealed ([`store`]), handed out fresh, and revoked when forgotten
//! ([`revoke`]).
//!
//! GitHub rotates refresh tokens: using one invalidates it and the access token issued with it. So a refresh is
//! single-flight per user, across every host on the store: requests of one process queue on a lock of their own,
//! and the one at its head takes the host's lease `refresh/<user>` (interface 1.3), which hosts sharing a
//! PostgreSQL store share. Whoever gets it re-reads the store (another host may have refreshed meanwhile), and
//! refreshes only if the tokens are still stale; the new pair is durable before anyone uses it. The same
//! single-flight refresh serves the tokens of an OpenID Connect sign-in, at the provider's token endpoint.

pub mod revoke;
pub mod store;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use oauth2::{RefreshToken, RequestTokenError};
use openhost_plugin_api::{Host, PluginError};

use crate::{
    clock::now,
    provider::{
        Provider,
        oauth_client::{HostHttp, token_error},
    },
};
use revoke::Revocation;
use store::{StoredTokens, TokenStore};

/// The refresh lease's time to live: how long hosts wait for a holder that died mid-refresh. A living holder's
/// lease is renewed, however long GitHub takes.
const REFRESH_LEASE_TTL: Duration = Duration::from_secs(10);
/// How long a request waits for another host's refresh: past GitHub's deadline (15 s) plus a lapsed lease.
const REFRESH_LEASE_WAIT: Duration = Duration::from_secs(30);

/// Why no access token could be handed out.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// None is stored, or the refresh token is refused or past its expiry: the user signs in again.
    #[error("the sign-in's tokens have ended")]
    Ended,
    /// The store, the lease or the provider failed; the tokens are kept.
    #[error(transparent)]
    Failed(#[from] PluginError),
}

/// The users' tokens.
pub struct Tokens {
    host: Host,
    store: TokenStore,
    provider: Arc<Provider>,
    /// Present when GitHub issued the tokens (the GitHub App's sign-in).
    revocation: Option<Revocation>,
    /// A token expiring within this many seconds is refreshed before it is handed out.
    refresh_margin_secs: u64,
    /// One lock per user refreshing in this process.
    locks: Mutex<HashMap<String, Arc<futures_util::lock::Mutex<()>>>>,
}

impl Tokens {
    pub fn new(
        host: Host,
        store: TokenStore,
        provider: Arc<Provider>,
        revocation: Option<Revocation>,
        refresh_margin_secs: u64,
    ) -> Tokens {
        Tokens {
            host,
            store,
            provider,
            revocation,
            refresh_margin_secs,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The user's stored tokens.
    pub async fn load(&self, uid: &str) -> Result<Option<StoredTokens>, PluginError> {
        self.store.load(uid).await
    }

    /// Deletes the user's stored tokens and revokes the access token where it was issued.
    pub async fn forget(&self, uid: &str) -> Result<(), PluginError> {
        let stored = self.store.load(uid).await?;
        self.store.delete(uid).await?;
        if let (Some(tokens), Some(revocation)) = (stored, &self.revocation) {
            revocation.revoke(uid, &tokens.access_token).await;
        }
        Ok(())
    }

    /// Stores the tokens of a new sign-in; the ones it replaces are revoked, since nothing here will use them
    /// again.
    pub async fn replace(&self, uid: &str, tokens: &StoredTokens) -> Result<(), PluginError> {
        let replaced = self.store.load(uid).await?;
        self.store.save(uid, tokens).await?;
        if let (Some(old), Some(revocation)) = (replaced, &self.revocation)
            && old.access_token != tokens.access_token
        {
            revocation.revoke(uid, &old.access_token).await;
        }
        Ok(())
    }

    /// A usable access token: the stored one, or a refreshed one if it expires within the margin or is the
    /// token the provider just `rejected`.
    pub async fn access_token(&self, uid: &str, rejected: Option<&str>) -> Result<String, AccessError> {
        let margin = self.refresh_margin_secs;
        let stale = |tokens: &StoredTokens| {
            rejected == Some(tokens.access_token.as_str())
                || tokens.access_expires_at.is_some_and(|expiry| expiry <= now() + margin)
        };
        match self.store.load(uid).await? {
            Some(tokens) if !stale(&tokens) => return Ok(tokens.access_token),
            Some(_) => {}
            None => return Err(AccessError::Ended),
        }
        let lock = self.lock(uid);
        let _this_process = lock.lock().await;
        match self.store.load(uid).await? {
            Some(tokens) if !stale(&tokens) => return Ok(tokens.access_token),
            Some(_) => {}
            None => return Err(AccessError::Ended),
        }
        let lease = format!("refresh/{uid}");
        let Some(_every_host) = self.host.lease(&lease, REFRESH_LEASE_TTL, REFRESH_LEASE_WAIT).await? else {
            tracing::warn!(user = uid, "another host's token refresh did not end in time");
            return Err(AccessError::Failed(PluginError::http(
                503,
                "git_provider_unavailable",
                "a refresh of the sign-in's tokens is taking too long; try again",
            )));
        };
        match self.store.load(uid).await? {
            Some(tokens) if !stale(&tokens) => Ok(tokens.access_token),
            Some(tokens) => self.refresh(uid, tokens).await,
            None => Err(AccessError::Ended),
        }
    }

    /// The per-user refresh lock. Locks nobody holds are dropped as new ones are made.
    fn lock(&self, uid: &str) -> Arc<futures_util::lock::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        Arc::clone(locks.entry(uid.to_owned()).or_default())
    }

    /// Exchanges the refresh token (the caller holds the user's lock and lease) and stores the new pair.
    async fn refresh(&self, uid: &str, old: StoredTokens) -> Result<String, AccessError> {
        let usable = old.refresh_expires_at.is_none_or(|expiry| expiry > now());
        let Some(refresh_token) = old.refresh_token.clone().filter(|_| usable) else {
            return Err(AccessError::Ended);
        };
        let issuer = self.provider.issuer();
        let response = self
            .provider
            .client(&self.host)
            .await?
            .exchange_refresh_token(&RefreshToken::new(refresh_token))
            .request_async(&HostHttp(self.host))
            .await;
        match response {
            Ok(response) => {
                let mut fresh = StoredTokens::from_response(&response);
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = old.refresh_token;
                    fresh.refresh_expires_at = old.refresh_expires_at;
                }
                self.store.save(uid, &fresh).await?;
                tracing::info!(user = uid, issuer = issuer.name(), "refreshed the sign-in's tokens");
                self.count_refresh("ok");
                Ok(fresh.access_token)
            }
            Err(RequestTokenError::ServerResponse(response)) => {
                tracing::info!(user = uid, error = %response.error(), issuer = issuer.name(), "the refresh token was refused");
                self.count_refresh("refused");
                Err(AccessError::Ended)
            }
            Err(other) => {
                self.count_refresh("failed");
                Err(AccessError::Failed(token_error(other, "reauth_required", issuer)))
            }
        }
    }

    /// `openhost_plugin_token_refreshes_total{outcome}`: `ok`, `refused` (the provider refused the refresh token:
    /// the user signs in again), `failed` (the provider could not be reached or answered nonsense).
    fn count_refresh(&self, outcome: &str) {
        if let Err(e) = self.host.counter("token_refreshes_total", &[("outcome", outcome)], 1.0) {
            tracing::warn!("counting a token refresh failed: {e}");
        }
    }
}
