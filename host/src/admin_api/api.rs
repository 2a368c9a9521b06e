//! The admin API's routes (docs/operating.md, "Admin API"): every request names an admin token, a write from
//! another site is refused, and each change lands in the audit trail.
//!
//! - `GET /admin/api/plugins`: what `/api/plugins` shows, each plugin's saved settings as written and its
//!   calls over the last minutes (crate::telemetry::figures), and the settings' ETag;
//! - `PATCH /admin/api/plugins/NAME` with `If-Match`: `enabled`, `order` or `config` changed, checked by
//!   building the next generation to the side, saved (comments kept) and swapped in only once it built;
//! - `POST /admin/api/reload`: a reload, as SIGHUP (one at a time, with them);
//! - `GET /admin/api/audit[?limit=N]`: the trail, newest first.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::{
    audit::{AuditLog, MAX_READ},
    tokens::AdminTokens,
};
use crate::{
    app::App,
    live::{
        admin,
        reload::{ReloadError, next_generation},
    },
    plugin_settings::{PluginChange, SaveError},
    server::side_listener,
};

/// The largest change body read.
const MAX_CHANGE_BYTES: usize = 256 << 10;
/// The prefix of one plugin's route.
const PLUGIN_ROUTE: &str = "/admin/api/plugins/";

/// What the admin routes work with.
pub struct Admin {
    pub app: Arc<App>,
    pub tokens: AdminTokens,
    pub audit: AuditLog,
    /// Where reloads are asked for: the same queue as SIGHUP and `openhost plugins reload`.
    pub commands: mpsc::Sender<admin::Request>,
}

type HttpResponse = http::Response<Full<Bytes>>;

/// Answers one request of the admin listener.
pub async fn answer(admin: &Admin, request: http::Request<hyper::body::Incoming>) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    if let Some(file) = super::console::file(&parts.method, path) {
        return file;
    }
    if !path.starts_with("/admin/api/") {
        return error(
            404,
            "not_found",
            &format!("no admin route {}", crate::text::truncate(path.to_owned(), 100)),
        );
    }
    let who = match bearer(&parts.headers) {
        None => {
            return error(
                401,
                "admin_token_missing",
                "the admin API needs `Authorization: Bearer <admin token>`",
            );
        }
        Some(presented) => match admin.tokens.who(presented) {
            Some(who) => who.to_owned(),
            None => return error(401, "admin_token_invalid", "that is not an admin token of this server"),
        },
    };
    if !parts.method.is_safe() && !same_site(&parts.headers) {
        return error(
            403,
            "cross_site_request",
            "a change to this server must come from its own admin pages or a client without a browser Origin",
        );
    }
    match (parts.method.as_str(), path) {
        ("GET", "/admin/api/plugins") => plugins(admin).await,
        ("POST", "/admin/api/reload") => reload(admin, &who).await,
        ("PATCH", _) if path.starts_with(PLUGIN_ROUTE) => {
            let name = &path[PLUGIN_ROUTE.len()..];
            let if_match = parts.headers.get(http::header::IF_MATCH).and_then(|v| v.to_str().ok());
            match Limited::new(body, MAX_CHANGE_BYTES).collect().await {
                Ok(body) => change_plugin(admin, &who, name, if_match, &body.to_bytes()).await,
                Err(_) => error(413, "payload_too_large", "a change is at most 256 KiB of JSON"),
            }
        }
        ("GET", "/admin/api/audit") => audit(admin, parts.uri.query()).await,
        (_, "/admin/api/plugins" | "/admin/api/reload" | "/admin/api/audit") => error(
            405,
            "method_not_allowed",
            &format!("{} is not allowed on {path}", parts.method),
        ),
        _ => error(
            404,
            "not_found",
            &format!("no admin route {}", crate::text::truncate(path.to_owned(), 100)),
        ),
    }
}

