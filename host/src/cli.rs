//! The command line (README.md, "The command line"): `serve`, `plugins list`, `plugins check [--load] FILE`,
//! `plugins reload` and `upgrade` (both ask the running server through its admin socket, crate::live::admin).

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, Overrides},
    error::StartupError,
    loader::{self, Probe},
    registry,
    store::{PostgresStore, SledStore, Store, StoreError},
};

#[derive(Debug, Parser)]
#[command(name = "openhost", version, about = "The openhost server and plugin host")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server.
    Serve {
        /// The runtime config.
        #[arg(long, env = "OPENHOST_CONFIG", default_value = "plugins.toml")]
        config: PathBuf,
        /// Address to listen on (overrides host.listen).
        #[arg(long, env = "OPENHOST_LISTEN")]
        listen: Option<String>,
        /// Directory of the sled database (overrides host.data_dir).
        #[arg(long, env = "OPENHOST_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Inspect plugin libraries.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Start a new host process from the binary at this one's path and hand it the listening socket; the old
    /// process drains and exits once the new one serves. A new process that fails its checks changes nothing.
    Upgrade {
        #[command(flatten)]
        server: RunningServer,
    },
    /// Work on the store.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy a sled data directory (stop its host first) into an empty PostgreSQL database, every namespace and
    /// entry as stored. Records stay sealed under the host key: give the PostgreSQL hosts the same key.
    Migrate {
        /// The sled data directory.
        #[arg(long)]
        from: PathBuf,
        /// A PostgreSQL URL (libpq form); `OPENHOST_MIGRATE_TO` keeps a password off the command line.
        #[arg(long, env = "OPENHOST_MIGRATE_TO", hide_env_values = true)]
        to: String,
    },
}

/// Which running server a command talks to: the one whose `data_dir` holds `admin.sock`.
#[derive(Debug, clap::Args)]
pub struct RunningServer {
    /// The running server's config (for its data_dir).
    #[arg(long, env = "OPENHOST_CONFIG", default_value = "plugins.toml")]
    pub config: PathBuf,
    /// The running server's data directory (overrides host.data_dir), as given to `serve`.
    #[arg(long, env = "OPENHOST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Re-read plugins.toml and plugin_dir in the running server and swap in the new plugins without dropping a
    /// request; a reload that fails changes nothing and says why.
    Reload {
        #[command(flatten)]
        server: RunningServer,
    },
    /// Show every library in plugin_dir and what plugins.toml does with it.
    List {
        #[arg(long, env = "OPENHOST_CONFIG", default_value = "plugins.toml")]
        config: PathBuf,
    },
    /// Read one library's manifest without running any of it, and say whether this host would load it. With
    /// `--load`, also load it (its initialisers run) for abi_stable's layout check.
    Check {
        file: PathBuf,
        /// Also load the library and check its interface layout (runs the library's initialisers).
        #[arg(long)]
        load: bool,
    },
}

/// Why `store migrate` stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{}: {source}", dir.display())]
    Source { dir: PathBuf, source: StoreError },
    #[error("the PostgreSQL database: {0}")]
    Target(StoreError),
    #[error("the PostgreSQL database already holds entries; migrate only into an empty one")]
    TargetNotEmpty,
}

/// `openhost store migrate`: copies every namespace of a sled store into PostgreSQL; returns what to tell the
/// operator.
pub async fn migrate(from: &Path, to: &str, runtime: tokio::runtime::Handle) -> Result<String, MigrateError> {
    if !from.join("conf").exists() {
        return Err(MigrateError::Source {
            dir: from.to_owned(),
            source: StoreError::Backend("not a sled data directory (no `conf` file)".into()),
        });
    }
    let source_error = |source| MigrateError::Source {
        dir: from.to_owned(),
        source,
    };
    let source = SledStore::open(from).map_err(source_error)?;
    let target = PostgresStore::connect(to, 4, runtime)
        .await
        .map_err(MigrateError::Target)?;
    if !target.is_empty().await.map_err(MigrateError::Target)? {
        return Err(MigrateError::TargetNotEmpty);
    }
    let (mut namespaces, mut entries) = (0, 0);
    for (name, content) in source.export().map_err(source_error)? {
        let namespace = target.namespace(&name).map_err(MigrateError::Target)?;
        for (key, value, ttl) in &content {
            let copied = match ttl {
                Some(ttl) => namespace.put_expiring(key, value, *ttl),
                None => namespace.put(key, value),
            };
            copied.await.map_err(MigrateError::Target)?;
        }
        namespaces += 1;
        entries += content.len();
    }
    let key_file = from.join(crate::host_key::KEY_FILE);
    let key_hint = if key_file.exists() {
        format!(
            "\nThe records are sealed under {}: give every PostgreSQL host host.secret_key = the base64 of that \
             file (base64 -w0 {}).",
            key_file.display(),
            key_file.display()
        )
    } else {
        "\nThe records are sealed under the host.secret_key the sled host used: give the PostgreSQL hosts the same."
            .to_owned()
    };
    Ok(format!(
        "copied {entries} entries in {namespaces} namespaces{key_hint}\n"
    ))
}

