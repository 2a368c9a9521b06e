//! With several instances on one database, each follows the plugin settings another changed through the admin
//! API: when the database says the stored changes were written (the store's change notifications), and every
//! [`LOOK_EVERY`] in case a notification is missed, it compares their version with the one its serving generation
//! was built from and, when they differ, asks for a reload (queued with every other reload). A change made on one
//! instance is served by all within the notification's delivery and a reload; within a second without it.

use std::{sync::Arc, time::Duration};

use tokio::sync::{broadcast::error::RecvError, mpsc};

use super::admin::{Command, Request};
use crate::{app::App, plugin_settings::PluginSettings};

/// How often an instance looks for another's change without being told: half the second every instance applies
/// a change within.
pub const LOOK_EVERY: Duration = Duration::from_millis(500);

/// Follows the stored plugin settings for as long as the host serves.
pub async fn follow(app: Arc<App>, reloads: mpsc::Sender<Request>) {
    let mut every = tokio::time::interval(LOOK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = app.store.changes();
    let mut unreadable = false;
    loop {
        match heard.as_mut() {
            Some(changes) => tokio::select! {
                _ = every.tick() => {}
                change = changes.recv() => match change {
                    Ok(change) if !PluginSettings::touched_by(&change) => continue,
                    // Lagged: some were missed, this one may be among them.
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => heard = None,
                },
            },
            None => _ = every.tick().await,
        }
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
