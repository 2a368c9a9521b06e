//! A git provider failure, in the API's terms: status, `code`, and `Retry-After` where it applies.

use openhost_plugin_api::{Header, PluginError};

/// A git provider failure, in the API's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("no GitHub token is stored for this user")]
    TokenMissing,
    #[error("GitHub rejected the token")]
    TokenInvalid,
    #[error("not found on GitHub")]
    NotFound,
    #[error("GitHub rate limit reached; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("GitHub refused the request: {0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("GitHub is unavailable: {0}")]
    Unavailable(String),
}

impl GitError {
    /// HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self {
            GitError::TokenMissing | GitError::TokenInvalid => 401,
            GitError::NotFound => 404,
            GitError::RateLimited { .. } => 429,
            GitError::Forbidden(_) => 403,
            GitError::InvalidRequest(_) => 400,
            GitError::Unavailable(_) => 502,
        }
    }

    /// The `code` of the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            GitError::TokenMissing => "git_token_missing",
            GitError::TokenInvalid => "git_token_invalid",
            GitError::NotFound => "not_found",
            GitError::RateLimited { .. } => "git_rate_limited",
            GitError::Forbidden(_) => "git_forbidden",
            GitError::InvalidRequest(_) => "invalid_request",
            GitError::Unavailable(_) => "git_provider_unavailable",
        }
    }

    /// Seconds for a `Retry-After` header, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            GitError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl From<GitError> for PluginError {
    fn from(error: GitError) -> Self {
        let mut headers = Vec::new();
        if let Some(secs) = error.retry_after_secs() {
            headers.push(Header::new("retry-after", &secs.to_string()));
        }
        PluginError::Http {
            status: error.status(),
            code: error.code().into(),
            message: error.to_string().into(),
            headers: headers.into(),
        }
    }
}
