//! The in-memory host services a plugin under test gets, and what a test reads back from them.

use std::{sync::Arc, time::Duration};

use openhost_plugin_api::{Host, HttpRequest, Response};

use crate::{
    services,
    state::{self, LogLine, Sample},
};

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

    /// The state behind these services, for the plugin started on them.
    pub(crate) fn state(&self) -> &Arc<state::State> {
        &self.state
    }

    /// The SDK handle to these services: for testing code of the plugin that takes a [`Host`] directly.
    pub fn host(&self) -> Host {
        self.host
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
