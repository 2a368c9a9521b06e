//! Per-user settings (README.md, "Using the open-source host"), stored as JSON in the `settings` namespace under
//! the user id.
//!
//! The fields are the web frontend's whole settings object; each is checked for its type and stored. Secrets
//! (`llm_api_key`, `search_api_key`, provider tokens) live in [`Secret`], whose `Debug` prints nothing, and never
//! leave through [`Settings::public_json`]: the API reports only that they are set.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::user_records::RecordError;

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

/// One user's settings: every field of the web frontend's settings object (checked against [`FIELDS`]), the
/// secrets apart, and the git provider tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub llm_api_key: Option<Secret>,
    pub search_api_key: Option<Secret>,
    #[serde(default)]
    pub provider_tokens: BTreeMap<String, ProviderToken>,
    /// The other fields, by name. Flattened, so settings stored before this shape read unchanged.
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
}

/// The JSON type a settings field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Flag,
    Number,
    /// A JSON object (`mcp_config`).
    Object,
}

/// The fields of the OpenHands frontend's settings object (`frontend/src/settings-service/settings.types.ts`,
/// `PostApiSettings`, at d6fab190bf), with the type each must have. `null` keeps the stored value.
const FIELDS: &[(&str, Kind)] = &[
    ("llm_model", Kind::Text),
    ("llm_base_url", Kind::Text),
    ("agent", Kind::Text),
    ("language", Kind::Text),
    ("security_analyzer", Kind::Text),
    ("git_user_name", Kind::Text),
    ("git_user_email", Kind::Text),
    ("confirmation_mode", Kind::Flag),
    ("enable_default_condenser", Kind::Flag),
    ("enable_sound_notifications", Kind::Flag),
    ("enable_proactive_conversation_starters", Kind::Flag),
    ("enable_solvability_analysis", Kind::Flag),
    ("user_consents_to_analytics", Kind::Flag),
    ("remote_runtime_resource_factor", Kind::Number),
    ("condenser_max_size", Kind::Number),
    ("max_budget_per_task", Kind::Number),
    ("mcp_config", Kind::Object),
];

/// Fields `GET /api/settings` computes or another service owns; a client sends them back, and they are ignored.
const READ_ONLY_KEYS: &[&str] = &[
    "llm_api_key_set",
    "search_api_key_set",
    "provider_tokens_set",
    "email",
    "email_verified",
];

/// The longest text value, and the largest object (serialised).
const MAX_VALUE_LEN: usize = 4096;
const MAX_OBJECT_LEN: usize = 64 * 1024;

impl Settings {
    /// What `GET /api/settings` shows: the stored fields, secrets as `null` with `*_set` flags, and which git
    /// providers have a token (`{"github": null}` for github.com, the host for a GitHub Enterprise Server).
    pub fn public_json(&self) -> Value {
        let providers: Map<String, Value> = self
            .provider_tokens
            .iter()
            .map(|(provider, token)| (provider.clone(), json!(token.host)))
            .collect();
        let mut public: Map<String, Value> = self.values.clone().into_iter().collect();
        public.insert("llm_api_key".into(), Value::Null);
        public.insert("llm_api_key_set".into(), json!(self.llm_api_key.is_some()));
        public.insert("search_api_key".into(), Value::Null);
        public.insert("search_api_key_set".into(), json!(self.search_api_key.is_some()));
        public.insert("provider_tokens_set".into(), Value::Object(providers));
        Value::Object(public)
    }

