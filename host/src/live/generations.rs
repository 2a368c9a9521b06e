//! The registry generations: the one serving, and the reload that builds the next one beside it.
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

use crate::{
    app::App, components::HostComponents, config::Config, error::StartupError, live::changes, registry::Registry,
};

/// How often a retired generation is checked for requests still holding it.
const DRAIN_CHECK_EVERY: Duration = Duration::from_millis(20);
/// A retired generation still held after this long is reported (a request waiting on a slow client).
const DRAIN_REPORT_AFTER: Duration = Duration::from_secs(60);
/// How long a stopping process waits for retired generations to drain.
const RETIRING_AT_EXIT: Duration = Duration::from_secs(5);

/// The serving registry and the ones retiring.
pub struct Generations {
    current: ArcSwap<Registry>,
    /// One reload at a time: two at once would both build "the next" generation.
    reloading: tokio::sync::Mutex<()>,
    /// Retired generations waiting for their requests to finish.
    retiring: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("{0}")]
    Refused(#[from] StartupError),
    #[error("building the new generation stopped: {0}")]
    Aborted(String),
}

/// What a reload did.
#[derive(Debug, Clone)]
pub struct Reloaded {
    pub generation: u64,
    pub plugins: usize,
    /// Changed `[host]` keys that keep their running value until a restart.
    pub needs_restart: Vec<&'static str>,
}

impl std::fmt::Display for Reloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "generation {} serving, {} plugins loaded",
            self.generation, self.plugins
        )?;
        if !self.needs_restart.is_empty() {
            write!(
                f,
                "; changed but applied only by a restart or upgrade: {}",
                self.needs_restart.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Generations {
    pub fn new(first: Registry) -> Generations {
        Generations {
            current: ArcSwap::from_pointee(first),
            reloading: tokio::sync::Mutex::new(()),
            retiring: Mutex::new(Vec::new()),
        }
    }

    /// The generation serving now. A request keeps what this returned until it ends.
    pub fn current(&self) -> Arc<Registry> {
        self.current.load_full()
    }

    /// Re-reads `plugins.toml` and `plugin_dir`, builds the next generation with every startup check, and swaps
    /// it in. On any error the serving generation stays as it was.
    pub async fn reload(&self, app: &App) -> Result<Reloaded, ReloadError> {
        let _turn = self.reloading.lock().await;
        let result = self.build_next(app).await;
        match &result {
            Ok(reloaded) => {
                app.telemetry.reloaded("ok");
                tracing::info!("reloaded: {reloaded}");
            }
            Err(e) => {
                app.telemetry.reloaded("failed");
                tracing::error!("reload refused, nothing changed: {e}");
            }
        }
        result
    }

    async fn build_next(&self, app: &App) -> Result<Reloaded, ReloadError> {
        let new = Config::load(&app.config.path, &app.overrides)?;
        let (config, needs_restart) = changes::apply(&app.config, new);
        let previous = self.current();
        let generation = previous.generation + 1;
        let defaults = HostComponents::new(&app.config.github_api_url, app.http.clone(), app.settings.clone());
        let deps = Arc::clone(&app.deps);
        let built = Arc::clone(&previous);
        // Plugins' `init` runs here: on a blocking thread, not on a worker serving requests.
        let registry =
            tokio::task::spawn_blocking(move || Registry::build(&config, &deps, defaults, generation, Some(&built)))
                .await
                .map_err(|e| ReloadError::Aborted(e.to_string()))??;
        let reloaded = Reloaded {
            generation,
            plugins: registry.plugins.iter().filter(|p| p.loaded).count(),
            needs_restart,
        };
        app.telemetry.plugins_info(&registry, true);
        self.current.store(Arc::new(registry));
        retire(previous, app, self);
        Ok(reloaded)
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
fn retire(previous: Arc<Registry>, app: &App, generations: &Generations) {
    let telemetry = Arc::clone(&app.telemetry);
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
        telemetry.plugins_info(&previous, false);
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
