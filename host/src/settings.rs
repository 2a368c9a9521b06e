//! Per-user settings (README.md, "Using the open-source host"), stored as JSON in the `settings` namespace under
//! the user id.
//!
//! Secrets (`llm_api_key`, provider tokens) live in [`Secret`], whose `Debug` prints nothing, and never leave
//! through [`Settings::public_json`]: the API reports only that they are set.

use std::{collections::BTreeMap, sync::Arc};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::store::{Namespace, StoreError};

/// A secret string: serialised as itself (it must be stored), never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A git provider token and, for GitHub Enterprise Server, its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderToken {
    pub token: Secret,
    pub host: Option<String>,
}

/// One user's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub language: Option<String>,
    pub llm_model: Option<String>,
    pub llm_api_key: Option<Secret>,
    pub llm_base_url: Option<String>,
    pub git_user_name: Option<String>,
    pub git_user_email: Option<String>,
    pub confirmation_mode: Option<bool>,
    #[serde(default)]
    pub provider_tokens: BTreeMap<String, ProviderToken>,
}

/// Keys of `GET /api/settings` that are computed, accepted back in a `POST` and ignored.
const READ_ONLY_KEYS: &[&str] = &["llm_api_key_set", "provider_tokens_set"];
const STRING_KEYS: &[&str] = &[
    "language",
    "llm_model",
    "llm_api_key",
    "llm_base_url",
    "git_user_name",
    "git_user_email",
];
const MAX_VALUE_LEN: usize = 4096;

/// A settings update that cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored settings of this user are unreadable: {0}")]
    Corrupt(String),
}

impl Settings {
    /// What `GET /api/settings` shows: secrets nulled, with `*_set` flags.
    pub fn public_json(&self) -> Value {
        let providers: Map<String, Value> = self
            .provider_tokens
            .iter()
            .map(|(provider, token)| (provider.clone(), json!(token.host)))
            .collect();
        json!({
            "language": self.language,
            "llm_model": self.llm_model,
            "llm_api_key": null,
            "llm_api_key_set": self.llm_api_key.is_some(),
            "llm_base_url": self.llm_base_url,
            "git_user_name": self.git_user_name,
            "git_user_email": self.git_user_email,
            "confirmation_mode": self.confirmation_mode,
            "provider_tokens_set": providers,
        })
    }

    /// Applies a partial update: an absent or `null` key keeps its value; an unknown key or a wrong type is an
    /// error naming the key, and then nothing is applied.
    pub fn apply_update(&mut self, update: &Map<String, Value>) -> Result<(), SettingsError> {
        let mut next = self.clone();
        for (key, value) in update {
            if value.is_null() || READ_ONLY_KEYS.contains(&key.as_str()) {
                continue;
            }
            if key == "confirmation_mode" {
                let flag = value
                    .as_bool()
                    .ok_or_else(|| SettingsError::Invalid("`confirmation_mode` must be true or false".to_owned()))?;
                next.confirmation_mode = Some(flag);
                continue;
            }
            if !STRING_KEYS.contains(&key.as_str()) {
                return Err(SettingsError::Invalid(format!(
                    "unknown settings key `{}`",
                    truncate_key(key)
                )));
            }
            let text = value
                .as_str()
                .ok_or_else(|| SettingsError::Invalid(format!("`{key}` must be a string")))?;
            if text.len() > MAX_VALUE_LEN {
                return Err(SettingsError::Invalid(format!(
                    "`{key}` is longer than {MAX_VALUE_LEN} bytes"
                )));
            }
            let text = text.to_owned();
            match key.as_str() {
                "language" => next.language = Some(text),
                "llm_model" => next.llm_model = Some(text),
                "llm_api_key" => next.llm_api_key = Some(Secret::new(text)),
                "llm_base_url" => next.llm_base_url = Some(text),
                "git_user_name" => next.git_user_name = Some(text),
                _ => next.git_user_email = Some(text),
            }
        }
        *self = next;
        Ok(())
    }

    /// The stored GitHub token, if any.
    pub fn github_token(&self) -> Option<&ProviderToken> {
        self.provider_tokens.get("github")
    }
}

/// A key echoed in an error is the client's text: keep it short.
fn truncate_key(key: &str) -> String {
    key.chars().take(64).collect()
}

/// The settings namespace.
#[derive(Clone)]
pub struct SettingsStore {
    namespace: Arc<dyn Namespace>,
}

impl SettingsStore {
    pub fn new(namespace: Arc<dyn Namespace>) -> SettingsStore {
        SettingsStore { namespace }
    }

    /// The settings of `user_id`, if any were stored.
    pub fn get(&self, user_id: &str) -> Result<Option<Settings>, SettingsError> {
        self.namespace
            .get(user_id.as_bytes())?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Read-modify-write with compare-and-swap, so two concurrent updates both land; flushed before it returns.
    pub async fn update(
        &self,
        user_id: &str,
        mut change: impl FnMut(&mut Settings) -> Result<(), SettingsError>,
    ) -> Result<Settings, SettingsError> {
        let key = user_id.as_bytes();
        loop {
            let current = self.namespace.get(key)?;
            let mut settings = match &current {
                Some(bytes) => decode(bytes)?,
                None => Settings::default(),
            };
            change(&mut settings)?;
            let encoded = serde_json::to_vec(&settings).map_err(|e| SettingsError::Corrupt(e.to_string()))?;
            if self
                .namespace
                .compare_and_swap(key, current.as_deref(), Some(&encoded))?
            {
                self.namespace.flush().await?;
                return Ok(settings);
            }
        }
    }
}

fn decode(bytes: &[u8]) -> Result<Settings, SettingsError> {
    // serde_json's message names a position, never the content.
    serde_json::from_slice(bytes).map_err(|e| SettingsError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_partial_and_validated_as_a_whole() {
        let mut settings = Settings::default();
        let update = json!({"language": "de", "confirmation_mode": true, "llm_api_key": "sk-1"});
        settings.apply_update(update.as_object().unwrap()).unwrap();
        let update = json!({"llm_model": "m", "language": null, "llm_api_key_set": true});
        settings.apply_update(update.as_object().unwrap()).unwrap();
        assert_eq!(settings.language.as_deref(), Some("de"));
        assert_eq!(settings.llm_model.as_deref(), Some("m"));

        let bad = json!({"language": "fr", "confirmation_mode": "yes"});
        let err = settings.apply_update(bad.as_object().unwrap()).unwrap_err().to_string();
        assert!(err.contains("confirmation_mode"), "{err}");
        assert_eq!(settings.language.as_deref(), Some("de"), "nothing applied");
        let err = settings
            .apply_update(json!({"colour": "red"}).as_object().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("colour"));

        let public = settings.public_json();
        assert_eq!(public["llm_api_key"], Value::Null);
        assert_eq!(public["llm_api_key_set"], true);
        assert!(!format!("{settings:?}").contains("sk-1"), "Debug hides secrets");
    }
}
