//! `proxy-auth`: multi-user openhost behind an authenticating reverse proxy (oauth2-proxy, Pomerium, an ingress
//! with SSO...). It *overrides* `user_auth`: a request is the user named in an identity header (default
//! `X-Forwarded-User`), but only if it comes from a configured proxy address; from anywhere else the header is
//! ignored and the request is not signed in, so routes that need a user answer 401.
//!
//! The identity is `proxy:<user>`, so each proxied user has their own settings.

use std::net::SocketAddr;

use ipnet::IpNet;
use openhost_plugin_api::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The header the proxy sets.
    #[serde(default = "default_header")]
    header: String,
    /// Addresses (CIDR) of the proxies whose header is believed, e.g. `["10.0.0.5/32", "127.0.0.1/32"]`.
    trusted_proxies: Vec<String>,
}

fn default_header() -> String {
    "x-forwarded-user".to_owned()
}

struct ProxyAuth {
    header: String,
    trusted: Vec<IpNet>,
}

/// A user name the proxy may send: 1 to 128 characters of letters, digits and `.-_@+`.
fn is_user_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_@+".contains(&b))
}

impl ProxyAuth {
    fn trusts(&self, peer: &str) -> bool {
        peer.parse::<SocketAddr>()
            .is_ok_and(|peer| self.trusted.iter().any(|net| net.contains(&peer.ip())))
    }
}

impl UserAuth for ProxyAuth {
    async fn identify(&self, request: &RequestView<'_>) -> Result<Option<Identity>, PluginError> {
        if !self.trusts(request.peer_addr()) {
            return Ok(None);
        }
        let Some(user) = request.header(&self.header).map(str::trim).filter(|u| is_user_name(u)) else {
            return Ok(None);
        };
        Ok(Some(Identity::new(&format!("proxy:{user}"), user, "proxy")))
    }
}

fn init(_host: Host, config: Config) -> Result<Components, PluginError> {
    let header = config.header.trim().to_ascii_lowercase();
    if header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(PluginError::invalid_config(format!(
            "`header` `{header}` is not a header name"
        )));
    }
    let trusted = config
        .trusted_proxies
        .iter()
        .map(|cidr| {
            cidr.trim().parse::<IpNet>().map_err(|_| {
                PluginError::invalid_config(format!("`trusted_proxies`: `{cidr}` is not a CIDR like 10.0.0.0/8"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if trusted.is_empty() {
        return Err(PluginError::invalid_config(
            "`trusted_proxies` must list at least one CIDR",
        ));
    }
    tracing::info!(header = %header, proxies = trusted.len(), "trusting the proxy identity header");
    Ok(Components::new().user_auth(ProxyAuth { header, trusted }))
}

export_plugin! {
    name: "proxy-auth",
    description: "Trusts a reverse proxy's identity header from configured addresses",
    provides: [UserAuth],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}

#[cfg(test)]
mod tests;
