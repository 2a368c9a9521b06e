//! Caught plugin panics, counted by plugin for the life of the process: a reload starts a new registry
//! generation, but an operator asking `/api/plugins` how often a plugin has panicked wants every generation's.

use std::{collections::HashMap, sync::Mutex};

/// Panics caught per plugin name.
#[derive(Debug, Default)]
pub struct PanicCounts {
    counts: Mutex<HashMap<String, u64>>,
}

impl PanicCounts {
    /// Counts one caught panic of `plugin`.
    pub fn record(&self, plugin: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(plugin.to_owned()).or_default() += 1;
    }

    /// How many panics of `plugin` were caught.
    pub fn of(&self, plugin: &str) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.get(plugin).copied().unwrap_or(0)
    }
}
