//! Which plugin libraries are in `plugin_dir`, what each says about itself, and what `plugins.toml` does with
//! it. Everything here reads files as data: no library is loaded.

use std::{collections::BTreeMap, path::PathBuf};

use openhost_plugin_api::{InterfaceVersion, Slot};
use serde_json::{Value, json};

use crate::{
    config::{Config, PluginTable},
    loader::{self, LibraryFile, Probe},
    registry::RegistryError,
};

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
        }
    }

    /// The `/api/plugins` form.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "version": self.version,
            "interface": self.interface.to_string(),
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
        records.push(record);
    }
    Ok(records)
}
