//! Hears every change to `openhost_kv`, by any host on the database: a trigger (migration 3) notifies the channel
//! [`CHANNEL`] with `NAMESPACE HEXKEY` for each row written or deleted, and this listener, on a connection of its
//! own, drops the key from the read cache and tells whoever follows changes (the plugin settings' follower).
//!
//! When the connection breaks, the cache stops serving (changes could be missed) and followers are told that
//! anything may have changed; the listener connects again every [`RECONNECT_EVERY`].

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt as _;
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};

use super::read_cache::ReadCache;
use crate::store::KeyChange;

/// The channel the trigger notifies.
pub const CHANNEL: &str = "openhost_kv";

/// How long the listener waits before connecting again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// The notification a trigger sends when a key is too long to name: the whole namespace changed.
const WHOLE_NAMESPACE: &str = "*";

/// What one notification's payload names.
fn parse(payload: &str) -> Option<KeyChange> {
    let (namespace, key) = payload.split_once(' ')?;
    let key = if key == WHOLE_NAMESPACE {
        None
    } else {
        Some(hex::decode(key).ok()?)
    };
    Some(KeyChange {
        namespace: Arc::from(namespace),
        key,
    })
}

/// Listens for as long as the host serves.
pub async fn listen(config: tokio_postgres::Config, cache: Arc<ReadCache>, changes: broadcast::Sender<KeyChange>) {
    let mut said_down = false;
    loop {
        let (went_live, ended) = listen_once(&config, &cache, &changes).await;
        cache.set_live(false);
        // Changes may have been missed: followers look for themselves.
        let _ = changes.send(KeyChange::anything());
        // Said once while the database stays away, again after each time it was back.
        said_down &= !went_live;
        if !said_down {
            said_down = true;
            let cause = ended.map_or_else(|e| e.to_string(), |()| "the connection closed".to_owned());
            tracing::warn!("not hearing store changes, reads go to the database until they are heard again: {cause}");
        }
        tokio::time::sleep(RECONNECT_EVERY).await;
    }
}

/// One connection's worth of listening: returns when it breaks, saying whether it was heard from.
async fn listen_once(
    config: &tokio_postgres::Config,
    cache: &ReadCache,
    changes: &broadcast::Sender<KeyChange>,
) -> (bool, Result<(), tokio_postgres::Error>) {
    let (client, mut connection) = match config.connect(NoTls).await {
        Ok(connected) => connected,
        Err(e) => return (false, Err(e)),
    };
    let (heard, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    // The connection is driven here: its messages are the notifications.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    if heard.send(notification).is_err() {
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        return (false, Err(e));
    }
    cache.set_live(true);
    tracing::info!("hearing store changes: reads of unchanged keys are served from memory");
    while let Some(notification) = notifications.recv().await {
        let Some(change) = parse(notification.payload()) else {
            tracing::warn!("a store change notification that names no key; dropping every cached read");
            cache.set_live(true);
            continue;
        };
        match &change.key {
            Some(key) => cache.changed(&change.namespace, key),
            None => cache.namespace_changed(&change.namespace),
        }
        // Nobody following is fine.
        let _ = changes.send(change);
    }
    drop(client);
    (true, driver.await.unwrap_or(Ok(())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_a_key_or_a_whole_namespace() {
        let change = parse("settings 616c696365").expect("a key");
        assert_eq!(
            (&*change.namespace, change.key.as_deref()),
            ("settings", Some(&b"alice"[..]))
        );
        let change = parse("plugin/enterprise *").expect("a namespace");
        assert_eq!((&*change.namespace, change.key), ("plugin/enterprise", None));
        assert!(parse("no-key").is_none());
        assert!(parse("settings zz").is_none());
    }
}
