//! A real OpenID Connect provider for the sign-in tests: `tests/oidc/provider.mjs`, the certified `oidc-provider`
//! package under the machine's Node.js (its behaviour and test controls are described in that file). Without
//! Node.js the tests say they were skipped, and fail in CI (`CI` set), where `.ci/run` installs the package.
//!
//! [`walk`] plays the browser: it follows redirects between the host and the provider, keeping each side's
//! cookies, until the host's callback answers.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use crate::{Answer, workspace_root};

/// The provider's clients (see provider.mjs): ID tokens signed RS256 or ES256.
pub const RS256_CLIENT: (&str, &str) = ("openhost-rs", "openhost-rs-secret");
pub const ES256_CLIENT: (&str, &str) = ("openhost-es", "openhost-es-secret");

/// A running provider; stopped when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

fn script_dir() -> PathBuf {
    workspace_root().join("tests/oidc")
}

/// Installs the provider's npm packages once per test binary (`npm ci`, from the registry).
fn installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        if script_dir().join("node_modules/oidc-provider").exists() {
            return true;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(script_dir())
            .status();
        matches!(status, Ok(status) if status.success())
    })
}

impl Provider {
    /// Starts the provider for a relying party whose callback is `redirect_uri`; its broker hands out
    /// `github_token`; its access tokens live `access_token_secs`. `None` (skipped) without Node.js outside CI.
    pub fn start(redirect_uri: &str, github_token: &str, access_token_secs: u64) -> Option<Provider> {
        let node = Command::new("node").arg("--version").output();
        if !matches!(&node, Ok(output) if output.status.success()) || !installed() {
            crate::skip(
                "the OpenID Connect tests",
                "Node.js or tests/oidc's npm packages are not installed",
            );
            return None;
        }
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(script_dir())
            .env("REDIRECT_URI", redirect_uri)
            .env("GITHUB_TOKEN", github_token)
            .env("ACCESS_TOKEN_TTL", access_token_secs.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider's first line");
        let issuer = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the provider did not start: {line}"))
            .to_owned();
        Some(Provider { child, issuer })
    }

    fn control(&self, path: &str) {
        let answer = crate::manual_client()
            .get(format!("{}{path}", self.issuer))
            .send()
            .expect("the provider's test controls");
        assert!(answer.status().is_success());
    }

    /// How the next ID tokens are tampered with (provider.mjs): `forged`, `expired`, `wrong-audience`, ...; ``: not.
    pub fn tamper(&self, mode: &str) {
        self.control(&format!("/test/mode?mode={mode}"));
    }

    /// Who the next sign-in is.
    pub fn next_user(&self, sub: &str, login: &str) {
        self.control(&format!("/test/next-user?sub={sub}&login={login}"));
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cookies by name, per origin.
#[derive(Default)]
struct Jar(BTreeMap<String, BTreeMap<String, String>>);

fn origin(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or_default().to_owned()
}

impl Jar {
    fn keep(&mut self, url: &str, headers: &reqwest::header::HeaderMap) {
        let cookies = self.0.entry(origin(url)).or_default();
        for value in headers.get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || value.contains("Max-Age=0") {
                    cookies.remove(name.trim());
                } else {
                    cookies.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
    }

    fn header(&self, url: &str) -> String {
        self.0
            .get(&origin(url))
            .map(|cookies| {
                cookies
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
}

/// Follows the browser's way from `start` (the host's sign-in URL) through the provider and back, until the
/// host's callback (a URL starting with `callback`) has answered: that answer, and the host's cookies then.
pub fn walk(start: &str, callback: &str) -> (Answer, String) {
    let client = crate::manual_client();
    let mut jar = Jar::default();
    let mut url = start.to_owned();
    for _ in 0..20 {
        let response = client
            .get(&url)
            .header("cookie", jar.header(&url))
            .timeout(Duration::from_secs(15))
            .send()
            .expect("a step of the sign-in");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        jar.keep(&url, &headers);
        let arrived = url.starts_with(callback);
        let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.text().unwrap_or_default();
        if arrived || !(300..400).contains(&status) {
            let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            return ((status, headers, json), jar.header(&url));
        }
        let location = location.expect("a redirect names where to");
        url = if location.starts_with("http") {
            location
        } else {
            format!("http://{}{location}", origin(&url))
        };
    }
    panic!("the sign-in did not come back within 20 redirects");
}
