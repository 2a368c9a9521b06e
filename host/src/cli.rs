//! The command line (README.md, "The command line"): `serve`, `plugins list`, `plugins check [--load] FILE`,
//! `plugins reload` and `upgrade` (both ask the running server through its admin socket, crate::live::admin).

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, Overrides},
    error::StartupError,
    loader::{self, Probe},
    publish, registry,
    signature::{Requirement, Signature, SignaturePolicy},
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
    /// Read one library's manifest without running any of it, and say whether this host would load it (its
    /// signature checked against the config's trusted keys). With `--load`, also load it (its initialisers run)
    /// for abi_stable's layout check.
    Check {
        file: PathBuf,
        /// Also load the library and check its interface layout (runs the library's initialisers).
        #[arg(long)]
        load: bool,
        /// The config whose host.trusted_keys and plugin tables apply (default: plugins.toml, if there is one).
        #[arg(long, env = "OPENHOST_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Make a key pair to sign plugins with: DIR/openhost.pub and DIR/openhost.key, in minisign's formats. The
    /// secret key is encrypted with a password from OPENHOST_SIGNING_PASSWORD or asked on the terminal.
    Keygen {
        /// Where to write the two files.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Leave the secret key unencrypted (throwaway keys, as in CI).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Sign a plugin file: writes FILE.minisig, whose trusted comment names the plugin and its version.
    Sign {
        file: PathBuf,
        /// The secret key (from `plugins keygen`, or minisign's own).
        #[arg(long, default_value = publish::SECRET_KEY_FILE)]
        key: PathBuf,
        /// A sandboxed module's plugin name, if not its file stem (a library names itself).
        #[arg(long)]
        name: Option<String>,
        /// A sandboxed module's version (a library states its own).
        #[arg(long)]
        version: Option<String>,
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
        "SIGNATURE".to_owned(),
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
            match &record.signature {
                Some(Signature::Verified { key_id, .. }) => format!("verified:{key_id}"),
                Some(signature) => signature.status().to_owned(),
                None => "-".to_owned(),
            },
            record.error.clone().unwrap_or_else(|| "ok".to_owned()),
        ]);
    }
    let mut widths = [0usize; 8];
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
            .map(|(i, (cell, width))| if i == 7 { cell.clone() } else { format!("{cell:width$}") })
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
/// one-line reason it would be refused. `config` (or `plugins.toml`, if there is one) says whose signatures are
/// trusted and whether the plugin may load unsigned.
pub fn check(file: &Path, load: bool, config: Option<&Path>) -> Result<String, String> {
    let default_config = Path::new("plugins.toml");
    let config = match config.or_else(|| default_config.exists().then_some(default_config)) {
        Some(path) => Some(Config::load(path, &Overrides::default()).map_err(|e| e.to_string())?),
        None => None,
    };
    if loader::is_module_name(file) {
        return check_module(file, config.as_ref());
    }
    let file = match loader::probe(file) {
        Probe::NotAPlugin { path, reason } => {
            return Err(format!("{}: {reason} (not executed)", path.display()));
        }
        Probe::Plugin(file) => file,
    };
    let at = |e: loader::LoadError| format!("{}: {e}", file.path.display());
    loader::check_interface(&file.manifest).map_err(|e| format!("{} (not executed)", at(e)))?;
    let name = &file.manifest.name;
    let no_config = SignaturePolicy::default();
    let signing = config
        .as_ref()
        .map_or(no_config.for_plugin(false), |config| config.signing_for(name));
    let signature = admit_file(name, &file.path, signing)?.0;
    let executed = if load {
        loader::open(&file, None, signing).map_err(|e| format!("{} (executed: the library was loaded)", at(e)))?;
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
    // The keys the schema names, or that the plugin declares none.
    let config = match manifest
        .config_schema
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => "no schema declared".to_owned(),
        Some(Err(e)) => format!("a schema that is not JSON ({e}): the host refuses the plugin"),
        Some(Ok(schema)) => match schema["properties"].as_object() {
            Some(keys) => format!(
                "JSON Schema with keys {}",
                keys.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            None => "JSON Schema".to_owned(),
        },
    };
    Ok(format!(
        "name:        {}\nversion:     {}\ninterface:   {} (this host provides {})\nplugin-api:  {}\n\
         description: {}\nprovides:    {}\ndecorates:   {}\nconfig:      {config}\nfile:        {}\n\
         sha256:      {}\nsignature:   {signature}\nexecuted:    {executed}\n",
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

/// Reads a plugin file and checks its signature as the host would before loading it: the signature and the
/// bytes, or the one-line refusal.
fn admit_file(name: &str, path: &Path, signing: Requirement<'_>) -> Result<(Signature, Vec<u8>), String> {
    let bytes = loader::read_plugin_file(path).map_err(|e| format!("{}: {e} (not executed)", path.display()))?;
    let signature = signing.admit(name, path, &bytes).map_err(|refusal| {
        let refused = loader::LoadError::signature(name, refusal);
        format!("{}: {refused} (not executed)", path.display())
    })?;
    Ok((signature, bytes))
}

/// `openhost plugins check FILE.wasm`: a sandboxed module's name, digest and signature, read as data (it is
/// compiled and checked against the sandbox's rules only when a host loads it).
fn check_module(file: &Path, config: Option<&Config>) -> Result<String, String> {
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The table whose `file` names it, else its file stem (registry::discovery::find_modules).
    let name = config
        .and_then(|config| {
            config
                .plugins
                .iter()
                .find(|(_, table)| table.file.as_deref() == Some(file_name.as_str()))
        })
        .map(|(name, _)| name.clone())
        .or_else(|| file.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let no_config = SignaturePolicy::default();
    let signing = config.map_or(no_config.for_plugin(false), |config| config.signing_for(&name));
    let (signature, bytes) = admit_file(&name, file, signing)?;
    Ok(format!(
        "name:        {name}\nkind:        http-wasm middleware (sandboxed)\nfile:        {}\nsha256:      {}\n\
         signature:   {signature}\nexecuted:    no: a module runs only in the sandbox, compiled when a host loads it\n",
        file.display(),
        loader::sha256_hex(&bytes)
    ))
}

/// `openhost plugins keygen`: what was written, and the line to trust the key with.
pub fn keygen(out: &Path, unencrypted: bool) -> Result<String, publish::PublishError> {
    let pair = publish::keygen(out, unencrypted)?;
    Ok(format!(
        "wrote {} (public) and {} (secret{}; keep it off the servers)\n\
         Trust it in the hosts' plugins.toml:\n  [host]\n  trusted_keys = [\"{}\"]\n",
        pair.public_key.display(),
        pair.secret_key.display(),
        if unencrypted { ", unencrypted" } else { ", encrypted" },
        pair.trusted_key
    ))
}

/// `openhost plugins sign FILE`: where the signature went and what it says.
pub fn sign(
    file: &Path,
    key: &Path,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<String, publish::PublishError> {
    let signed = publish::sign(file, key, name, version)?;
    Ok(format!(
        "wrote {} (key {}, trusted comment `{}`)\n",
        signed.file.display(),
        signed.key_id,
        signed.trusted_comment
    ))
}
