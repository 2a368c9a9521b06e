//! One JSON record per user in a store namespace (`settings`, `secrets`): read, and read-modify-write with
//! compare-and-swap so that two concurrent updates both land, flushed before the update returns.

use std::{marker::PhantomData, sync::Arc};

use serde::{Serialize, de::DeserializeOwned};

use crate::{settings::SettingsError, store::Namespace};

/// The records of one kind, keyed by user id.
pub struct UserRecords<T> {
    namespace: Arc<dyn Namespace>,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for UserRecords<T> {
    fn clone(&self) -> Self {
        UserRecords {
            namespace: Arc::clone(&self.namespace),
            record: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned + Default> UserRecords<T> {
    pub fn new(namespace: Arc<dyn Namespace>) -> Self {
        UserRecords {
            namespace,
            record: PhantomData,
        }
    }

    /// The record of `user_id`, if one was stored.
    pub fn get(&self, user_id: &str) -> Result<Option<T>, SettingsError> {
        self.namespace
            .get(user_id.as_bytes())?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Applies `change` to the stored record (or a default one) and stores it; `change` may run more than once
    /// if another update lands in between. Nothing is written when `change` fails.
    pub async fn update(
        &self,
        user_id: &str,
        mut change: impl FnMut(&mut T) -> Result<(), SettingsError>,
    ) -> Result<T, SettingsError> {
        let key = user_id.as_bytes();
        loop {
            let current = self.namespace.get(key)?;
            let mut record = match &current {
                Some(bytes) => decode(bytes)?,
                None => T::default(),
            };
            change(&mut record)?;
            let encoded = serde_json::to_vec(&record).map_err(|e| SettingsError::Corrupt(e.to_string()))?;
            if self
                .namespace
                .compare_and_swap(key, current.as_deref(), Some(&encoded))?
            {
                self.namespace.flush().await?;
                return Ok(record);
            }
        }
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SettingsError> {
    // serde_json's message names a position, never the content.
    serde_json::from_slice(bytes).map_err(|e| SettingsError::Corrupt(e.to_string()))
}
