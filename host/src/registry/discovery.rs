//! Which plugin libraries and sandboxed modules are in `plugin_dir`, what each says about itself, and what
//! `plugins.toml` does with it. Everything here reads files as data: no library is loaded, no module compiled.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use openhost_plugin_api::{InterfaceVersion, Slot};
use serde_json::{Value, json};

use crate::{
    config::{Config, PluginTable},
    loader::{self, LibraryFile, LoadError, Probe},
    registry::RegistryError,
    signature::Signature,
    wasm::WasmLimits,
};

/// How a plugin runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginKind {
    /// A library loaded into the host process, through the plugin interface.
    Native,
    /// An http-wasm module in the sandbox, with its limits.
    Sandboxed(WasmLimits),
}

/// What `/api/plugins` and `openhost plugins list` say about one library.
#[derive(Debug, Clone)]
pub struct PluginRecord {
    pub name: String,
    pub version: String,
    pub interface: InterfaceVersion,
    pub description: String,
    pub file: PathBuf,
    pub sha256: String,
    pub enabled: bool,
    pub loaded: bool,
    /// The registry generation that first loaded this library's bytes (0: not loaded).
    pub generation: u64,
    pub provides: Vec<Slot>,
    pub decorates: Vec<Slot>,
    pub error: Option<String>,
    pub kind: PluginKind,
    /// What the signature beside the file says about the bytes loaded (`None`: not checked, as for a plugin
    /// that is not loaded).
    pub signature: Option<Signature>,
    /// The JSON Schema of the config the plugin declares, as its text.
    pub config_schema: Option<String>,
}

impl PluginRecord {
    pub fn new(file: &LibraryFile, enabled: bool) -> Self {
        let manifest = &file.manifest;
        PluginRecord {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            interface: manifest.interface,
            description: manifest.description.clone(),
            file: file.path.clone(),
            sha256: file.sha256.clone(),
            enabled,
            loaded: false,
            generation: 0,
            provides: manifest.provides.clone(),
            decorates: manifest.decorates.clone(),
            error: None,
            kind: PluginKind::Native,
            signature: None,
            config_schema: manifest.config_schema.clone(),
        }
    }

    /// The record of a sandboxed module (the http-wasm ABI: middleware, nothing else).
    pub fn sandboxed(name: &str, path: &Path, sha256: String, enabled: bool, limits: WasmLimits) -> Self {
        PluginRecord {
            name: name.to_owned(),
            version: String::new(),
            interface: loader::HOST_INTERFACE,
            description: "http-wasm middleware".to_owned(),
            file: path.to_path_buf(),
            sha256,
            enabled,
            loaded: false,
            generation: 0,
            provides: vec![Slot::Middleware],
            decorates: Vec::new(),
            error: None,
            kind: PluginKind::Sandboxed(limits),
            signature: None,
            config_schema: None,
        }
    }

    /// The interface it was built against: `http-wasm` for a sandboxed module.
    pub fn interface_name(&self) -> String {
        match self.kind {
            PluginKind::Native => self.interface.to_string(),
            PluginKind::Sandboxed(_) => "http-wasm".to_owned(),
        }
    }

    /// The `/api/plugins` form.
    pub fn to_json(&self) -> Value {
        let (kind, limits) = match &self.kind {
            PluginKind::Native => ("native", Value::Null),
            PluginKind::Sandboxed(limits) => ("wasm", limits.to_json()),
        };
        json!({
            "name": self.name,
            "kind": kind,
            "limits": limits,
            "version": self.version,
            "interface": self.interface_name(),
            "abi": self.interface.major,
            "description": self.description,
            "file": self.file.file_name().map(|n| n.to_string_lossy().into_owned()),
            "sha256": self.sha256,
            "enabled": self.enabled,
            "loaded": self.loaded,
            "generation": self.generation,
            "provides": self.provides.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "decorates": self.decorates.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "error": self.error,
            "signature": self.signature.as_ref().map(Signature::to_json),
            "config_schema": self.config_schema.as_deref().and_then(|schema| serde_json::from_str::<Value>(schema).ok()),
        })
    }
}

