//! The host's outbound HTTP: one client for the host's git service and every plugin's HTTP service, set up for
//! requests that carry secrets (a token, a client secret; docs/security.md "Outbound calls"):
//! - redirects are never followed: a redirect would carry the token or the secret to wherever it points;
//! - every request has a deadline ([`DEADLINE`] unless the caller asks for less) and a connect deadline;
//! - a response body is read up to [`MAX_RESPONSE_BYTES`], no more;
//! - a transport failure is logged with its cause and reported to clients without it: the cause ("connection
//!   refused", "dns error") would let a caller map the network through a user-chosen host.

use std::time::Duration;

/// The user agent of the host's outbound requests.
pub const USER_AGENT: &str = concat!("openhost/", env!("CARGO_PKG_VERSION"));
/// The longest an outbound request may take, from connecting to the last byte of the answer.
pub const DEADLINE: Duration = Duration::from_secs(15);
/// The largest response body read; a larger one is a failure.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
const CONNECT_DEADLINE: Duration = Duration::from_secs(10);

/// Why an outbound request failed, without the transport's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("the request could not be sent or answered")]
    Transport,
    #[error("the request took longer than its deadline")]
    Deadline,
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// The shared client (rustls, no redirects, deadlines).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_DEADLINE)
        .timeout(DEADLINE)
        .build()
}

/// Sends `request` and reads the answer: status, headers, and a body of at most [`MAX_RESPONSE_BYTES`].
pub async fn send(
    request: reqwest::RequestBuilder,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), OutboundError> {
    let mut response = request.send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(OutboundError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(OutboundError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, headers, body))
}

/// Logs the cause of a transport failure (never the URL: it may carry a secret) and keeps only its kind.
fn failed(error: reqwest::Error) -> OutboundError {
    let error = error.without_url();
    tracing::warn!("outbound request failed: {}", error_chain(&error));
    if error.is_timeout() {
        OutboundError::Deadline
    } else {
        OutboundError::Transport
    }
}

/// The text of an error and its causes, e.g. "error sending request: connection refused".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