    /// Applies an update: an absent or `null` field keeps its value; an unknown field or a wrong type is an error
    /// naming the field, and then nothing is applied. Secrets: a non-empty string sets one; `llm_api_key: ""`
    /// clears the LLM key (the frontend sends that on purpose); `search_api_key: ""` keeps the stored key,
    /// because the frontend sends `""` for an untouched search key with every save.
    pub fn apply_update(&mut self, update: &Map<String, Value>) -> Result<(), RecordError> {
        let mut next = self.clone();
        for (key, value) in update {
            if value.is_null() || READ_ONLY_KEYS.contains(&key.as_str()) {
                continue;
            }
            match key.as_str() {
                "llm_api_key" => next.llm_api_key = secret(key, value)?,
                "search_api_key" => {
                    if let Some(key) = secret(key, value)? {
                        next.search_api_key = Some(key);
                    }
                }
                _ => {
                    let kind = FIELDS.iter().find(|(name, _)| name == key).map(|(_, kind)| *kind);
                    let kind = kind
                        .ok_or_else(|| RecordError::Invalid(format!("unknown settings key `{}`", truncate_key(key))))?;
                    check(key, kind, value)?;
                    next.values.insert(key.clone(), value.clone());
                }
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

/// A secret field: a string of at most [`MAX_VALUE_LEN`] bytes; empty means none.
fn secret(key: &str, value: &Value) -> Result<Option<Secret>, RecordError> {
    let text = value
        .as_str()
        .ok_or_else(|| RecordError::Invalid(format!("`{key}` must be a string")))?;
    if text.len() > MAX_VALUE_LEN {
        return Err(RecordError::Invalid(format!(
            "`{key}` is longer than {MAX_VALUE_LEN} bytes"
        )));
    }
    Ok((!text.is_empty()).then(|| Secret::new(text.to_owned())))
}

fn check(key: &str, kind: Kind, value: &Value) -> Result<(), RecordError> {
    let invalid = |what: &str| RecordError::Invalid(format!("`{key}` must be {what}"));
    match kind {
        Kind::Text => match value.as_str() {
            Some(text) if text.len() <= MAX_VALUE_LEN => Ok(()),
            Some(_) => Err(invalid(&format!("at most {MAX_VALUE_LEN} bytes"))),
            None => Err(invalid("a string")),
        },
        Kind::Flag => value.is_boolean().then_some(()).ok_or_else(|| invalid("true or false")),
        Kind::Number => value.is_number().then_some(()).ok_or_else(|| invalid("a number")),
        Kind::Object => match value {
            Value::Object(_) if value.to_string().len() <= MAX_OBJECT_LEN => Ok(()),
            Value::Object(_) => Err(invalid(&format!("at most {MAX_OBJECT_LEN} bytes of JSON"))),
            _ => Err(invalid("an object")),
        },
    }
}

/// A key echoed in an error is the client's text: keep it short.
fn truncate_key(key: &str) -> String {
    key.chars().take(64).collect()
}

/// The settings of every user.
pub type SettingsStore = crate::user_records::UserRecords<Settings>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_partial_and_validated_as_a_whole() {
        let mut settings = Settings::default();
        let update = json!({"language": "de", "confirmation_mode": true, "llm_api_key": "sk-1", "agent": "CodeActAgent",
            "search_api_key": "tv-1", "mcp_config": {"sse_servers": [], "stdio_servers": [], "shttp_servers": []}});
        settings.apply_update(update.as_object().unwrap()).unwrap();
        let update = json!({"llm_model": "m", "language": null, "llm_api_key_set": true, "search_api_key": "",
            "provider_tokens_set": {"github": null}, "condenser_max_size": 120});
        settings.apply_update(update.as_object().unwrap()).unwrap();
        assert_eq!(settings.values["language"], "de");
        assert_eq!(settings.values["llm_model"], "m");
        assert_eq!(settings.values["agent"], "CodeActAgent");
        assert!(
            settings.search_api_key.is_some(),
            "an empty search key leaves the stored one"
        );

        let bad = json!({"language": "fr", "confirmation_mode": "yes"});
        let err = settings.apply_update(bad.as_object().unwrap()).unwrap_err().to_string();
        assert!(err.contains("confirmation_mode"), "{err}");
        assert_eq!(settings.values["language"], "de", "nothing applied");
        let err = settings
            .apply_update(json!({"colour": "red"}).as_object().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("colour"));

        let public = settings.public_json();
        assert_eq!(
            (public["llm_api_key"].clone(), public["llm_api_key_set"].clone()),
            (Value::Null, json!(true))
        );
        assert_eq!(
            (public["search_api_key"].clone(), public["search_api_key_set"].clone()),
            (Value::Null, json!(true))
        );
        assert_eq!(public["condenser_max_size"], 120);
        assert!(!format!("{settings:?}").contains("sk-1"), "Debug hides secrets");

        settings
            .apply_update(json!({"llm_api_key": ""}).as_object().unwrap())
            .unwrap();
        assert!(settings.llm_api_key.is_none(), "an empty LLM key clears it");
    }

    #[test]
    fn settings_stored_in_the_earlier_shape_read_unchanged() {
        let stored = br#"{"language":"en","llm_model":"m","llm_api_key":"sk-2","llm_base_url":null,
            "git_user_name":null,"git_user_email":null,"confirmation_mode":true,"provider_tokens":{}}"#;
        let settings: Settings = serde_json::from_slice(stored).unwrap();
        assert_eq!(settings.values["language"], "en");
        assert_eq!(settings.values["confirmation_mode"], true);
        assert_eq!(settings.llm_api_key.as_ref().map(Secret::expose), Some("sk-2"));
        let public = settings.public_json();
        assert_eq!(public["llm_api_key_set"], true);
    }
}
