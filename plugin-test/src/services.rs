//! The `HostServices` table of a test host: each service answers from [`State`] at once, so every future here is
//! ready on its first poll.

use std::{sync::Arc, time::Duration};

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_types::RRef,
    std_types::{ROption, RResult, RSlice, RStr, RVec},
};
use async_ffi::{FfiFuture, FutureExt};
use openhost_plugin_api::{
    host::{HostContext, HostContextRef},
    HostServices, HostServicesRef, HttpRequest, KvEntry, LogLevel, MetricKind, MetricLabel, PluginError, Response,
};

use crate::state::{log_on_this_thread, LogLine, Sample, State};

/// The services table over `state`. The state is leaked on purpose: the plugin keeps its `Host` (and so this
/// table) for the rest of the process, as a loaded plugin does.
pub fn host_services(state: Arc<State>) -> HostServicesRef {
    let state: *const State = Arc::into_raw(state);
    // SAFETY: `HostContext` is an opaque stand-in; only `state_of` below reads the pointer, as `State`.
    let context = unsafe { RRef::from_raw(state as *const HostContext) };
    HostServices {
        context,
        max_log_level: LogLevel::Trace,
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

fn state_of(ctx: HostContextRef) -> &'static State {
    // SAFETY: every context handed out was made from a leaked `Arc<State>` in `host_services`.
    unsafe { &*(ctx.as_ptr() as *const State) }
}

/// A future that is ready at once.
fn ready<T: Send + 'static>(value: T) -> FfiFuture<T> {
    std::future::ready(value).into_ffi()
}

extern "C" fn log(ctx: HostContextRef, level: LogLevel, target: RStr<'_>, message: RStr<'_>) {
    let line = LogLine {
        level,
        target: target.as_str().to_owned(),
        message: message.as_str().to_owned(),
    };
    log_on_this_thread(state_of(ctx), line);
}

extern "C" fn kv_get(ctx: HostContextRef, key: RVec<u8>) -> FfiFuture<RResult<ROption<RVec<u8>>, PluginError>> {
    let value = state_of(ctx).kv_get(&key).map(RVec::from);
    ready(RResult::ROk(value.into()))
}

extern "C" fn kv_put(ctx: HostContextRef, key: RVec<u8>, value: RVec<u8>) -> FfiFuture<RResult<(), PluginError>> {
    state_of(ctx).kv_put(key.into_vec(), value.into_vec(), None);
    ready(RResult::ROk(()))
}

extern "C" fn kv_put_expiring(
    ctx: HostContextRef,
    key: RVec<u8>,
    value: RVec<u8>,
    ttl_ms: u64,
) -> FfiFuture<RResult<(), PluginError>> {
    let ttl = Some(Duration::from_millis(ttl_ms));
    state_of(ctx).kv_put(key.into_vec(), value.into_vec(), ttl);
    ready(RResult::ROk(()))
}

extern "C" fn kv_delete(ctx: HostContextRef, key: RVec<u8>) -> FfiFuture<RResult<bool, PluginError>> {
    ready(RResult::ROk(state_of(ctx).kv_delete(&key)))
}

extern "C" fn kv_compare_and_swap(
    ctx: HostContextRef,
    key: RVec<u8>,
    expected: ROption<RVec<u8>>,
    new: ROption<RVec<u8>>,
) -> FfiFuture<RResult<bool, PluginError>> {
    let expected = expected.as_ref().map(|value| value.as_slice()).into_option();
    let swapped = state_of(ctx).kv_compare_and_swap(&key, expected, new.into_option().map(RVec::into_vec));
    ready(RResult::ROk(swapped))
}

extern "C" fn kv_scan_prefix(
    ctx: HostContextRef,
    prefix: RVec<u8>,
    limit: u32,
) -> FfiFuture<RResult<RVec<KvEntry>, PluginError>> {
    let entries = state_of(ctx)
        .kv_scan_prefix(&prefix, limit as usize)
        .into_iter()
        .map(|(key, value)| KvEntry {
            key: key.into(),
            value: value.into(),
        })
        .collect();
    ready(RResult::ROk(entries))
}

extern "C" fn kv_flush(_ctx: HostContextRef) -> FfiFuture<RResult<(), PluginError>> {
    ready(RResult::ROk(()))
}

extern "C" fn http(ctx: HostContextRef, request: HttpRequest) -> FfiFuture<RResult<Response, PluginError>> {
    let answer = match state_of(ctx).http(request) {
        Some(response) => RResult::ROk(response),
        None => RResult::RErr(PluginError::Host(
            "the outbound request failed: the test set no answer (TestHost::answer_http)".into(),
        )),
    };
    ready(answer)
}

extern "C" fn sleep(ctx: HostContextRef, millis: u64) -> FfiFuture<()> {
    state_of(ctx).advance(Duration::from_millis(millis));
    ready(())
}

extern "C" fn lease_acquire(
    ctx: HostContextRef,
    name: RStr<'_>,
    _ttl_ms: u64,
    wait_ms: u64,
) -> FfiFuture<RResult<ROption<u64>, PluginError>> {
    let held = state_of(ctx).lease_acquire(name.as_str(), Duration::from_millis(wait_ms));
    ready(RResult::ROk(held.into()))
}

extern "C" fn lease_release(ctx: HostContextRef, id: u64) {
    state_of(ctx).lease_release(id);
}

extern "C" fn metric_record(
    ctx: HostContextRef,
    kind: MetricKind,
    name: RStr<'_>,
    labels: RSlice<'_, MetricLabel<'_>>,
    value: f64,
) -> RResult<(), PluginError> {
    state_of(ctx).record_metric(Sample {
        kind,
        name: name.as_str().to_owned(),
        labels: labels
            .iter()
            .map(|label| (label.name.as_str().to_owned(), label.value.as_str().to_owned()))
            .collect(),
        value,
    });
    RResult::ROk(())
}
