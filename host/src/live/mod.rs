//! Live changes (docs/reliability.md): reloading plugins while the server serves ([`generations`], on SIGHUP or
//! `openhost plugins reload` through the [`admin`] socket), and handing the listening socket to a new host
//! process ([`upgrade`], on SIGUSR2 or `openhost upgrade`). Neither drops a request: a reload swaps the registry
//! between requests, an upgrade swaps processes behind one listening socket.

pub mod admin;
pub mod changes;
pub mod follow;
pub mod generations;
pub mod reload;
pub mod signals;
pub mod systemd;
pub mod upgrade;

pub use generations::Generations;
pub use reload::{ReloadError, Reloaded, reload};
