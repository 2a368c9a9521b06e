//! The registry generations: the one serving, and the ones retiring (the reload that builds the next one is
//! [`super::reload`]).
//!
//! A request takes the current generation once, at its start ([`Generations::current`], an `Arc`), and keeps it
//! to its end: a reload that swaps in the next generation meanwhile changes nothing for it. The retired
//! generation's plugins get `shutdown()` once the last request holding it has finished. A reload that fails
//! anywhere (the config, a library, a plugin's `init`, a slot conflict) leaves the serving generation untouched.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;

use crate::{registry::Registry, telemetry::Telemetry};

/// How often a retired generation is checked for requests still holding it.
const DRAIN_CHECK_EVERY: Duration = Duration::from_millis(20);
/// A retired generation still held after this long is reported (a request waiting on a slow client).
const DRAIN_REPORT_AFTER: Duration = Duration::from_secs(60);
/// How long a stopping process waits for retired generations to drain.
const RETIRING_AT_EXIT: Duration = Duration::from_secs(5);

/// The turn to change what this process serves, held until the change is made ([`Generations::reload_turn`]).
pub struct ReloadTurn<'a>(tokio::sync::MutexGuard<'a, bool>);

impl ReloadTurn<'_> {
    /// An upgrade handed the server on: every later turn is refused.
    pub fn handed_on(mut self) {
        *self.0 = true;
    }
}

/// Why no turn is given: this process handed the server to its successor.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "this process handed the server to its successor (an upgrade) and changes nothing any more: ask again, the new process answers on the same address"
)]
pub struct HandedOn;

/// The serving registry and the ones retiring.
pub struct Generations {
    current: ArcSwap<Registry>,
    /// One change at a time (a reload, a plugin change, an upgrade): two reloads at once would both build "the
    /// next" generation, and a change made while an upgrade hands the server on would be saved where the new
    /// process no longer reads. Holds whether an upgrade has handed the server on: then no turn is given.
    reloading: tokio::sync::Mutex<bool>,
    /// Retired generations waiting for their requests to finish.
    retiring: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Generations {
    pub fn new(first: Registry) -> Generations {
        Generations {
            current: ArcSwap::from_pointee(first),
            reloading: tokio::sync::Mutex::new(false),
            retiring: Mutex::new(Vec::new()),
        }
    }

    /// The generation serving now. A request keeps what this returned until it ends.
    pub fn current(&self) -> Arc<Registry> {
        self.current.load_full()
    }

    /// Waits for the turn to change what this process serves: one reload, plugin change or upgrade at a time.
    /// Refused once an upgrade handed the server to the new process: what this one would change now, its
    /// successor would not serve.
    pub async fn reload_turn(&self) -> Result<ReloadTurn<'_>, HandedOn> {
        let turn = self.reloading.lock().await;
        if *turn {
            return Err(HandedOn);
        }
        Ok(ReloadTurn(turn))
    }

    /// Swaps `next` in and starts retiring the generation it replaces: once no request holds it, its plugins
    /// get `shutdown()`.
    pub fn swap_in(&self, next: Registry, telemetry: &Arc<Telemetry>) {
        let previous = self.current();
        next.report_plugins(telemetry, true);
        self.current.store(Arc::new(next));
        retire(previous, Arc::clone(telemetry), self);
    }

    /// Shuts down the serving generation and waits for the retiring ones: for the end of the process, after
    /// the last request. A retired generation a request still holds (one that outlived the server's stop) is
    /// given up on after [`RETIRING_AT_EXIT`].
    pub async fn shut_down(&self) {
        let retiring = std::mem::take(&mut *self.retiring.lock().unwrap_or_else(|p| p.into_inner()));
        for mut task in retiring {
            if tokio::time::timeout(RETIRING_AT_EXIT, &mut task).await.is_err() {
                tracing::warn!("a retired generation still held by a request is not shut down");
                task.abort();
            }
        }
        let current = self.current();
        let _ = tokio::task::spawn_blocking(move || current.shutdown()).await;
    }
}

/// Starts retiring `previous`: once no request holds it, its plugins get `shutdown()`.
fn retire(previous: Arc<Registry>, telemetry: Arc<Telemetry>, generations: &Generations) {
    let task = tokio::spawn(async move {
        let started = Instant::now();
        let mut reported = false;
        while Arc::strong_count(&previous) > 1 {
            if !reported && started.elapsed() >= DRAIN_REPORT_AFTER {
                reported = true;
                tracing::warn!(
                    generation = previous.generation,
                    "a retired generation still serves requests after {} s",
                    DRAIN_REPORT_AFTER.as_secs()
                );
            }
            tokio::time::sleep(DRAIN_CHECK_EVERY).await;
        }
        previous.report_plugins(&telemetry, false);
        let generation = previous.generation;
        // Plugins' shutdown and their objects' destructors run plugin code: off the workers.
        let _ = tokio::task::spawn_blocking(move || {
            previous.shutdown();
            drop(previous);
        })
        .await;
        tracing::info!(generation, "retired generation drained and shut down");
    });
    let mut retiring = generations.retiring.lock().unwrap_or_else(|p| p.into_inner());
    retiring.retain(|task| !task.is_finished());
    retiring.push(task);
}
