//! One sandboxed plugin: its module compiled and checked, its idle instances, and the two calls the middleware
//! chain makes (`handle_request`, `handle_response`), each within the plugin's deadline.

use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Waker},
    time::Instant,
};

use openhost_plugin_api::{HeaderChange, PluginError, RequestEdit, Response};
use wasmtime::{Engine, InstancePre, Linker, Module, Store, StoreLimitsBuilder};

use super::{
    CodeCache, CodeSource, WasmError, WasmLimits, checks, engine, exchange, http_handler,
    message::{GuestRequest, GuestResponse, Headers},
    outcome::{Held, RequestOutcome},
    pool::{Pool, Warm},
    wasi,
};
use crate::call::CallError;

/// One sandboxed plugin, compiled, with its idle instances.
pub struct WasmPlugin {
    pub name: Arc<str>,
    limits: WasmLimits,
    pre: InstancePre<exchange::Exchange>,
    shape: checks::Shape,
    config: Arc<[u8]>,
    pool: Pool,
}

impl WasmPlugin {
    /// Compiles `bytes` (whose hash is `sha256`), or takes their code from `cache`, checks the module, then makes
    /// the first instance (running its start function). Says where the code came from.
    pub fn load(
        name: &str,
        bytes: &[u8],
        sha256: &str,
        limits: WasmLimits,
        config: Vec<u8>,
        cache: &CodeCache,
    ) -> Result<(WasmPlugin, CodeSource), WasmError> {
        let engine = engine::engine()?;
        let (module, source) = compiled(engine, bytes, sha256, cache)?;
        let shape = checks::check(&module)?;
        let mut linker = Linker::new(engine);
        let link = |e: wasmtime::Error| WasmError::Link(e.into_boxed_dyn_error());
        http_handler::add_to(&mut linker).map_err(link)?;
        wasi::add_to(&mut linker).map_err(link)?;
        let pre = linker.instantiate_pre(&module).map_err(link)?;
        let plugin = WasmPlugin {
            name: Arc::from(name),
            limits,
            pre,
            shape,
            config: Arc::from(config),
            pool: Pool::new(limits.pool_size),
        };
        let first = run_to_end(plugin.instantiate(), limits.call_timeout)
            .ok_or(WasmError::StartTimeout(limits.call_timeout))?
            .map_err(|e| WasmError::Start(root_cause(&e)))?;
        plugin.pool.give(first);
        Ok((plugin, source))
    }

    /// What the plugin may use.
    pub fn limits(&self) -> WasmLimits {
        self.limits
    }

    /// Whether the guest exports `handle_response`.
    pub fn has_response_hook(&self) -> bool {
        self.shape.handle_response
    }

    /// A new instance, its start function run.
    async fn instantiate(&self) -> wasmtime::Result<Warm> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let exchange = exchange::Exchange::new(Arc::clone(&self.name), Arc::clone(&self.config), limits);
        let mut store = Store::new(self.pre.module().engine(), exchange);
        store.limiter(|exchange| &mut exchange.limits);
        // The guest yields at every tick; the caller's timer decides when it has run too long.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let instance = self.pre.instantiate_async(&mut store).await?;
        if let Some(start) = self.shape.start {
            instance
                .get_typed_func::<(), ()>(&mut store, start)?
                .call_async(&mut store, ())
                .await?;
        }
        let handle_request = instance.get_typed_func::<(), i64>(&mut store, "handle_request")?;
        let handle_response = match self.shape.handle_response {
            true => Some(instance.get_typed_func::<(i32, i32), ()>(&mut store, "handle_response")?),
            false => None,
        };
        Ok(Warm {
            store,
            handle_request,
            handle_response,
        })
    }

    /// Runs `handle_request` (on an idle instance, or a new one) on the request `fill` writes into the
    /// instance's own. The caller keeps the deadline.
    pub async fn handle_request(&self, fill: impl FnOnce(&mut GuestRequest)) -> Result<RequestOutcome, CallError> {
        let call = async {
            let mut warm = match self.pool.take() {
                Some(warm) => warm,
                // Boxed: making an instance is the rare path, and its future is large; inline, every request's
                // future would carry (and move) its space.
                None => Box::pin(self.instantiate()).await?,
            };
            let exchange = warm.store.data_mut();
            fill(&mut exchange.request);
            exchange.response.clear();
            warm.fresh_deadline();
            let Warm {
                store, handle_request, ..
            } = &mut warm;
            let ctx_next = handle_request.call_async(store, ()).await?;
            wasmtime::Result::Ok((warm, ctx_next))
        };
        let (mut warm, ctx_next) = call.await.map_err(trapped)?;
        let exchange = warm.store.data_mut();
        if ctx_next & 1 == 0 {
            let answer = to_response(&mut exchange.response);
            self.pool.give(warm);
            return Ok(RequestOutcome::Respond(answer));
        }
        let response_headers = std::mem::take(&mut exchange.response.headers);
        // What the guest wrote before `next` stays ahead of the answer's body, as the reference host (which
        // writes it to the client at once) has it.
        let response_body = std::mem::take(&mut exchange.response.body.bytes);
        // The request stays with the instance: a guest with a response hook may read it there too (`get_uri`
        // in `handle_response`).
        let edits = request_edits(&exchange.request);
        let held = match warm.handle_response {
            Some(_) => Some(Held {
                warm,
                context: (ctx_next >> 32) as i32,
            }),
            None => {
                self.pool.give(warm);
                None
            }
        };
        Ok(RequestOutcome::Next {
            edits,
            response_headers,
            response_body,
            held,
        })
    }

    /// Runs `handle_response` on `response` with the instance `handle_request` ran on; the guest may change its
    /// status, headers and body.
    pub async fn handle_response(&self, held: Held, response: &mut Response, is_error: bool) -> Result<(), CallError> {
        let Held { mut warm, context } = held;
        if warm.handle_response.is_none() {
            self.pool.give(warm);
            return Ok(());
        }
        // The answer is lent to the guest (a failure of the call replaces it).
        let lent = &mut warm.store.data_mut().response;
        lent.status = response.status;
        lent.headers = lower_case_names(std::mem::take(&mut response.headers).into_vec());
        lent.body.clear();
        lent.body.bytes = std::mem::take(&mut response.body).into_vec();
        let call = async {
            warm.fresh_deadline();
            if let Warm {
                store,
                handle_response: Some(handle_response),
                ..
            } = &mut warm
            {
                handle_response
                    .call_async(store, (context, i32::from(is_error)))
                    .await?;
            }
            wasmtime::Result::Ok(warm)
        };
        let mut warm = call.await.map_err(trapped)?;
        *response = to_response(&mut warm.store.data_mut().response);
        self.pool.give(warm);
        Ok(())
    }
}

