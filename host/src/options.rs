//! The choices the web frontend's settings offer: LLM models, agents, security analyzers
//! (`GET /api/options/models|agents|security-analyzers`). This server runs no agent, so the lists are
//! configuration (`[host] llm_models`, `agents`, `security_analyzers`), with defaults that match what the
//! OpenHands frontend of 2025-11 expects to see.

/// The three lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    pub llm_models: Vec<String>,
    pub agents: Vec<String>,
    pub security_analyzers: Vec<String>,
}

/// `provider/model` names of models known to work well with coding agents.
const DEFAULT_LLM_MODELS: &[&str] = &[
    "anthropic/claude-sonnet-4-5-20250929",
    "anthropic/claude-sonnet-4-20250514",
    "anthropic/claude-haiku-4-5-20251001",
    "anthropic/claude-opus-4-1-20250805",
    "openai/gpt-5-2025-08-07",
    "openai/gpt-5-mini-2025-08-07",
    "openai/gpt-4o",
    "openai/o3",
    "openai/o4-mini",
    "gemini/gemini-2.5-pro",
    "mistral/devstral-medium-2507",
    "mistral/devstral-small-2507",
    "deepseek/deepseek-chat",
];

/// The agents the OpenHands runtime registers.
const DEFAULT_AGENTS: &[&str] = &[
    "BrowsingAgent",
    "CodeActAgent",
    "DummyAgent",
    "LocAgent",
    "ReadOnlyAgent",
    "VisualBrowsingAgent",
];

/// The security analyzers the OpenHands runtime offers.
const DEFAULT_SECURITY_ANALYZERS: &[&str] = &["grayswan", "invariant", "llm"];

/// The longest list and entry `plugins.toml` may give.
const MAX_ENTRIES: usize = 1000;
const MAX_ENTRY_LEN: usize = 200;

impl Default for AgentOptions {
    fn default() -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        AgentOptions {
            llm_models: owned(DEFAULT_LLM_MODELS),
            agents: owned(DEFAULT_AGENTS),
            security_analyzers: owned(DEFAULT_SECURITY_ANALYZERS),
        }
    }
}

impl AgentOptions {
    /// The configured lists, each defaulting when absent; `key` names the list in errors.
    pub fn from_config(
        llm_models: Option<Vec<String>>,
        agents: Option<Vec<String>>,
        security_analyzers: Option<Vec<String>>,
    ) -> Result<AgentOptions, String> {
        let defaults = AgentOptions::default();
        Ok(AgentOptions {
            llm_models: checked("host.llm_models", llm_models, defaults.llm_models)?,
            agents: checked("host.agents", agents, defaults.agents)?,
            security_analyzers: checked(
                "host.security_analyzers",
                security_analyzers,
                defaults.security_analyzers,
            )?,
        })
    }
}

fn checked(key: &str, list: Option<Vec<String>>, default: Vec<String>) -> Result<Vec<String>, String> {
    let Some(list) = list else {
        return Ok(default);
    };
    if list.len() > MAX_ENTRIES {
        return Err(format!("{key} lists more than {MAX_ENTRIES} entries"));
    }
    if let Some(bad) = list
        .iter()
        .find(|entry| entry.trim().is_empty() || entry.len() > MAX_ENTRY_LEN || entry.chars().any(char::is_control))
    {
        let shown: String = bad.chars().filter(|c| !c.is_control()).take(40).collect();
        return Err(format!(
            "{key}: `{shown}` must be 1 to {MAX_ENTRY_LEN} characters without control characters"
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_lists_default_and_bad_entries_are_named() {
        let options = AgentOptions::from_config(None, Some(vec!["MyAgent".into()]), None).unwrap();
        assert_eq!(options.agents, ["MyAgent"]);
        assert_eq!(options.llm_models, AgentOptions::default().llm_models);
        let error = AgentOptions::from_config(Some(vec!["ok".into(), " ".into()]), None, None).unwrap_err();
        assert!(error.starts_with("host.llm_models:"), "{error}");
    }
}