/// `GET /admin/api/plugins`.
async fn plugins(admin: &Admin) -> HttpResponse {
    let saved = match admin.app.plugin_settings.read().await {
        Ok(saved) => saved,
        Err(e) => return error(500, "admin_settings_unreadable", &e.to_string()),
    };
    let mut described = admin.app.generations.current().describe(&admin.app.panics);
    if let Some(plugins) = described["plugins"].as_array_mut() {
        for plugin in plugins {
            let name = plugin["name"].as_str().unwrap_or_default().to_owned();
            plugin["settings"] = saved.plugins.get(&name).cloned().unwrap_or_else(|| json!({}));
            plugin["calls"] = admin.app.telemetry.figures.summary(&name).unwrap_or(Value::Null);
        }
    }
    with_etag(json_response(200, &described), &saved.etag)
}

/// `PATCH /admin/api/plugins/NAME`: checked against the ETag the client read, made to the file's text, built to
/// the side with every startup check (a plugin's `init` included), and saved and swapped in only once it built.
/// Recorded in the audit trail, one entry per setting changed.
async fn change_plugin(admin: &Admin, who: &str, name: &str, if_match: Option<&str>, body: &[u8]) -> HttpResponse {
    let app = &admin.app;
    let change: PluginChange = match serde_json::from_slice(body) {
        Ok(change) => change,
        Err(e) => {
            return error(
                400,
                "bad_request",
                &format!("the change is not {{enabled, order, config}}: {e}"),
            );
        }
    };
    let fields = change.fields();
    if fields.is_empty() {
        return error(400, "bad_request", "nothing to change: send enabled, order or config");
    }
    let Some(if_match) = if_match else {
        return error(
            428,
            "if_match_required",
            "send If-Match with the ETag of GET /admin/api/plugins, so that a change made meanwhile is not overwritten",
        );
    };
    // One change (or reload) at a time: the ETag checked and the file written under the same turn.
    let _turn = match app.generations.reload_turn().await {
        Ok(turn) => turn,
        Err(handed_on) => return error(503, "handed_over", &handed_on.to_string()),
    };
    let settings = &app.plugin_settings;
    let saved = match settings.read().await {
        Ok(saved) => saved,
        Err(e) => return error(500, "admin_settings_unreadable", &e.to_string()),
    };
    let stale = || {
        let stale = error(
            412,
            "settings_changed",
            "the plugin settings changed since they were read: read them again (GET /admin/api/plugins) and retry",
        );
        with_etag(stale, &saved.etag)
    };
    if if_match.trim() != "*" && if_match.trim() != saved.etag {
        return stale();
    }
    let known = saved.plugins.contains_key(name)
        || app
            .generations
            .current()
            .plugins
            .iter()
            .any(|plugin| plugin.name == name);
    if !known {
        return error(
            404,
            "plugin_not_found",
            &format!("no plugin `{}` here", crate::text::truncate(name.to_owned(), 64)),
        );
    }
    let pending = match settings.change(&saved, name, &change) {
        Ok(pending) => pending,
        Err(e) => return error(400, "bad_request", &e.to_string()),
    };
    let config = match settings.parse(&pending.text) {
        Ok(config) => config,
        Err(e) => return error(400, "config_invalid", &format!("nothing changed: {e}")),
    };
    let reloaded = match next_generation(app, config, settings.save(&pending)).await {
        Ok(reloaded) => reloaded,
        Err(ReloadError::Save(SaveError::Changed)) => return stale(),
        Err(ReloadError::Save(e)) => {
            tracing::error!(
                who,
                plugin = name,
                "a change through the admin API built but was not saved: {e}"
            );
            return error(500, "admin_settings_unsaved", &format!("nothing changed: {e}"));
        }
        Err(e) => {
            app.telemetry.reloaded("failed");
            return error(400, "plugin_refused", &format!("nothing changed: {e}"));
        }
    };
    app.telemetry.reloaded("ok");
    let after = match settings.read().await {
        Ok(after) => after,
        Err(e) => return error(500, "admin_settings_unreadable", &e.to_string()),
    };
    for (field, _) in &fields {
        let (before, now) = (saved.field(name, field), after.field(name, field));
        if before != now
            && let Err(e) = admin.audit.record(who, Some(name), field, before, now).await
        {
            tracing::error!(
                who,
                plugin = name,
                field,
                "a change through the admin API is not in the audit trail: {e}"
            );
        }
    }
    tracing::info!(
        who,
        plugin = name,
        generation = reloaded.generation,
        "plugin settings changed through the admin API"
    );
    let settings = after.plugins.get(name).cloned().unwrap_or_else(|| json!({}));
    let body = json!({"plugin": name, "generation": reloaded.generation, "settings": settings, "message": reloaded.to_string()});
    with_etag(json_response(200, &body), &after.etag)
}

