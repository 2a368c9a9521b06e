//! The command line (DESIGN.md section 5): `serve`, `plugins list`, `plugins check FILE`.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, Overrides},
    error::StartupError,
    loader::{self, Probe},
    registry,
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
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Show every library in plugin_dir and what plugins.toml does with it.
    List {
        #[arg(long, env = "OPENHOST_CONFIG", default_value = "plugins.toml")]
        config: PathBuf,
    },
    /// Load and validate one library and print its manifest.
    Check { file: PathBuf },
}

/// Reads the config for `serve`.
pub fn serve_config(config: &Path, listen: Option<String>, data_dir: Option<PathBuf>) -> Result<Config, StartupError> {
    Config::load(config, &Overrides { listen, data_dir })
}

/// `openhost plugins list`: a table on stdout.
pub fn list(config: &Path) -> Result<String, StartupError> {
    let config = Config::load(config, &Overrides::default())?;
    let records = registry::survey(&config)?;
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "ABI".to_owned(),
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
            record.version.clone().unwrap_or_else(|| "?".into()),
            record.abi_version.to_string(),
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

/// `openhost plugins check FILE`: the manifest as text, or the one-line reason it would be refused.
pub fn check(file: &Path) -> Result<String, String> {
    match loader::probe(file) {
        Probe::NotAPlugin { path, reason } => Err(format!("{}: {reason}", path.display())),
        Probe::Plugin { file, declaration } => {
            let opened = loader::open(&file, &declaration).map_err(|e| format!("{}: {e}", file.path.display()))?;
            let manifest = opened.manifest;
            let provides = manifest
                .provides
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Ok(format!(
                "name:        {}\nversion:     {}\nabi:         {}\nplugin-api:  {}\ndescription: {}\nprovides:    {}\nfile:        {}\nsha256:      {}\n",
                manifest.name,
                manifest.version,
                manifest.abi_version,
                declaration.api_version,
                manifest.description,
                provides,
                file.path.display(),
                file.sha256
            ))
        }
    }
}
