//! The extension points of the host.

/// An extension point of the host. Override slots hold exactly one active implementation (the host's own is the
/// default); stack slots run every registered implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Middleware,
    Routes,
    ServerConfig,
    UserAuth,
    GitService,
}

impl Slot {
    /// Every slot, in display order.
    pub const ALL: [Slot; 5] = [
        Slot::Middleware,
        Slot::Routes,
        Slot::ServerConfig,
        Slot::UserAuth,
        Slot::GitService,
    ];

    /// The name used in `plugins.toml`, `/api/plugins` and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Middleware => "middleware",
            Slot::Routes => "routes",
            Slot::ServerConfig => "server_config",
            Slot::UserAuth => "user_auth",
            Slot::GitService => "git_service",
        }
    }

    /// The Rust spelling an author writes in `export_plugin!` (`GitService`).
    pub fn ident(self) -> &'static str {
        match self {
            Slot::Middleware => "Middleware",
            Slot::Routes => "Routes",
            Slot::ServerConfig => "ServerConfig",
            Slot::UserAuth => "UserAuth",
            Slot::GitService => "GitService",
        }
    }

    /// Override slots hold exactly one active implementation; the others stack.
    pub fn is_override(self) -> bool {
        matches!(self, Slot::ServerConfig | Slot::UserAuth | Slot::GitService)
    }

    /// Parses either spelling: `git_service` (plugins.toml) or `GitService` (a manifest).
    pub fn from_name(name: &str) -> Option<Slot> {
        Slot::ALL
            .into_iter()
            .find(|slot| slot.as_str() == name || slot.ident() == name)
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