/// Why a command for the running server failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Admin(#[from] crate::live::admin::AdminError),
}

/// `openhost plugins reload` and `openhost upgrade`: what the running server answered.
pub fn control(server: &RunningServer, command: crate::live::admin::Command) -> Result<String, ControlError> {
    let overrides = Overrides {
        listen: None,
        data_dir: server.data_dir.clone(),
    };
    let config = Config::load(&server.config, &overrides)?;
    Ok(crate::live::admin::request(&config.data_dir, command)?)
}

/// `openhost plugins list`: a table on stdout.
pub fn list(config: &Path) -> Result<String, StartupError> {
    let config = Config::load(config, &Overrides::default())?;
    let records = registry::survey(&config)?;
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "INTERFACE".to_owned(),
        "FILE".to_owned(),
        "ENABLED".to_owned(),
        "PROVIDES".to_owned(),
        "STATUS".to_owned(),
    ]];
    for record in &records {
        let file = record
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let provides = record.provides.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        rows.push([
            record.name.clone(),
            if record.version.is_empty() {
                "-".to_owned()
            } else {
                record.version.clone()
            },
            record.interface_name(),
            file,
            if record.enabled { "yes" } else { "no" }.to_owned(),
            if provides.is_empty() { "-".to_owned() } else { provides },
            record.error.clone().unwrap_or_else(|| "ok".to_owned()),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| if i == 6 { cell.clone() } else { format!("{cell:width$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if records.is_empty() {
        out.push_str(&format!("(no plugin libraries in {})\n", config.plugin_dir.display()));
    }
    Ok(out)
}

/// `openhost plugins check FILE [--load]`: the manifest as text and whether the file was executed, or the
/// one-line reason it would be refused.
pub fn check(file: &Path, load: bool) -> Result<String, String> {
    let file = match loader::probe(file) {
        Probe::NotAPlugin { path, reason } => {
            return Err(format!("{}: {reason} (not executed)", path.display()));
        }
        Probe::Plugin(file) => file,
    };
    let at = |e: loader::LoadError| format!("{}: {e}", file.path.display());
    loader::check_interface(&file.manifest).map_err(|e| format!("{} (not executed)", at(e)))?;
    let executed = if load {
        loader::open(&file, None).map_err(|e| format!("{} (executed: the library was loaded)", at(e)))?;
        "yes: loaded to check its interface layout (its initialisers ran)"
    } else {
        "no: the manifest was read as data (add --load to also check the interface layout)"
    };
    let manifest = &file.manifest;
    let slots = |slots: &[openhost_plugin_api::Slot]| {
        let names: Vec<&str> = slots.iter().map(|s| s.as_str()).collect();
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(", ")
        }
    };
    Ok(format!(
        "name:        {}\nversion:     {}\ninterface:   {} (this host provides {})\nplugin-api:  {}\n\
         description: {}\nprovides:    {}\ndecorates:   {}\nfile:        {}\nsha256:      {}\nexecuted:    {executed}\n",
        manifest.name,
        manifest.version,
        manifest.interface,
        loader::HOST_INTERFACE,
        manifest.sdk_version,
        manifest.description,
        slots(&manifest.provides),
        slots(&manifest.decorates),
        file.path.display(),
        file.sha256
    ))
}
