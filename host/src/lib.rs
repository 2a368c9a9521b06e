//! openhost: the server that serves the coding-agent API and hosts stable-ABI plugins.
//!
//! Start-up is [`run`]: read `plugins.toml` ([`config`]), open the store ([`store`]), find, check and initialise
//! plugins ([`loader`], `registry`) handing each its `services`, then serve HTTP ([`server`], `api`) until
//! SIGINT/SIGTERM, and shut plugins down. The host's own slot implementations live in `components`.
//!
//! The library's public surface is what its other users need, and nothing else: the binary ([`cli`], [`config`],
//! [`live`], [`malloc`], [`run`], [`error`]), the store conformance tests ([`store`], [`lease`]) and the fuzz
//! targets ([`loader`], [`server`]). Every other module is private: a plugin reaches the host only through the
//! plugin interface, never through this crate.

mod admin_api;
mod api;
mod app;
mod call;
pub mod cli;
mod client;
mod components;
pub mod config;
mod data_dir;
pub mod error;
mod host_key;
pub mod lease;
pub mod live;
pub mod loader;
pub mod malloc;
mod middleware;
mod options;
mod origins;
mod outbound;
mod plugin_settings;
mod publish;
mod registry;
mod replace_file;
mod routes;
pub mod server;
mod services;
mod settings;
mod signature;
pub mod store;
mod telemetry;
mod text;
mod user_records;
mod user_secrets;
mod wasm;

use std::{os::fd::AsRawFd, sync::Arc};

use crate::{
    app::App,
    components::HostComponents,
    config::{Config, Overrides, StoreConfig},
    error::StartupError,
    host_key::HostKey,
    live::{
        Generations, admin,
        upgrade::{self, Inherited},
    },
    plugin_settings::PluginSettings,
    registry::{HostDeps, Registry},
    server::{Accept, Steering},
    settings::SettingsStore,
    store::{PostgresStore, SledStore, Store},
    telemetry::{Telemetry, store::MeteredStore},
    user_records::UserRecords,
};

pub use outbound::USER_AGENT;

/// Everything `serve` sets up before it accepts connections. `upgrading`: the process this one replaces, which
/// is letting go of a sled database (waited for) and whose generations this one's continue.
pub async fn build_app(
    config: Config,
    overrides: Overrides,
    runtime: tokio::runtime::Handle,
    upgrading: Option<&Inherited>,
) -> Result<App, StartupError> {
    let lock_wait = upgrading.map_or(std::time::Duration::ZERO, |_| upgrade::LOCK_WAIT);
    let first_generation = upgrading.map_or(0, |previous| previous.previous_generation) + 1;
    let env = |name: &str| std::env::var(name).ok();
    let telemetry = Arc::new(Telemetry::new(
        config.metrics_listen.is_some(),
        config.admin_listen.is_some(),
    )?);
    let store: Arc<dyn Store> =
        match &config.store {
            StoreConfig::Sled => Arc::new(SledStore::open_waiting(&config.data_dir, lock_wait).map_err(|source| {
                StartupError::Store {
                    path: config.data_dir.clone(),
                    source,
                }
            })?),
            StoreConfig::Postgres {
                database_url,
                pool_size,
            } => {
                if config.secret_key.is_none() {
                    return Err(StartupError::SharedKeyRequired);
                }
                let url = config::interpolate("host.database_url", database_url, &env)?;
                let store = PostgresStore::connect(&url, *pool_size, runtime.clone())
                    .await
                    .map_err(StartupError::Database)?;
                store.listen_for_changes();
                Arc::new(store)
            }
        };
    let store: Arc<dyn Store> = if telemetry.enabled() {
        Arc::new(MeteredStore::new(store))
    } else {
        store
    };
    let store_error = |source: store::StoreError| StartupError::Store {
        path: config.data_dir.clone(),
        source,
    };
    let configured_key = config
        .secret_key
        .as_deref()
        .map(|text| config::interpolate("host.secret_key", text, &env))
        .transpose()?;
    let host_key =
        Arc::new(HostKey::resolve(configured_key.as_deref(), &config.data_dir).map_err(StartupError::HostKey)?);
    let settings = SettingsStore::new(
        store.namespace("settings").map_err(store_error)?,
        "settings",
        Arc::clone(&host_key),
    );
    let secrets = UserRecords::new(
        store.namespace("secrets").map_err(store_error)?,
        "secrets",
        Arc::clone(&host_key),
    );
    let unreadable = |source: user_records::RecordError| StartupError::Records {
        path: config.data_dir.clone(),
        source,
    };
    let sealed = settings.seal_plain_records().await.map_err(unreadable)?.sealed_now
        + secrets.seal_plain_records().await.map_err(unreadable)?.sealed_now;
    if sealed > 0 {
        tracing::info!(
            records = sealed,
            "encrypted user records stored in plain text by an earlier version"
        );
    }
    let http = outbound::client().map_err(StartupError::HttpClient)?;
    let deps = HostDeps {
        leases: lease::Leases::new(store.lease_backend(), runtime.clone()),
        metrics_enabled: telemetry.enabled(),
        store: Arc::clone(&store),
        http: http.clone(),
        runtime,
        env: Box::new(|name| std::env::var(name).ok()),
        code_cache: wasm::CodeCache::new(config.data_dir.join(wasm::CACHE_DIR), host_key),
    };
    // With several instances on one database, plugin settings changed through the admin API are kept in it,
    // over plugins.toml: an instance starting now starts with them.
    let shared = matches!(config.store, StoreConfig::Postgres { .. }).then_some(&*store);
    let plugin_settings = PluginSettings::new(&config.path, overrides.clone(), shared).map_err(store_error)?;
    let config = if plugin_settings.shared() {
        let saved = plugin_settings.read().await?;
        plugin_settings.applied(&saved);
        plugin_settings.config(&saved)?
    } else {
        config
    };
    let defaults = HostComponents::new(&config.github_api_url, http.clone(), settings.clone());
    let registry = Registry::build(&config, &deps, defaults, first_generation, None)?;
    registry.report_plugins(&telemetry, true);
    Ok(App {
        telemetry,
        config,
        overrides,
        plugin_settings,
        generations: Generations::new(registry),
        deps: Arc::new(deps),
        panics: Default::default(),
        store,
        settings,
        secrets,
        http,
        checked_server_config: Default::default(),
    })
}

