//! `audit-log`: records method, path, status, user id and latency of every request in the plugin's key-value
//! namespace, keeping the newest `max_entries` (the oldest are dropped), and serves them at
//! `GET /api/audit?limit=N` (newest first).
//!
//! It stacks a middleware early in the chain (order 10) and records from the response hook, which sees the final
//! status, the identity the chain established and the elapsed time, also for requests a later middleware refused.
//! Entries are written through the host's store without a flush per request: they become durable with the store's
//! periodic flush (or at shutdown), which is the right trade for a log of requests.

use std::sync::Arc;

use futures_util::lock::Mutex;
use openhost_plugin_api::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const ORDER: i32 = 10;
const ENTRY_PREFIX: &[u8] = b"entry/";
const NEXT_KEY: &[u8] = b"meta/next";
const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_max_entries")]
    max_entries: u32,
}

fn default_max_entries() -> u32 {
    1000
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    at_unix_ms: u64,
    method: String,
    path: String,
    status: u16,
    user_id: Option<String>,
    latency_ms: f64,
}

/// Sequence numbers of the oldest and next entry; loaded from the store on first use.
#[derive(Default)]
struct Cursor {
    loaded: bool,
    oldest: u64,
    next: u64,
}

struct AuditLog {
    host: Host,
    max_entries: u64,
    cursor: Mutex<Cursor>,
}

fn entry_key(seq: u64) -> Vec<u8> {
    let mut key = ENTRY_PREFIX.to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn seq_of(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.strip_prefix(ENTRY_PREFIX)?.try_into().ok()?))
}

fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl AuditLog {
    async fn record(&self, entry: &Entry) -> Result<(), PluginError> {
        let value = serde_json::to_vec(entry).map_err(|e| PluginError::other(e.to_string()))?;
        let mut cursor = self.cursor.lock().await;
        if !cursor.loaded {
            let next = self.host.kv_get(NEXT_KEY).await?;
            cursor.next = next.and_then(|v| v.try_into().ok()).map_or(0, u64::from_be_bytes);
            let first = self.host.kv_scan_prefix(ENTRY_PREFIX, 1).await?;
            cursor.oldest = first.first().and_then(|(key, _)| seq_of(key)).unwrap_or(cursor.next);
            cursor.loaded = true;
        }
        let seq = cursor.next;
        self.host.kv_put(&entry_key(seq), &value).await?;
        cursor.next = seq + 1;
        self.host.kv_put(NEXT_KEY, &cursor.next.to_be_bytes()).await?;
        while cursor.next - cursor.oldest > self.max_entries {
            self.host.kv_delete(&entry_key(cursor.oldest)).await?;
            cursor.oldest += 1;
        }
        Ok(())
    }

    async fn newest(&self, limit: usize) -> Result<Vec<Value>, PluginError> {
        let all = self
            .host
            .kv_scan_prefix(ENTRY_PREFIX, u32::try_from(self.max_entries).unwrap_or(u32::MAX))
            .await?;
        Ok(all
            .iter()
            .rev()
            .take(limit)
            .filter_map(|(_, value)| serde_json::from_slice(value).ok())
            .collect())
    }
}

struct Recorder(Arc<AuditLog>);

#[middleware]
impl Middleware for Recorder {
    fn order(&self) -> i32 {
        ORDER
    }

    async fn on_response(
        &self,
        request: &RequestView<'_>,
        response: &ResponseView<'_>,
    ) -> Result<Vec<HeaderChange>, PluginError> {
        let entry = Entry {
            at_unix_ms: now_unix_ms(),
            method: request.method().to_owned(),
            path: request.path().to_owned(),
            status: response.status,
            user_id: request.identity().map(|i| i.user_id().to_owned()),
            latency_ms: response.elapsed_micros as f64 / 1000.0,
        };
        if let Err(e) = self.0.record(&entry).await {
            // An audit write failing must not fail the request it describes.
            tracing::error!("could not record an audit entry: {e}");
        }
        Ok(Vec::new())
    }
}

/// `GET /api/audit?limit=N`.
async fn newest_entries(log: &Arc<AuditLog>, request: Request) -> Result<Response, PluginError> {
    let limit = match request.query_param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                return Err(PluginError::http(
                    400,
                    "invalid_request",
                    "`limit` must be a number from 1 to 10000",
                ));
            }
        },
    };
    let entries = log.newest(limit).await?;
    Ok(Response::json(200, &json!({"items": entries})))
}

fn init(host: Host, config: Config) -> Result<Components, PluginError> {
    if config.max_entries == 0 {
        return Err(PluginError::invalid_config("`max_entries` must be at least 1"));
    }
    let log = Arc::new(AuditLog {
        host,
        max_entries: u64::from(config.max_entries),
        cursor: Mutex::new(Cursor::default()),
    });
    Ok(Components::new()
        .middleware(Recorder(Arc::clone(&log)))
        .routes(Router::with_state(log).get("/api/audit", newest_entries)))
}

export_plugin! {
    name: "audit-log",
    description: "Records every request and serves the newest at GET /api/audit",
    provides: [Middleware, Routes],
    config_schema: include_str!("../config.schema.json"),
    init: init,
}

#[cfg(test)]
mod tests;
