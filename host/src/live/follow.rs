//! With several instances on one database, each follows the plugin settings another changed through the admin
//! API: it looks at the stored changes' version every [`LOOK_EVERY`] and, when it is not the one its serving
//! generation was built from, asks for a reload (queued with every other reload). So a change made on one
//! instance is served by all within a second.

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;

use super::admin::{Command, Request};
use crate::app::App;

/// How often an instance looks for another's change: half the second every instance applies a change within.
pub const LOOK_EVERY: Duration = Duration::from_millis(500);

/// Follows the stored plugin settings for as long as the host serves.
pub async fn follow(app: Arc<App>, reloads: mpsc::Sender<Request>) {
    let mut every = tokio::time::interval(LOOK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut unreadable = false;
    loop {
        every.tick().await;
        match app.plugin_settings.changed_elsewhere().await {
            Ok(true) => {
                unreadable = false;
                tracing::info!("plugin settings changed on another instance; reloading");
                // The reload marks the version it builds from: the next look finds nothing new.
                if reloads.send((Command::Reload, None)).await.is_err() {
                    return;
                }
            }
            Ok(false) => unreadable = false,
            // Said once, not every half second while the database is away.
            Err(e) if !unreadable => {
                unreadable = true;
                tracing::warn!("cannot look for plugin settings changed on another instance: {e}");
            }
            Err(_) => {}
        }
    }
}