/// `openhost serve`: runs until SIGINT or SIGTERM; reloads its plugins on SIGHUP or `openhost plugins reload`;
/// hands its sockets to a new process on SIGUSR2 or `openhost upgrade`. `inherited`: the sockets of the process
/// this one upgrades (crate::live::upgrade).
pub async fn run(config: Config, overrides: Overrides, inherited: Option<Inherited>) -> Result<(), StartupError> {
    let started = run_inner(config, overrides, inherited.as_ref()).await;
    if let (Err(e), Some(inherited)) = (&started, &inherited) {
        inherited.failed(&e.to_string());
    }
    started
}

async fn run_inner(config: Config, overrides: Overrides, inherited: Option<&Inherited>) -> Result<(), StartupError> {
    #[cfg(unix)]
    data_dir::restrict_new_files();
    let listen = config.listen;
    let listen_error = |addr: String| move |source| StartupError::Listen { addr, source };
    if let Some(inherited) = inherited {
        // What can be checked without the store is, before the old process stops accepting for it.
        registry::preflight(&config)?;
        if config.store == StoreConfig::Sled {
            inherited.ask_for_store().map_err(StartupError::Upgrade)?;
        }
    }
    let app = Arc::new(build_app(config, overrides, tokio::runtime::Handle::current(), inherited).await?);
    let listener = match inherited {
        Some(inherited) => {
            let listener = inherited
                .listener
                .try_clone()
                .map_err(listen_error(listen.to_string()))?;
            listener
                .set_nonblocking(true)
                .map_err(listen_error(listen.to_string()))?;
            tokio::net::TcpListener::from_std(listener).map_err(listen_error(listen.to_string()))?
        }
        None => tokio::net::TcpListener::bind(listen)
            .await
            .map_err(listen_error(listen.to_string()))?,
    };
    let local = listener.local_addr().map_err(listen_error(listen.to_string()))?;
    let metrics_listener = side_listener(app.config.metrics_listen, inherited.and_then(|i| i.metrics.as_ref())).await?;
    let admin_listener = side_listener(app.config.admin_listen, inherited.and_then(|i| i.admin.as_ref())).await?;
    let sockets = upgrade::Sockets {
        listen: listener.as_raw_fd(),
        metrics: metrics_listener.as_ref().map(|l| l.as_raw_fd()),
        admin: admin_listener.as_ref().map(|l| l.as_raw_fd()),
    };
    let shutdown = shutdown_signal()?;
    let steering = Steering::new();
    let (requests, commands) = tokio::sync::mpsc::channel::<admin::Request>(8);
    let mut background = vec![
        tokio::spawn(store::sweep_periodically(Arc::clone(&app.store))),
        tokio::spawn(Arc::clone(&app.telemetry).upkeep()),
        live::signals::forward(requests.clone()).map_err(StartupError::Signals)?,
    ];
    match admin::bind(&app.config.data_dir, inherited.is_some()) {
        Ok(socket) => background.push(tokio::spawn(admin::serve(socket, requests.clone()))),
        Err(e) => tracing::warn!(
            dir = %app.config.data_dir.display(),
            "no admin socket ({e}): `openhost plugins reload` cannot reach this server; SIGHUP still reloads"
        ),
    }
    if let Some(metrics_listener) = metrics_listener {
        let metrics_addr = app.config.metrics_listen.unwrap_or(listen);
        tracing::info!("metrics at http://{metrics_addr}/metrics");
        // Host names as on the public listener, by the metrics address: checked on loopback.
        let metrics_origins = origins::Origins::new(metrics_addr, None, app.config.allowed_hosts.clone(), Vec::new());
        background.push(tokio::spawn(telemetry::listener::serve(
            Arc::clone(&app.telemetry),
            metrics_listener,
            metrics_origins,
            steering.clone(),
        )));
    }
    if app.plugin_settings.shared() {
        background.push(tokio::spawn(live::follow::follow(Arc::clone(&app), requests.clone())));
    }
    if let Some(admin_listener) = admin_listener {
        let admin_api = admin_api::AdminApi::new(Arc::clone(&app), requests.clone())?;
        let admin_addr = admin_listener
            .local_addr()
            .map_err(listen_error("admin_listen".to_owned()))?;
        if !admin_addr.ip().is_loopback() {
            tracing::warn!(
                "the admin API listens on {admin_addr}, not a loopback address: put TLS in front of it, or its tokens travel in clear"
            );
        }
        tracing::info!("admin API at http://{admin_addr}/admin/api/");
        background.push(tokio::spawn(admin_api.serve(admin_listener, steering.clone())));
    }
    let control = tokio::spawn(control(Arc::clone(&app), commands, steering.clone(), sockets));
    tracing::info!(
        plugins = app.generations.current().plugins.iter().filter(|p| p.loaded).count(),
        pid = std::process::id(),
        "openhost listening on http://{local}"
    );
    match inherited {
        Some(inherited) => {
            inherited.ready();
            live::systemd::notify(&format!("MAINPID={}\nREADY=1", std::process::id()));
        }
        None => live::systemd::notify("READY=1"),
    }
    server::serve(Arc::clone(&app), listener, shutdown, steering).await;
    live::systemd::notify("STOPPING=1");
    control.abort();
    for task in background {
        task.abort();
    }
    tracing::info!("shutting down");
    app.generations.shut_down().await;
    if let Err(e) = app.store.flush_all() {
        tracing::error!("final flush of the store failed: {e}");
    }
    Ok(())
}

