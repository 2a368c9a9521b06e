//! The host side of `HostServices`: what each plugin gets at `init`.
//!
//! Every future handed to a plugin is context-free (docs/architecture.md, "Async"): I/O that needs tokio (HTTP,
//! timers, flushes) is spawned on the host's runtime right here, and the returned future only awaits the join
//! handle. Store operations are the store's own `'static` futures (crate::store). Leases (crate::lease) are
//! named `plugin/<name>/<lease>`, so a plugin can neither take nor release another's.

use std::{sync::Arc, time::Duration};

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_types::RRef,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};
use async_ffi::{FfiFuture, FutureExt};
use openhost_plugin_api::{
    Header, HostServices, HostServicesRef, HttpRequest, KvEntry, LogLevel, MetricKind, MetricLabel, PluginError,
    Response,
    host::{HostContext, HostContextRef},
};

use crate::{
    lease::Leases,
    outbound,
    store::{Namespace, Store, StoreError, StoreFuture},
    telemetry::plugin::PluginMetrics,
};

/// What the host keeps for one plugin; lives for the rest of the process, like the plugin library.
pub struct PluginContext {
    pub name: String,
    pub kv: Arc<dyn Namespace>,
    pub http: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
    /// The host's lease service, shared by every plugin.
    pub leases: Arc<Leases>,
    /// This plugin's own metrics.
    pub metrics: PluginMetrics,
}

impl PluginContext {
    /// The context of plugin `name`: its namespace `plugin/<name>` of `store`, and the host's shared services.
    pub fn new(
        name: &str,
        store: &dyn Store,
        http: reqwest::Client,
        runtime: tokio::runtime::Handle,
        leases: Arc<Leases>,
        metrics_enabled: bool,
    ) -> Result<PluginContext, StoreError> {
        Ok(PluginContext {
            name: name.to_owned(),
            kv: store.namespace(&format!("plugin/{name}"))?,
            http,
            runtime,
            leases,
            metrics: PluginMetrics::new(name, metrics_enabled),
        })
    }

    /// The prefix of this plugin's lease names.
    fn lease_owner(&self) -> String {
        format!("plugin/{}/", self.name)
    }
}

/// Builds the services table for one plugin. Leaks the context on purpose: plugins are never unloaded.
pub fn host_services(context: PluginContext) -> HostServicesRef {
    let context: &'static PluginContext = Box::leak(Box::new(context));
    // SAFETY: `HostContext` is an opaque stand-in; only `context_of` below reads the pointer, as `PluginContext`.
    let context_ref = unsafe { RRef::from_raw(context as *const PluginContext as *const HostContext) };
    HostServices {
        context: context_ref,
        max_log_level: current_max_level(),
        log,
        kv_get,
        kv_put,
        kv_delete,
        kv_compare_and_swap,
        kv_scan_prefix,
        kv_flush,
        http,
        sleep,
        kv_put_expiring,
        lease_acquire,
        lease_release,
        metric_record,
    }
    .leak_into_prefix()
}

fn context_of(ctx: HostContextRef) -> &'static PluginContext {
    // SAFETY: every `HostContextRef` the host hands out was made from a leaked `PluginContext` in `host_services`.
    unsafe { &*(ctx.as_ptr() as *const PluginContext) }
}

fn current_max_level() -> LogLevel {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        LevelFilter::TRACE => LogLevel::Trace,
        LevelFilter::DEBUG => LogLevel::Debug,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::WARN => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}

extern "C" fn log(ctx: HostContextRef, level: LogLevel, target: RStr<'_>, message: RStr<'_>) {
    let plugin = context_of(ctx).name.as_str();
    let (source, message) = (target.as_str(), message.as_str());
    match level {
        LogLevel::Error => tracing::error!(target: "openhost::plugin", plugin, source, "{message}"),
        LogLevel::Warn => tracing::warn!(target: "openhost::plugin", plugin, source, "{message}"),
        LogLevel::Info => tracing::info!(target: "openhost::plugin", plugin, source, "{message}"),
        LogLevel::Debug => tracing::debug!(target: "openhost::plugin", plugin, source, "{message}"),
        LogLevel::Trace => tracing::trace!(target: "openhost::plugin", plugin, source, "{message}"),
    }
}

fn store_error(e: StoreError) -> PluginError {
    match e {
        // The plugin passes it on with `?`: the client learns to retry, as from the host's own routes.
        StoreError::Unavailable(_) => {
            tracing::warn!("{e}");
            PluginError::http(
                503,
                "store_unavailable",
                "the database is unavailable; try again shortly",
            )
        }
        StoreError::Backend(_) | StoreError::Locked => PluginError::Host(RString::from(e.to_string())),
    }
}

/// A store operation as the plugin ABI's future.
fn ffi<T: Send + 'static>(operation: StoreFuture<T>) -> FfiFuture<RResult<T, PluginError>> {
    async move { RResult::from(operation.await.map_err(store_error)) }.into_ffi()
}

extern "C" fn kv_get(ctx: HostContextRef, key: RVec<u8>) -> FfiFuture<RResult<ROption<RVec<u8>>, PluginError>> {
    let operation = context_of(ctx).kv.get(&key);
    ffi(Box::pin(
        async move { Ok(ROption::from(operation.await?.map(RVec::from))) },
    ))
}

extern "C" fn kv_put(ctx: HostContextRef, key: RVec<u8>, value: RVec<u8>) -> FfiFuture<RResult<(), PluginError>> {
    ffi(context_of(ctx).kv.put(&key, &value))
}

