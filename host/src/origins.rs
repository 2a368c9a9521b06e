//! Who may talk to this host from a browser: the origins whose pages may call the API (CORS, and the cross-site
//! refusal of docs/security.md) and the host names it answers to (against DNS rebinding).
//!
//! Origins: `[host] cors_origins` (exact), or by default any `http://localhost:*`, `http://127.0.0.1:*` or
//! `http://[::1]:*`; plus every plugin's public origins (interface 1.2, e.g. the enterprise plugin's
//! `public_url`). Host names: on a loopback listener, `localhost`, `127.0.0.1` and `[::1]` (any port), plus
//! `[host] allowed_hosts` and the plugins' origins' host names.

use std::net::SocketAddr;

/// The loopback names a local browser uses.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The origins and host names this host trusts.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// `cors_origins`; `None`: the loopback default.
    configured: Option<Vec<String>>,
    /// The plugins' public origins, normalised.
    public: Vec<String>,
    /// `Some`: the `Host` names served (lower case, without port); `None`: any (a public listener without
    /// `allowed_hosts`).
    host_names: Option<Vec<String>>,
}

/// A plugin's public origin, normalised: `https://app.example.com[:port]`, lower case, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin(String);

impl PublicOrigin {
    pub fn parse(origin: &str) -> Result<PublicOrigin, NotAnOrigin> {
        normalise(origin)
            .map(PublicOrigin)
            .ok_or_else(|| NotAnOrigin(origin.to_owned()))
    }
}

/// A plugin's public origin that is not `scheme://host[:port]`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an origin like https://app.example.com (scheme, host and optional port; no path)")]
pub struct NotAnOrigin(pub String);

impl Origins {
    /// `listen` decides whether host names are checked when `allowed_hosts` is unset: on loopback they are.
    /// `public` are the plugins' origins, each [`PublicOrigin::parse`]d.
    pub fn new(
        listen: SocketAddr,
        cors_origins: Option<Vec<String>>,
        allowed_hosts: Option<Vec<String>>,
        public: Vec<PublicOrigin>,
    ) -> Origins {
        let public: Vec<String> = public.into_iter().map(|origin| origin.0).collect();
        let host_names = match allowed_hosts {
            None if !listen.ip().is_loopback() => None,
            configured => {
                let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
                names.extend(configured.into_iter().flatten().map(|n| n.to_ascii_lowercase()));
                names.extend(
                    public
                        .iter()
                        .filter_map(|origin| origin_host(origin).map(str::to_owned)),
                );
                Some(names)
            }
        };
        Origins {
            configured: cors_origins.map(|list| list.into_iter().map(|o| o.trim_end_matches('/').to_owned()).collect()),
            public,
            host_names,
        }
    }

    /// Whether a page of `origin` may call the API.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let listed = match &self.configured {
            Some(list) => list.iter().any(|allowed| allowed == origin),
            None => is_loopback_origin(origin),
        };
        listed || self.public.iter().any(|public| public == origin)
    }

    /// Whether a `Host` header names this host. A request without one (HTTP/1.0) is not a rebinding attack.
    pub fn allows_host(&self, host: Option<&str>) -> bool {
        let (Some(names), Some(host)) = (&self.host_names, host) else {
            return true;
        };
        let name = strip_port(host).to_ascii_lowercase();
        names.contains(&name)
    }

    /// Whether `Host` names are checked at all.
    pub fn checks_host_names(&self) -> bool {
        self.host_names.is_some()
    }
}

/// `http://localhost[:port]`, `http://127.0.0.1[:port]` or `http://[::1][:port]`.
fn is_loopback_origin(origin: &str) -> bool {
    let Some(authority) = origin.strip_prefix("http://") else {
        return false;
    };
    let name = strip_port(authority);
    let port = &authority[name.len()..];
    LOOPBACK_NAMES.contains(&name) && (port.is_empty() || port[1..].parse::<u16>().is_ok())
}

/// `host[:port]` -> `host`, keeping an IPv6 literal's brackets.
fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or(authority, |end| &authority[..=end]);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// `https://App.Example.com:8443/` -> `https://app.example.com:8443`; `None` for anything that is not an
/// origin.
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/');
    let (scheme, authority) = origin.split_once("://")?;
    let valid = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@'])
        && !authority.contains(char::is_whitespace);
    valid.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

fn origin_host(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, authority)| strip_port(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> SocketAddr {
        "127.0.0.1:3000".parse().unwrap()
    }

    #[test]
    fn the_default_allows_local_origins_only() {
        let origins = Origins::new(loopback(), None, None, Vec::new());
        for good in ["http://localhost:3001", "http://127.0.0.1", "http://[::1]:80"] {
            assert!(origins.allows_origin(good), "{good}");
        }
        for bad in [
            "https://localhost:3001",
            "http://localhost.evil.example",
            "http://localhost:3001@evil.example",
            "http://localhost:x",
            "null",
        ] {
            assert!(!origins.allows_origin(bad), "{bad}");
        }
    }

    #[test]
    fn plugin_origins_add_to_the_list_and_the_host_names() {
        let public = vec![PublicOrigin::parse("https://App.Example.com/").unwrap()];
        let origins = Origins::new(loopback(), Some(vec!["https://ui.example".into()]), None, public);
        assert!(origins.allows_origin("https://app.example.com"));
        assert!(origins.allows_origin("https://ui.example"));
        assert!(
            !origins.allows_origin("http://localhost:3001"),
            "the list replaces the default"
        );
        assert!(origins.allows_host(Some("app.example.com")));
        assert!(origins.allows_host(Some("LOCALHOST:3000")));
        assert!(origins.allows_host(Some("[::1]:3000")));
        assert!(!origins.allows_host(Some("evil.example:3000")));
        assert!(
            !origins.allows_host(Some("ui.example")),
            "an allowed origin is not a host name"
        );
        for bad in [
            "https://a.example/path",
            "a.example",
            "ftp://a.example",
            "https://u@a.example",
        ] {
            assert!(PublicOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_names_are_checked_on_loopback_or_when_listed() {
        let public: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert!(!Origins::new(public, None, None, Vec::new()).checks_host_names());
        let listed = Origins::new(public, None, Some(vec!["openhost.example".into()]), Vec::new());
        assert!(listed.allows_host(Some("openhost.example:443")));
        assert!(!listed.allows_host(Some("rebound.example")));
        assert!(listed.allows_host(None));
    }
}
