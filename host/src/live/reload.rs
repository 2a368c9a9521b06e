//! A reload (SIGHUP, `openhost plugins reload`, the admin API): re-read `plugins.toml` and `plugin_dir`, build
//! the next registry generation with every startup check, and swap it in ([`super::generations`]). On any error
//! the serving generation stays as it was. A change of plugin settings through the admin API builds the next
//! generation from the settings it is about to save ([`next_generation`]), and saves them only once it built.

use std::sync::Arc;

use std::future::Future;

use crate::{
    app::App,
    components::HostComponents,
    config::Config,
    live::changes,
    plugin_settings::{SaveError, SettingsError},
    registry::Registry,
};

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("{0}")]
    Refused(#[from] crate::registry::RegistryError),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("building the new generation stopped: {0}")]
    Aborted(String),
    #[error("{0}")]
    Settings(#[from] SettingsError),
    #[error("the new generation built, but its settings were not saved: {0}")]
    Save(#[from] SaveError),
    #[error(transparent)]
    HandedOn(#[from] super::generations::HandedOn),
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

/// Re-reads `plugins.toml` and `plugin_dir`, builds the next generation with every startup check, and swaps
/// it in. On any error the serving generation stays as it was.
pub async fn reload(app: &App) -> Result<Reloaded, ReloadError> {
    let result = match app.generations.reload_turn().await {
        Ok(_turn) => build_next(app).await,
        Err(handed_on) => return Err(handed_on.into()),
    };
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

async fn build_next(app: &App) -> Result<Reloaded, ReloadError> {
    let saved = app.plugin_settings.read().await?;
    // Whatever this build comes to, it was tried on these settings: another instance's change is not tried
    // again and again.
    app.plugin_settings.applied(&saved);
    let new = app.plugin_settings.config(&saved)?;
    next_generation(app, new, async { Ok(()) }).await
}

/// Builds the next generation from `new` to the side, with every startup check; once it built, runs `save`
/// (what keeps the settings it was built from), then swaps it in. A build or a save that fails changes nothing.
/// The caller holds the reload turn ([`super::Generations::reload_turn`]).
pub async fn next_generation(
    app: &App,
    new: Config,
    save: impl Future<Output = Result<(), SaveError>>,
) -> Result<Reloaded, ReloadError> {
    let (config, needs_restart) = changes::apply(&app.config, new);
    let previous = app.generations.current();
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
    if let Err(e) = save.await {
        // Never served: its plugins, whose init ran, are shut down as a retired generation's are.
        let _ = tokio::task::spawn_blocking(move || registry.shutdown()).await;
        return Err(ReloadError::Save(e));
    }
    app.generations.swap_in(registry, &app.telemetry);
    Ok(reloaded)
}
