//! The plugin's one outbound HTTP transport: every call it makes (GitHub's API and token endpoints, the OpenID
//! Connect provider, Keycloak's broker) goes through the host's HTTP service (no redirects followed, answers
//! capped) with the plugin's user agent and one deadline.

use openhost_github::{Answer, Transport};
use openhost_plugin_api::{Header, Host, HttpRequest};

/// What every request of the plugin says it is.
pub const USER_AGENT: &str = concat!("openhost-enterprise/", env!("CARGO_PKG_VERSION"));

/// The deadline of every outbound call, under the host's own cap of 15 s: long enough for a slow provider, short
/// enough that a sign-in or a sign-out the user waits for fails plainly.
pub const TIMEOUT_MS: u64 = 10_000;

/// A request with the plugin's user agent (unless `headers` has one) and the deadline.
pub fn request(method: &str, url: &str, mut headers: Vec<Header>, body: Vec<u8>) -> HttpRequest {
    if !headers
        .iter()
        .any(|h| h.name.as_str().eq_ignore_ascii_case("user-agent"))
    {
        headers.push(Header::new("user-agent", USER_AGENT));
    }
    HttpRequest {
        method: method.into(),
        url: url.into(),
        headers: headers.into(),
        body: body.into(),
        timeout_ms: TIMEOUT_MS,
    }
}

/// The host's HTTP service as the GitHub crate's transport: GitHub's API calls go through [`request`] too.
pub struct Http(pub Host);

impl Transport for Http {
    async fn get(&self, url: String, headers: Vec<(&'static str, String)>) -> Result<Answer, String> {
        let headers = headers
            .into_iter()
            .map(|(name, value)| Header::new(name, &value))
            .collect();
        let response = self
            .0
            .http(request("GET", &url, headers, Vec::new()))
            .await
            .map_err(|e| e.to_string())?;
        let headers = response
            .headers
            .iter()
            .map(|h| (h.name.to_string(), h.value.to_string()))
            .collect();
        Ok(Answer {
            status: response.status,
            headers,
            body: response.body.into_vec(),
        })
    }
}
