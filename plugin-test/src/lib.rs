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
mod host;
mod plugin;
mod request;
mod services;
mod state;

pub use executor::block_on;
pub use host::TestHost;
pub use plugin::Plugin;
pub use request::TestRequest;
pub use state::{LogLine, Sample};

/// Starts the plugin defined in the calling crate by `export_plugin!` on `host` with `config`:
/// `start!(host, json!({..}))` is `Plugin::start::<crate::__OpenhostPlugin>(&host, json!({..}))`.
// `crate` on purpose: the plugin is the calling crate's, not this one's.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! start {
    ($host:expr, $config:expr) => {
        $crate::Plugin::start::<crate::__OpenhostPlugin>(&$host, $config)
    };
}
