//! What one sandboxed plugin may use (`[plugins.NAME]`: `memory_limit_mib`, `call_timeout_ms`, `pool_size`),
//! with the defaults docs/operating.md gives.

use std::time::Duration;

use serde_json::{Value, json};

use super::WasmError;
use crate::config::PluginTable;

pub const DEFAULT_MEMORY_LIMIT_MIB: u32 = 16;
pub const DEFAULT_CALL_TIMEOUT_MS: u64 = 100;
pub const DEFAULT_POOL_SIZE: usize = 8;
/// Where the middleware chain puts a sandboxed plugin without an `order`: where a native plugin's goes.
pub const DEFAULT_ORDER: i32 = openhost_plugin_api::order::DEFAULT;

/// A sandboxed plugin's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasmLimits {
    /// The most linear memory an instance may have; growing past it traps.
    pub memory_bytes: usize,
    /// How long one call of the guest may run (its start included); past it, 504 `plugin_timeout`.
    pub call_timeout: Duration,
    /// How many idle instances are kept for the next requests.
    pub pool_size: usize,
}

impl Default for WasmLimits {
    fn default() -> WasmLimits {
        WasmLimits {
            memory_bytes: (DEFAULT_MEMORY_LIMIT_MIB as usize) << 20,
            call_timeout: Duration::from_millis(DEFAULT_CALL_TIMEOUT_MS),
            pool_size: DEFAULT_POOL_SIZE,
        }
    }
}

impl WasmLimits {
    /// The limits a plugin's table sets, the rest defaulted; out-of-range values are refused.
    pub fn from_table(table: Option<&PluginTable>) -> Result<WasmLimits, WasmError> {
        let defaults = WasmLimits::default();
        let Some(table) = table else {
            return Ok(defaults);
        };
        let out_of_range = |key: &'static str, range: &'static str| WasmError::Limit { key, range };
        let memory_bytes = match table.memory_limit_mib {
            None => defaults.memory_bytes,
            Some(mib @ 1..=4096) => (mib as usize) << 20,
            Some(_) => return Err(out_of_range("memory_limit_mib", "1 to 4096")),
        };
        let call_timeout = match table.call_timeout_ms {
            None => defaults.call_timeout,
            Some(ms @ 1..=60_000) => Duration::from_millis(ms),
            Some(_) => return Err(out_of_range("call_timeout_ms", "1 to 60000")),
        };
        let pool_size = match table.pool_size {
            None => defaults.pool_size,
            Some(size @ 1..=1024) => size,
            Some(_) => return Err(out_of_range("pool_size", "1 to 1024")),
        };
        Ok(WasmLimits {
            memory_bytes,
            call_timeout,
            pool_size,
        })
    }

    /// The `/api/plugins` form.
    pub fn to_json(self) -> Value {
        json!({
            "memory_limit_mib": self.memory_bytes >> 20,
            "call_timeout_ms": self.call_timeout.as_millis() as u64,
            "pool_size": self.pool_size,
        })
    }
}
