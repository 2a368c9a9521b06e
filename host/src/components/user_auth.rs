//! The open-source `user_auth`: one local user, whoever connects.

use openhost_plugin_api::{Identity, PluginError, RequestView, UserAuth};

/// The single user of an open-source host.
pub const LOCAL_USER_ID: &str = "local";

/// Every request is the local user's.
pub struct LocalUser;

impl UserAuth for LocalUser {
    async fn identify(&self, _request: &RequestView<'_>) -> Result<Option<Identity>, PluginError> {
        Ok(Some(Identity::new(LOCAL_USER_ID, LOCAL_USER_ID, "local")))
    }
}
