//! The admin console at `/admin/`: a page, a script and a style sheet embedded in the binary (no build step),
//! served without a token (they hold no data); the script signs in with an admin token and uses the admin API
//! like any client. A strict Content-Security-Policy lets the page run only its own script, talk only to its
//! own listener, and be framed by nobody.

use bytes::Bytes;
use http_body_util::Full;

use crate::server::side_listener;

const PAGE: &str = include_str!("console/index.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                      form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The console's answer to `GET path`, if `path` is one of its files.
pub fn file(method: &http::Method, path: &str) -> Option<http::Response<Full<Bytes>>> {
    if method != http::Method::GET && method != http::Method::HEAD {
        return None;
    }
    let (content_type, body) = match path {
        "/admin" => {
            let mut moved = side_listener::response(308, "text/plain", Bytes::from_static(b"/admin/"));
            moved
                .headers_mut()
                .insert(http::header::LOCATION, http::HeaderValue::from_static("/admin/"));
            return Some(moved);
        }
        "/admin/" => ("text/html; charset=utf-8", PAGE),
        "/admin/console.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "/admin/console.css" => ("text/css; charset=utf-8", STYLE),
        _ => return None,
    };
    let mut response = side_listener::response(200, content_type, Bytes::from_static(body.as_bytes()));
    let headers = response.headers_mut();
    headers.insert("content-security-policy", http::HeaderValue::from_static(POLICY));
    headers.insert("x-content-type-options", http::HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", http::HeaderValue::from_static("no-referrer"));
    headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    Some(response)
}
