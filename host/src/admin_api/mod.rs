//! The admin API on `admin_listen` (docs/operating.md, "Admin API"): a listener of its own, off unless
//! configured, never reachable through the public listener. Operators see the plugins with their saved settings
//! and reload them; every change is recorded in an audit trail kept in the store, so that every instance on
//! one database shares it.
//!
//! [`tokens`] decides who a request is, [`audit`] keeps the trail, [`api`] answers the routes, [`console`] is
//! the web console at `/admin/`; the settings themselves are crate::plugin_settings.

mod api;
mod audit;
mod console;
mod tokens;

use std::sync::Arc;

use tokio::sync::mpsc;

use self::{api::Admin, audit::AuditLog, tokens::AdminTokens};
use crate::{
    app::App,
    config::ConfigError,
    live::admin as control,
    origins::Origins,
    server::{Steering, side_listener},
    store::StoreError,
};

/// Why the admin API cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AdminStartError {
    #[error(transparent)]
    Tokens(#[from] ConfigError),
    #[error("the admin audit trail: {0}")]
    Store(#[from] StoreError),
}

/// Everything the admin listener needs, checked before the server says it listens: the tokens resolved (an
/// unset `${VAR}` stops the start) and the audit trail's namespace opened.
pub struct AdminApi {
    admin: Arc<Admin>,
}

impl AdminApi {
    pub fn new(app: Arc<App>, commands: mpsc::Sender<control::Request>) -> Result<AdminApi, AdminStartError> {
        let lookup = |name: &str| std::env::var(name).ok();
        let tokens = AdminTokens::resolve(&app.config.admin_tokens, &lookup)?;
        let audit = AuditLog::new(app.store.namespace(audit::NAMESPACE)?);
        Ok(AdminApi {
            admin: Arc::new(Admin {
                app,
                tokens,
                audit,
                commands,
            }),
        })
    }

    /// Serves `listener` while `steering` says the server accepts. Host names are checked as on the public
    /// listener, by the admin address.
    pub async fn serve(self, listener: tokio::net::TcpListener, steering: Steering) {
        let config = &self.admin.app.config;
        let addr = listener.local_addr().unwrap_or(config.listen);
        let origins = Origins::new(addr, None, config.allowed_hosts.clone(), Vec::new());
        let admin = self.admin;
        side_listener::serve("admin", listener, origins, steering, move |request| {
            let admin = Arc::clone(&admin);
            async move { api::answer(&admin, request).await }
        })
        .await;
    }
}