/// `POST /admin/api/reload`: queued with every other reload and upgrade; recorded when it changed the
/// generation.
async fn reload(admin: &Admin, who: &str) -> HttpResponse {
    let before = admin.app.generations.current().generation;
    let stopping = || error(503, "stopping", admin::UNANSWERED);
    let (answer, answered) = oneshot::channel();
    if admin
        .commands
        .send((admin::Command::Reload, Some(answer)))
        .await
        .is_err()
    {
        return stopping();
    }
    let Ok(outcome) = answered.await else {
        return stopping();
    };
    let done = match outcome {
        Ok(done) => done,
        Err(why) => {
            return error(
                400,
                "reload_refused",
                &format!("reload refused, nothing changed: {why}"),
            );
        }
    };
    let after = admin.app.generations.current().generation;
    if let Err(e) = admin
        .audit
        .record(
            who,
            None,
            "reload",
            json!({"generation": before}),
            json!({"generation": after}),
        )
        .await
    {
        // The reload happened: say so, and that it is not in the trail.
        tracing::error!(who, "a reload by the admin API is not in the audit trail: {e}");
    }
    tracing::info!(who, generation = after, "reload through the admin API");
    let response = json_response(200, &json!({"message": done, "generation": after}));
    match admin.app.plugin_settings.read().await {
        Ok(saved) => with_etag(response, &saved.etag),
        Err(_) => response,
    }
}

/// `GET /admin/api/audit[?limit=N]` (default 100, at most 1000).
async fn audit(admin: &Admin, query: Option<&str>) -> HttpResponse {
    let limit = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "limit")
        .map(|(_, value)| value.parse::<usize>());
    let limit = match limit {
        None => 100,
        Some(Ok(limit)) if (1..=MAX_READ).contains(&limit) => limit,
        Some(_) => {
            return error(
                400,
                "bad_request",
                &format!("limit must be a number from 1 to {MAX_READ}"),
            );
        }
    };
    match admin.audit.newest(limit).await {
        Ok(entries) => json_response(200, &json!(entries)),
        Err(e) => error(503, "store_unavailable", &e.to_string()),
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Whether a write comes from this listener's own pages, or from a client that is not a browser: no `Origin`
/// (and no `Sec-Fetch-Site` saying otherwise), or an `Origin` whose host is the `Host` asked for.
fn same_site(headers: &http::HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v: &http::HeaderValue| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    match (text("origin"), text("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        (Some(_), None) => false,
    }
}

fn json_response(status: u16, body: &Value) -> HttpResponse {
    let mut response = side_listener::response(status, "application/json", Bytes::from(body.to_string()));
    response
        .headers_mut()
        .insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    json_response(status, &json!({"error": message, "code": code}))
}

fn with_etag(mut response: HttpResponse, etag: &str) -> HttpResponse {
    if let Ok(value) = http::HeaderValue::from_str(etag) {
        response.headers_mut().insert(http::header::ETAG, value);
    }
    response
}
