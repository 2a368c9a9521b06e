//! Typed plugin config: `init(host, config: MyConfig)` with `MyConfig: Deserialize`. A bad table is an
//! `InvalidConfig` error that names the key at fault (`owners[2]: invalid type: ...`).

use serde::de::DeserializeOwned;

use crate::PluginError;

/// Parses the plugin's `[plugins.NAME.config]` table (as JSON) into `T`.
pub fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." {
            PluginError::invalid_config(inner.to_string())
        } else {
            PluginError::invalid_config(format!("`{path}`: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Config {
        owners: Vec<String>,
        #[serde(default)]
        limit: u32,
    }

    #[test]
    fn errors_name_the_key() {
        let error = from_json::<Config>(r#"{"owners": ["a", 3]}"#).unwrap_err();
        assert!(error.to_string().contains("`owners[1]`"), "{error}");
        let error = from_json::<Config>(r#"{"owners": [], "limt": 1}"#).unwrap_err();
        assert!(error.to_string().contains("limt"), "{error}");
        let error = from_json::<Config>(r#"{}"#).unwrap_err();
        assert!(error.to_string().contains("owners"), "{error}");
        assert!(from_json::<serde_json::Value>("{}").is_ok());
    }
}
