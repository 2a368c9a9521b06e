//! The host's own implementation of each override slot. They are built with the same SDK traits and wrapped
//! into the same ABI objects as a plugin's, so the registry treats both alike.

pub mod server_config;
pub mod user_auth;
