//! The OAuth client of whoever signs users in (the GitHub App, or the OpenID Connect provider) over the host's
//! HTTP service (crate::transport): token exchange and refresh, what a token response holds, and how its
//! failures are answered.

use std::{future::Future, pin::Pin};

use oauth2::{
    AsyncHttpClient, Client, EndpointNotSet, EndpointSet, ExtraTokenFields, RequestTokenError, StandardRevocableToken,
    StandardTokenResponse,
    basic::{BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType},
};
use openhost_plugin_api::{Header, Host, PluginError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::transport;

/// A token response: the standard fields plus GitHub's `refresh_token_expires_in` and OpenID Connect's
/// `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenFields {
    #[serde(default)]
    pub refresh_token_expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for TokenFields {}

pub type TokenResponse = StandardTokenResponse<TokenFields, BasicTokenType>;

/// The OAuth client of whoever signs users in: the GitHub App, or the OpenID Connect provider (super::oidc).
pub type OAuthClient = Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The host's HTTP service as oauth2's HTTP client.
pub struct HostHttp(pub Host);

/// Why a token endpoint gave no answer oauth2 can read.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the host's HTTP service failed")]
    Host(#[source] PluginError),
    #[error("the token endpoint failed with HTTP {0}")]
    Failed(u16),
    #[error("the token endpoint's answer cannot be passed on")]
    Answer(#[source] oauth2::http::Error),
}

impl<'c> AsyncHttpClient<'c> for HostHttp {
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let headers = parts
                .headers
                .iter()
                .filter_map(|(name, value)| Some(Header::new(name.as_str(), value.to_str().ok()?)))
                .collect();
            let response = self
                .0
                .http(transport::request(
                    parts.method.as_str(),
                    &parts.uri.to_string(),
                    headers,
                    body,
                ))
                .await
                .map_err(TransportError::Host)?;
            // A provider failing is not a provider refusing: whatever the body says, a 5xx must not end anyone's
            // tokens (oauth2 would read an `error` field in it as a refusal).
            if response.status >= 500 {
                return Err(TransportError::Failed(response.status));
            }
            let status = github_error_status(response.status, &response.body);
            let mut builder = oauth2::http::Response::builder().status(status);
            for header in response.headers.iter() {
                builder = builder.header(header.name.as_str(), header.value.as_str());
            }
            builder.body(response.body.into_vec()).map_err(TransportError::Answer)
        })
    }
}

/// GitHub answers token errors with HTTP 200 and `{"error": ...}`; oauth2 would then fail to parse a token. Such
/// an answer is reported as the 400 it is, so oauth2 parses it as an error response.
fn github_error_status(status: u16, body: &[u8]) -> u16 {
    if status != 200 {
        return status;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(json) if json.get("error").is_some() && json.get("access_token").is_none() => 400,
        _ => status,
    }
}

/// An OAuth failure as the API answers it.
pub fn token_error(
    error: RequestTokenError<TransportError, BasicErrorResponse>,
    rejected_code: &str,
    issuer: TokenIssuer,
) -> PluginError {
    let (name, unavailable) = (issuer.name(), issuer.unavailable_code());
    match error {
        RequestTokenError::ServerResponse(response) => {
            tracing::info!(error = %response.error(), "{name} rejected the grant");
            PluginError::http(401, rejected_code, format!("{name} rejected the grant; sign in again"))
        }
        RequestTokenError::Request(transport) => {
            let cause = std::error::Error::source(&transport).map_or(String::new(), |cause| format!(": {cause}"));
            tracing::warn!("{name}'s token endpoint is unreachable: {transport}{cause}");
            PluginError::http(502, unavailable, format!("{name} cannot be reached"))
        }
        RequestTokenError::Parse(..) | RequestTokenError::Other(_) => {
            PluginError::http(502, unavailable, format!("{name} sent an unexpected token response"))
        }
    }
}

/// Who issues the tokens of the sign-in: named in messages, and in the code of an answer when it is out of
/// reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIssuer {
    Github,
    IdentityProvider,
}

impl TokenIssuer {
    pub fn name(self) -> &'static str {
        match self {
            TokenIssuer::Github => "GitHub",
            TokenIssuer::IdentityProvider => "the sign-in provider",
        }
    }

    pub fn unavailable_code(self) -> &'static str {
        match self {
            TokenIssuer::Github => "git_provider_unavailable",
            TokenIssuer::IdentityProvider => "identity_provider_unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_200_errors_become_400() {
        assert_eq!(github_error_status(200, br#"{"error":"bad_verification_code"}"#), 400);
        assert_eq!(github_error_status(200, br#"{"access_token":"x"}"#), 200);
        assert_eq!(github_error_status(500, b""), 500);
    }
}
