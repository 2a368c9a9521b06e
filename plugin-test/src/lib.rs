//! Test a plugin with `cargo test` and no server: the plugin's own `init` runs in process, through the exported
//! root module exactly as the host calls it (the panic guard, typed config from JSON, log forwarding), against
//! in-memory host services the test controls (docs/plugin-guide.md, "8. Testing your plugin").
//!
//! - [`TestHost`]: the services. A key-value store with expiry and leases, on a clock the test moves
//!   ([`TestHost::advance`]; `host.sleep` moves it too, so nothing here waits); an HTTP service answered by the
//!   test ([`TestHost::answer_http`], requests kept for assertions); metrics and log lines recorded.
//! - [`Plugin`]: the components `init` returned. [`Plugin::send`] runs a [`TestRequest`] through the
//!   middleware and the matched route as the host would; [`Plugin::decide`], [`Plugin::route`],
//!   [`Plugin::identify`], [`Plugin::server_config`], [`Plugin::git_service`] and [`Plugin::decorate_git_service`]
//!   reach one component.
//!
//! ```ignore
//! #[cfg(test)]
//! mod tests {
//!     use openhost_plugin_test::{block_on, TestHost, TestRequest};
//!
//!     #[test]
//!     fn says_hello() {
//!         let host = TestHost::new();
//!         let plugin = openhost_plugin_test::start!(host, serde_json::json!({"greeting": "hi"})).unwrap();
//!         let response = plugin.send(TestRequest::get("/hello"));
//!         assert_eq!(response.status, 200);
//!     }
//! }
//! ```
//!
//! Anchored on nushell's `nu-plugin-test-support`: the plugin's real entry point, the host's side replaced.

mod executor;
mod plugin;
mod request;
mod services;
mod state;

pub use executor::block_on;
pub use plugin::Plugin;
pub use request::TestRequest;
pub use state::{LogLine, Sample};

use std::{sync::Arc, time::Duration};

use openhost_plugin_api::{export::PluginDefinition, Host, HttpRequest, PluginError, Response};

/// In-memory host services for one plugin under test.
#[derive(Clone)]
pub struct TestHost {
    state: Arc<state::State>,
    host: Host,
}

impl Default for TestHost {
    fn default() -> Self {
        TestHost::new()
    }
}

impl TestHost {
    /// Fresh services: an empty store, the clock at zero, no HTTP answer.
    pub fn new() -> TestHost {
        let state = Arc::new(state::State::default());
        let host = Host::new(services::host_services(Arc::clone(&state)));
        TestHost { state, host }
    }

    /// The SDK handle to these services: for testing code of the plugin that takes a [`Host`] directly.
    pub fn host(&self) -> Host {
        self.host
    }

    /// Starts the plugin `P` (the type `export_plugin!` defines; see [`start!`]) with `config` as its
    /// `[plugins.NAME.config]` table: `init` runs as the host runs it. An `Err` is what the host would refuse
    /// the plugin with.
    pub fn start<P: PluginDefinition>(&self, config: serde_json::Value) -> Result<Plugin, PluginError> {
        state::capture_logs_of(&self.state);
        // The SDK sets a panic hook that forwards to the host log; a test's own failures keep the usual one.
        let previous = std::panic::take_hook();
        let module = openhost_plugin_api::export::root_module::<P>();
        let started = (module.init())(self.host.services(), config.to_string().into()).into_result();
        std::panic::set_hook(previous);
        Ok(Plugin::new(self.clone(), started?))
    }

    /// Answers the plugin's outbound HTTP requests (`host.http`) with `answer`; without one, every request fails
    /// as a transport failure would.
    pub fn answer_http(&self, answer: impl Fn(&HttpRequest) -> Response + Send + Sync + 'static) {
        self.state.set_http_answer(Box::new(answer));
    }

    /// The outbound HTTP requests the plugin made, in order.
    pub fn http_requests(&self) -> Vec<HttpRequest> {
        self.state.http_requests()
    }

    /// Moves the clock on: keys stored with a time to live expire, sleeps end. Leases held are renewed, as the
    /// host renews them.
    pub fn advance(&self, by: Duration) {
        self.state.advance(by);
    }

    /// The value under `key` in the plugin's key-value namespace, as the plugin would read it now.
    pub fn kv(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.state.kv_get(key)
    }

    /// Every key of the plugin's namespace that has not expired, in key order.
    pub fn kv_keys(&self) -> Vec<Vec<u8>> {
        self.state.kv_keys()
    }

    /// The metric samples the plugin recorded, in order.
    pub fn metrics(&self) -> Vec<Sample> {
        self.state.metrics()
    }

    /// The log lines the plugin wrote (its `tracing` events, and panics), in order.
    pub fn logs(&self) -> Vec<LogLine> {
        self.state.logs()
    }
}

/// Starts the plugin defined in the calling crate by `export_plugin!` on `host` with `config`:
/// `start!(host, json!({..}))` is `host.start::<crate::__OpenhostPlugin>(json!({..}))`.
// `crate` on purpose: the plugin is the calling crate's, not this one's.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! start {
    ($host:expr, $config:expr) => {
        $host.start::<crate::__OpenhostPlugin>($config)
    };
}
