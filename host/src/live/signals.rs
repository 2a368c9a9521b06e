//! The signals that ask for live changes: SIGHUP reloads the plugins, SIGUSR2 upgrades the host. Each becomes
//! the same request the admin socket makes, so both ways run one code path; only the answer goes to the log.

use tokio::sync::mpsc;

use crate::live::admin;

/// Registers for SIGHUP and SIGUSR2 now (so a signal sent once the server says it listens is not missed) and
/// forwards each to `requests`.
pub fn forward(requests: mpsc::Sender<admin::Request>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    let mut user2 = signal(SignalKind::user_defined2())?;
    Ok(tokio::spawn(async move {
        loop {
            let command = tokio::select! {
                Some(()) = hangup.recv() => admin::Command::Reload,
                Some(()) = user2.recv() => admin::Command::Upgrade,
                else => break,
            };
            tracing::info!(command = command.as_str(), "signal received");
            if requests.send((command, None)).await.is_err() {
                break;
            }
        }
    }))
}