/// The listener of one of the host's own small services (metrics, admin API) at `addr`, if configured: the one
/// the process this one upgrades handed over, or a new one.
async fn side_listener(
    addr: Option<std::net::SocketAddr>,
    inherited: Option<&std::net::TcpListener>,
) -> Result<Option<tokio::net::TcpListener>, StartupError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listen_error = |source| StartupError::Listen {
        addr: addr.to_string(),
        source,
    };
    let listener = match inherited {
        Some(inherited) => {
            let listener = inherited.try_clone().map_err(listen_error)?;
            listener.set_nonblocking(true).map_err(listen_error)?;
            tokio::net::TcpListener::from_std(listener).map_err(listen_error)?
        }
        None => tokio::net::TcpListener::bind(addr).await.map_err(listen_error)?,
    };
    Ok(Some(listener))
}

/// Carries out reloads and upgrades, one at a time. After an upgrade handed the sockets over, this process
/// stops accepting, drains its connections and stops serving.
async fn control(
    app: Arc<App>,
    mut commands: tokio::sync::mpsc::Receiver<admin::Request>,
    steering: Steering,
    sockets: upgrade::Sockets,
) {
    while let Some((command, answer)) = commands.recv().await {
        let (outcome, handed_over) = match command {
            admin::Command::Reload => (
                live::reload(&app)
                    .await
                    .map(|reloaded| reloaded.to_string())
                    .map_err(|e| e.to_string()),
                false,
            ),
            admin::Command::Upgrade => match upgrade::hand_over(&app, &steering, sockets).await {
                Ok(new) => {
                    let done = format!(
                        "process {} serves; this one ({}) drains and exits",
                        new.pid,
                        std::process::id()
                    );
                    tracing::info!("upgrade: {done}");
                    (Ok(done), true)
                }
                Err(e) => {
                    tracing::error!("upgrade refused, this process serves on: {e}");
                    (Err(e.to_string()), false)
                }
            },
        };
        if let Some(answer) = answer {
            let _ = answer.send(outcome);
        }
        if handed_over {
            steering.set_accept(Accept::Paused);
            let left = steering.drain(upgrade::DRAIN_GRACE, upgrade::DRAIN_LIMIT).await;
            if left > 0 {
                tracing::warn!(connections = left, "upgrade: stopping with connections still open");
            }
            steering.set_accept(Accept::Stop);
            return;
        }
    }
}

/// Registers for SIGINT and SIGTERM now (before the server reports that it listens, so a signal sent right
/// after that line is never missed) and returns a future that completes on the first of them.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, StartupError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(StartupError::Signals)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(StartupError::Signals)?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