extern "C" fn kv_put_expiring(
    ctx: HostContextRef,
    key: RVec<u8>,
    value: RVec<u8>,
    ttl_ms: u64,
) -> FfiFuture<RResult<(), PluginError>> {
    ffi(context_of(ctx)
        .kv
        .put_expiring(&key, &value, Duration::from_millis(ttl_ms)))
}

extern "C" fn kv_delete(ctx: HostContextRef, key: RVec<u8>) -> FfiFuture<RResult<bool, PluginError>> {
    ffi(context_of(ctx).kv.delete(&key))
}

extern "C" fn kv_compare_and_swap(
    ctx: HostContextRef,
    key: RVec<u8>,
    expected: ROption<RVec<u8>>,
    new: ROption<RVec<u8>>,
) -> FfiFuture<RResult<bool, PluginError>> {
    let expected = expected.as_ref().map(|v| v.as_slice()).into_option();
    let new = new.as_ref().map(|v| v.as_slice()).into_option();
    ffi(context_of(ctx).kv.compare_and_swap(&key, expected, new))
}

extern "C" fn kv_scan_prefix(
    ctx: HostContextRef,
    prefix: RVec<u8>,
    limit: u32,
) -> FfiFuture<RResult<RVec<KvEntry>, PluginError>> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let operation = context_of(ctx).kv.scan_prefix(&prefix, limit);
    ffi(Box::pin(async move {
        Ok(operation
            .await?
            .into_iter()
            .map(|(key, value)| KvEntry {
                key: key.into(),
                value: value.into(),
            })
            .collect())
    }))
}

extern "C" fn kv_flush(ctx: HostContextRef) -> FfiFuture<RResult<(), PluginError>> {
    let context = context_of(ctx);
    let task = context.runtime.spawn(context.kv.flush());
    async move {
        match task.await {
            Ok(result) => RResult::from(result.map_err(store_error)),
            Err(_) => RResult::RErr(PluginError::Host("the flush task was cancelled".into())),
        }
    }
    .into_ffi()
}

extern "C" fn http(ctx: HostContextRef, request: HttpRequest) -> FfiFuture<RResult<Response, PluginError>> {
    let context = context_of(ctx);
    let task = context.runtime.spawn(send(context.http.clone(), request));
    async move {
        match task.await {
            Ok(result) => RResult::from(result),
            Err(_) => RResult::RErr(PluginError::Host("the HTTP task was cancelled".into())),
        }
    }
    .into_ffi()
}

async fn send(client: reqwest::Client, request: HttpRequest) -> Result<Response, PluginError> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| PluginError::other(format!("`{}` is not an HTTP method", request.method)))?;
    // A plugin may ask for a shorter deadline, never a longer one.
    let timeout = match request.timeout_ms {
        0 => outbound::DEADLINE,
        ms => Duration::from_millis(ms).min(outbound::DEADLINE),
    };
    let mut builder = client.request(method, request.url.as_str()).timeout(timeout);
    for header in &request.headers {
        builder = builder.header(header.name.as_str(), header.value.as_str());
    }
    if !request.body.is_empty() {
        builder = builder.body(request.body.into_vec());
    }
    let (status, headers, body) = outbound::send(builder)
        .await
        .map_err(|e| PluginError::Host(e.to_string().into()))?;
    let headers = headers
        .iter()
        .filter_map(|(name, value)| Some(Header::new(name.as_str(), value.to_str().ok()?)))
        .collect();
    Ok(Response {
        status,
        headers,
        body: body.into(),
    })
}

extern "C" fn sleep(ctx: HostContextRef, millis: u64) -> FfiFuture<()> {
    let task = context_of(ctx)
        .runtime
        .spawn(tokio::time::sleep(Duration::from_millis(millis)));
    async move {
        let _ = task.await;
    }
    .into_ffi()
}

extern "C" fn lease_acquire(
    ctx: HostContextRef,
    name: RStr<'_>,
    ttl_ms: u64,
    wait_ms: u64,
) -> FfiFuture<RResult<ROption<u64>, PluginError>> {
    let context = context_of(ctx);
    let name = format!("{}{}", context.lease_owner(), name.as_str());
    let leases = Arc::clone(&context.leases);
    let (ttl, wait) = (Duration::from_millis(ttl_ms), Duration::from_millis(wait_ms));
    // On the host's runtime: the wait needs its timer, whoever polls this future.
    let task = context
        .runtime
        .spawn(async move { leases.acquire(&name, ttl, wait).await });
    async move {
        match task.await {
            Ok(result) => RResult::from(result.map(ROption::from).map_err(store_error)),
            Err(_) => RResult::RErr(PluginError::Host("the lease task was cancelled".into())),
        }
    }
    .into_ffi()
}

extern "C" fn lease_release(ctx: HostContextRef, id: u64) {
    let context = context_of(ctx);
    context.leases.release(id, &context.lease_owner());
}

extern "C" fn metric_record(
    ctx: HostContextRef,
    kind: MetricKind,
    name: RStr<'_>,
    labels: RSlice<'_, MetricLabel<'_>>,
    value: f64,
) -> RResult<(), PluginError> {
    let result = context_of(ctx)
        .metrics
        .record(kind, name.as_str(), labels.as_slice(), value);
    RResult::from(result.map_err(|e| PluginError::other(e.to_string())))
}
