//! The plugin author's side: plain Rust traits for each slot, the [`Components`] an `init` returns, a [`Router`]
//! for routes, typed plugin config, and the adapters that turn them into guarded ABI objects. Authors never see
//! `extern`, `FfiFuture` or `catch_unwind`.

mod adapters;
mod components;
pub mod config;
mod handles;
pub mod order;
mod router;
pub mod server_config;
mod slot_traits;

pub use adapters::{git_service_object, middleware_object, routes_object, server_config_object, user_auth_object};
pub use components::Components;
pub use handles::{GitServiceHandle, ServerConfigHandle, UserAuthHandle};
pub use router::{require_json, Handler, HandlerFuture, Request, Router, StateFn, Stateless, WithState};
pub use slot_traits::{not_offered, GitService, GitServiceDecorator, Middleware, ServerConfig, UserAuth};
