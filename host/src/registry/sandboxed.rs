//! Loading the sandboxed plugins of one generation: each enabled `*.wasm` module read once, its pin checked on
//! those bytes, compiled and checked (crate::wasm), and placed in the middleware chain at its `order`.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use crate::{
    config::{Config, PluginConfig, PluginTable, interpolate, plugin_config_json},
    loader::{self, LoadError},
    registry::{
        ChainLink, Hooks, HostDeps, LinkObject, Owner, PluginRecord, Registry, RegistryError, discovery::is_enabled,
    },
    telemetry::CallSite,
    wasm::{DEFAULT_ORDER, WasmLimits, WasmPlugin},
};

/// A key of `[plugins.NAME]` that only a sandboxed plugin reads, if the table sets one.
pub fn sandbox_only_key(table: &PluginTable) -> Option<&'static str> {
    [
        ("order", table.order.is_some()),
        ("memory_limit_mib", table.memory_limit_mib.is_some()),
        ("call_timeout_ms", table.call_timeout_ms.is_some()),
        ("pool_size", table.pool_size.is_some()),
        (
            "config (as a string)",
            matches!(table.config, Some(PluginConfig::Text(_))),
        ),
    ]
    .into_iter()
    .find_map(|(key, set)| set.then_some(key))
}

/// Loads every enabled module of `modules`, recording each in `records`; the links go into the chain.
pub fn load(
    config: &Config,
    modules: &BTreeMap<String, PathBuf>,
    deps: &HostDeps,
    generation: u64,
    previous: Option<&Registry>,
    records: &mut Vec<PluginRecord>,
) -> Result<Vec<ChainLink>, RegistryError> {
    let mut links = Vec::new();
    for (name, path) in modules {
        let table = config.plugins.get(name);
        let sandbox = |source| RegistryError::Sandbox {
            file: path.clone(),
            plugin: name.clone(),
            source,
        };
        let limits = WasmLimits::from_table(table);
        if !is_enabled(config, name) {
            // A disabled plugin stops nothing, its limits included: they are checked when it is enabled.
            let mut record = PluginRecord::sandboxed(name, path, String::new(), false, limits.unwrap_or_default());
            if table.is_none() {
                record.error = Some("not listed in plugins.toml and host.require_listed is true".into());
            }
            records.push(record);
            continue;
        }
        let limits = limits.map_err(sandbox)?;
        let bytes = loader::read_plugin_file(path).map_err(|source| RegistryError::ReadModule {
            file: path.clone(),
            plugin: name.clone(),
            source,
        })?;
        // The pin and the signature are checked on the bytes that are compiled.
        let sha256 = loader::sha256_hex(&bytes);
        let load_error = |source| RegistryError::Load {
            file: path.clone(),
            source,
        };
        loader::check_pin(name, &sha256, table.and_then(|t| t.sha256.as_deref())).map_err(load_error)?;
        let signature = config
            .signing_for(name)
            .admit(name, path, &bytes)
            .map_err(|refusal| load_error(LoadError::signature(name, refusal)))?;
        // A table as its JSON text, a string as its bytes; `${VAR}` replaced in either.
        let guest_config = match table.and_then(|t| t.config.as_ref()) {
            Some(PluginConfig::Table(table)) => plugin_config_json(name, Some(table), &*deps.env)?
                .to_string()
                .into_bytes(),
            Some(PluginConfig::Text(text)) => interpolate(&format!("plugin `{name}`"), text, &*deps.env)?.into_bytes(),
            None => Vec::new(),
        };
        let started = std::time::Instant::now();
        let (plugin, code) =
            WasmPlugin::load(name, &bytes, &sha256, limits, guest_config, &deps.code_cache).map_err(sandbox)?;
        let mut record = PluginRecord::sandboxed(name, path, sha256, true, limits);
        record.loaded = true;
        record.signature = Some(signature);
        record.generation = previous
            .and_then(|previous| previous.plugins.iter().find(|p| p.name == *name && p.loaded))
            .filter(|earlier| earlier.sha256 == record.sha256)
            .map_or(generation, |earlier| earlier.generation);
        tracing::info!(
            plugin = %name,
            file = %path.display(),
            memory_limit_mib = limits.memory_bytes >> 20,
            call_timeout_ms = limits.call_timeout.as_millis() as u64,
            code = code.as_str(),
            load_ms = started.elapsed().as_secs_f64() * 1000.0,
            "sandboxed plugin loaded"
        );
        records.push(record);
        links.push(ChainLink {
            name: name.clone(),
            owner: Owner::Plugin(name.clone()),
            order: table.and_then(|t| t.order).unwrap_or(DEFAULT_ORDER),
            hooks: Hooks {
                on_request: true,
                on_response: plugin.has_response_hook(),
                // The guest may read the body: it is read (bounded) before the guest runs.
                body: true,
            },
            object: LinkObject::Sandboxed(Arc::new(plugin)),
            calls: CallSite::default(),
            members: Vec::new(),
        });
    }
    Ok(links)
}