/// Whether `plugins.toml` enables a plugin found in `plugin_dir`.
pub fn is_enabled(config: &Config, name: &str) -> bool {
    match config.plugins.get(name) {
        Some(table) => table.is_enabled(),
        None => !config.require_listed,
    }
}

/// Every openhost plugin library found, by declared name. A file named by a table's `file` key is read even
/// if its name does not end like a library's. Two files declaring one name need a `file` key to pick one.
pub fn find_libraries(config: &Config) -> Result<BTreeMap<String, LibraryFile>, RegistryError> {
    let mut paths = match loader::discover(&config.plugin_dir) {
        Ok(paths) => paths,
        Err(e) => {
            tracing::warn!(dir = %config.plugin_dir.display(), "plugin_dir cannot be read ({e}); no plugins found");
            Vec::new()
        }
    };
    let explicit: BTreeMap<&str, PathBuf> = config
        .plugins
        .iter()
        .filter(|(_, table)| !table.file.as_deref().is_some_and(is_module_name))
        .filter_map(|(name, table)| Some((name.as_str(), config.plugin_dir.join(table.file.as_ref()?))))
        .collect();
    for path in explicit.values() {
        if !paths.contains(path) {
            paths.push(path.clone());
        }
    }

    let mut by_name: BTreeMap<String, LibraryFile> = BTreeMap::new();
    for path in paths {
        let chosen_by = explicit.iter().find(|(_, p)| **p == path).map(|(name, _)| *name);
        match loader::probe(&path) {
            Probe::NotAPlugin { path, reason } => {
                if let Some(name) = chosen_by {
                    if config.plugins.get(name).is_some_and(PluginTable::is_enabled) {
                        return Err(RegistryError::ListedFileNotAPlugin {
                            file: path,
                            table: name.to_owned(),
                            reason,
                        });
                    }
                }
                tracing::warn!(file = %path.display(), "skipping: {reason}");
            }
            Probe::Plugin(file) => {
                let declared = file.manifest.name.clone();
                if let Some(name) = chosen_by.filter(|name| *name != declared) {
                    return Err(RegistryError::ListedFileMismatch {
                        file: file.path,
                        table: name.to_owned(),
                        declared,
                    });
                }
                match by_name.get(&declared) {
                    Some(earlier) if explicit.get(declared.as_str()) == Some(&earlier.path) => {}
                    Some(earlier) if chosen_by.is_none() => {
                        let keep = settle_duplicate(config, earlier, &file)?;
                        let (kept, skipped) = match keep {
                            Keep::First => (earlier, &file),
                            Keep::Second => (&file, earlier),
                        };
                        tracing::warn!(
                            plugin = %declared,
                            kept = %kept.path.display(),
                            "skipping {}: another file declares the same plugin",
                            skipped.path.display()
                        );
                        if keep == Keep::Second {
                            by_name.insert(declared, file);
                        }
                    }
                    _ => {
                        by_name.insert(declared, file);
                    }
                }
            }
        }
    }
    Ok(by_name)
}

/// Which of two files declaring one plugin counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    First,
    Second,
}

/// Two files declare one plugin and no `file` key picks one: which one counts, or an error when it matters and
/// cannot be told. It does not matter when the plugin will not load (not listed under `require_listed`, or
/// disabled) or when both hold the same bytes; a pin picks the file that matches it. So a copy planted under
/// another name can neither stop the host nor replace a pinned plugin.
fn settle_duplicate(config: &Config, first: &LibraryFile, second: &LibraryFile) -> Result<Keep, RegistryError> {
    let name = first.manifest.name.as_str();
    if !is_enabled(config, name) || first.sha256 == second.sha256 {
        return Ok(Keep::First);
    }
    let pin = config.plugins.get(name).and_then(|table| table.sha256.as_deref());
    let matches = |file: &LibraryFile| pin.is_some() && loader::check_pin(name, &file.sha256, pin).is_ok();
    match (matches(first), matches(second)) {
        (true, false) => Ok(Keep::First),
        (false, true) => Ok(Keep::Second),
        _ => Err(RegistryError::DuplicatePlugin {
            plugin: name.to_owned(),
            first: first.path.clone(),
            second: second.path.clone(),
        }),
    }
}

