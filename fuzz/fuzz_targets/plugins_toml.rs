//! plugins.toml parsing and `${VAR}` interpolation never panic; errors are one line.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use openhost::config::{Config, Overrides, plugin_config_json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Config::parse(Path::new("/etc/openhost/plugins.toml"), text, &Overrides::default()) {
        Ok(config) => {
            let lookup = |name: &str| (name.len() % 2 == 0).then(|| format!("value-of-{name}"));
            for (name, table) in &config.plugins {
                if let Err(error) = plugin_config_json(name, table.config_table(), &lookup) {
                    assert!(!error.to_string().contains('\n'));
                }
            }
        }
        Err(error) => assert!(!error.to_string().contains('\n'), "{error}"),
    }
});
