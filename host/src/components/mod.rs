//! The host's own implementation of each override slot. They are built with the same SDK traits and wrapped
//! into the same ABI objects as a plugin's, so the registry treats both alike.

pub mod git_service;
pub mod server_config;
pub mod user_auth;

use openhost_github::Github;
use openhost_plugin_api::{GitServiceObject, ServerConfigObject, UserAuthObject, sdk};

use crate::settings::SettingsStore;

/// The host's defaults, one per override slot.
pub struct HostComponents {
    pub server_config: ServerConfigObject,
    pub user_auth: UserAuthObject,
    pub git_service: GitServiceObject,
}

impl HostComponents {
    pub fn new(github_api_url: &str, http: reqwest::Client, settings: SettingsStore) -> HostComponents {
        HostComponents {
            server_config: sdk::server_config_object(server_config::OssServerConfig),
            user_auth: sdk::user_auth_object(user_auth::LocalUser),
            git_service: sdk::git_service_object(Github(git_service::PatAccess {
                default_api_url: github_api_url.to_owned(),
                http,
                settings,
            })),
        }
    }
}