/// The runtime's build, as a file-name part: compiled code of one build does not load in another.
fn runtime_build(compatibility: impl std::hash::Hash) -> String {
    use std::hash::Hasher as _;
    let mut hasher = std::hash::DefaultHasher::new();
    compatibility.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The module of `bytes`: from the cache when an entry for this module and runtime checks out, else compiled
/// (which validates it) and kept in the cache.
fn compiled(engine: &Engine, bytes: &[u8], sha256: &str, cache: &CodeCache) -> Result<(Module, CodeSource), WasmError> {
    let runtime = runtime_build(engine.precompile_compatibility_hash());
    if let Some(code) = cache.load(sha256, &runtime) {
        // SAFETY: deserializing trusts the bytes as machine code. These are code this host compiled from the
        // module with this sha256 for this runtime build: their tag, an HMAC under a key only this host holds,
        // checked out for exactly that.
        match unsafe { Module::deserialize(engine, &code) } {
            Ok(module) => return Ok((module, CodeSource::Cache)),
            Err(e) => tracing::warn!("compiled code from the cache does not load ({e}); compiling again"),
        }
    }
    let module = Module::new(engine, bytes).map_err(|e| WasmError::Invalid(e.into_boxed_dyn_error()))?;
    match module.serialize() {
        Ok(code) => cache.store(sha256, &runtime, &code),
        Err(e) => tracing::warn!("compiled code cannot be kept: {e}"),
    }
    Ok((module, CodeSource::Compiled))
}

/// A trap (or a host function's refusal) as the plugin's failure. The instance, owned by the failed call, is
/// dropped with it, never pooled; so is one whose call the caller gave up on at the plugin's deadline
/// (`App::timed_call` with [`WasmLimits::call_timeout`]: dropping the call's future drops the instance).
fn trapped(error: wasmtime::Error) -> CallError {
    CallError::Plugin(PluginError::other(format!(
        "the sandboxed guest failed: {}",
        root_cause(&error)
    )))
}

/// The innermost cause of a wasmtime error, in one line: the trap, or the host function's refusal.
fn root_cause(error: &wasmtime::Error) -> String {
    error
        .root_cause()
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The answer a guest wrote, taken out of its instance.
fn to_response(answer: &mut GuestResponse) -> Response {
    Response {
        status: answer.status,
        headers: std::mem::take(&mut answer.headers).into(),
        body: std::mem::take(&mut answer.body.bytes).into(),
    }
}

/// `headers` with their names in lower case, as a guest reads them.
fn lower_case_names(mut headers: Headers) -> Headers {
    for header in &mut headers {
        if header.name.bytes().any(|byte| byte.is_ascii_uppercase()) {
            header.name = header.name.to_ascii_lowercase().into();
        }
    }
    headers
}

/// The changes a guest made to the request, as the chain applies them: method, URI, each header it touched
/// (removed, then its values now appended), and the body if it wrote one.
fn request_edits(after: &GuestRequest) -> Vec<RequestEdit> {
    let mut edits = Vec::new();
    let changed = &after.changed;
    if changed.method {
        edits.push(RequestEdit::SetMethod(after.method.as_str().into()));
    }
    if changed.uri {
        edits.push(RequestEdit::SetUri(after.uri.as_str().into()));
    }
    for name in &changed.headers {
        edits.push(RequestEdit::Header(HeaderChange::Remove(name.as_str().into())));
        for header in after.headers.iter().filter(|header| header.name == name.as_str()) {
            edits.push(RequestEdit::Header(HeaderChange::Append(header.clone())));
        }
    }
    if after.body.written {
        edits.push(RequestEdit::SetBody(after.body.bytes.as_slice().into()));
    }
    edits
}

/// Polls `future` on this thread until it is ready or `limit` has passed (`None`). For the first instance at
/// load, where no runtime may be at hand; the guest yields at every epoch tick, so the limit is looked at.
fn run_to_end<T>(future: impl Future<Output = T>, limit: std::time::Duration) -> Option<T> {
    let started = Instant::now();
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return Some(value);
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::yield_now();
    }
}