fn is_module_name(file: &str) -> bool {
    loader::is_module_name(Path::new(file))
}

/// The sandboxed modules in `plugin_dir`, by plugin name: each `*.wasm` under its file stem, and the file a
/// table's `file` names under the table's name.
pub fn find_modules(config: &Config) -> BTreeMap<String, PathBuf> {
    let mut modules = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(&config.plugin_dir) {
        for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
            let stem = path.file_stem().and_then(|stem| stem.to_str()).map(str::to_owned);
            let named = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_module_name);
            if let (Some(stem), true, true) = (stem, named, path.is_file()) {
                modules.insert(stem, path);
            }
        }
    }
    for (name, table) in &config.plugins {
        if let Some(file) = table.file.as_deref().filter(|file| is_module_name(file)) {
            let path = config.plugin_dir.join(file);
            modules.retain(|_, found| *found != path);
            modules.insert(name.clone(), path);
        }
    }
    modules
}

/// What every library says about itself and what would happen to it, loading none: `openhost plugins list`.
pub fn survey(config: &Config) -> Result<Vec<PluginRecord>, RegistryError> {
    let mut records = Vec::new();
    for (name, file) in find_libraries(config)? {
        let mut record = PluginRecord::new(&file, is_enabled(config, &name));
        if let Err(e) = loader::check_interface(&file.manifest) {
            record.error = Some(e.to_string());
        }
        let pin = config.plugins.get(&name).and_then(|t| t.sha256.as_deref());
        if let Err(e) = loader::check_pin(&name, &file.sha256, pin) {
            record.error = Some(e.to_string());
        }
        match loader::read_plugin_file(&file.path) {
            Ok(bytes) => check_signature(config, &mut record, &bytes),
            Err(e) => record.error = Some(e.to_string()),
        }
        records.push(record);
    }
    for (name, path) in find_modules(config) {
        let table = config.plugins.get(&name);
        let limits = WasmLimits::from_table(table);
        let (bytes, read_error) = match loader::read_plugin_file(&path) {
            Ok(bytes) => (Some(bytes), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let sha256 = bytes.as_deref().map(loader::sha256_hex).unwrap_or_default();
        let enabled = is_enabled(config, &name);
        let mut record = PluginRecord::sandboxed(
            &name,
            &path,
            sha256,
            enabled,
            limits.as_ref().copied().unwrap_or_default(),
        );
        record.error = read_error.or_else(|| limits.err().map(|e| e.to_string()));
        let pin = table.and_then(|t| t.sha256.as_deref());
        if let Err(e) = loader::check_pin(&name, &record.sha256, pin) {
            record.error.get_or_insert(e.to_string());
        }
        if let Some(bytes) = bytes {
            check_signature(config, &mut record, &bytes);
        }
        records.push(record);
    }
    Ok(records)
}

/// Records what a plugin's signature says about `bytes` (read from its file), and why it would be refused.
fn check_signature(config: &Config, record: &mut PluginRecord, bytes: &[u8]) {
    match config
        .signing_for(&record.name)
        .admit(&record.name, &record.file, bytes)
    {
        Ok(signature) => record.signature = Some(signature),
        Err(refused) => {
            record.signature = Some(Signature::refused(&refused));
            let refusal = LoadError::signature(&record.name, refused).to_string();
            record.error.get_or_insert(refusal);
        }
    }
}
