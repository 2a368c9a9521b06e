//! Refuses requests whose `Host` this host does not answer to (421 `unknown_host`): a page that rebinds its own
//! DNS name to 127.0.0.1 reaches a local host under the page's name, and is stopped here before any route runs
//! ([`crate::origins`], docs/security.md).

use std::sync::Arc;

use openhost_plugin_api::{Middleware, MiddlewareAction, PluginError, RequestView, Response, order};

use crate::origins::Origins;

pub struct HostNames {
    origins: Arc<Origins>,
}

impl HostNames {
    /// `None` when host names are not checked (a public listener without `allowed_hosts`).
    pub fn new(origins: Arc<Origins>) -> Option<HostNames> {
        origins.checks_host_names().then_some(HostNames { origins })
    }
}

#[openhost_plugin_api::middleware]
impl Middleware for HostNames {
    fn order(&self) -> i32 {
        order::HOST_NAMES
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        if self.origins.allows_host(request.header("host")) {
            return Ok(MiddlewareAction::next());
        }
        Ok(MiddlewareAction::Respond(Response::error(
            421,
            "unknown_host",
            "this server does not answer to that host name (see host.allowed_hosts)",
        )))
    }
}
