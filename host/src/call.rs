//! How a call into a slot implementation (the host's own or a plugin's) can end without an answer of its own:
//! what the deadline (`App::within_deadline`) and the metrics (crate::telemetry) tell apart.

use openhost_plugin_api::PluginError;

/// Why a slot call produced no answer of its own.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The implementation answered with an error (a deliberate HTTP answer, a caught panic, a failure).
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The host gave up waiting: the call is still running, but this request no longer waits for it.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
}
