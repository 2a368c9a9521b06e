//! A plugin's config checked against the JSON Schema the plugin declares (`export_plugin!`'s `config_schema`,
//! read from the file as data), before its library is mapped: a config that does not fit is refused in one line
//! naming every place that does not fit, and no plugin code runs. The config checked is the one `init` would
//! get, `${VAR}`s replaced, so the messages never show a value (they would show a secret): only where, and what
//! was expected.

use serde_json::Value;

/// The most problems one refusal lists.
const MAX_PROBLEMS: usize = 10;

/// Why a config was refused.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("its config schema is not a JSON Schema: {0}")]
    Invalid(String),
    #[error("the config does not fit the plugin's schema: {}", .0.join("; "))]
    Mismatch(Vec<String>),
}

/// Checks `config` against the schema text `schema`.
pub fn check(schema: &str, config: &Value) -> Result<(), SchemaError> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| SchemaError::Invalid(e.to_string()))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| SchemaError::Invalid(e.masked().to_string()))?;
    let problems: Vec<String> = validator
        .iter_errors(config)
        .take(MAX_PROBLEMS)
        .map(|error| {
            let at = error.instance_path().to_string();
            let at = if at.is_empty() {
                "the config".to_owned()
            } else {
                format!("`{at}`")
            };
            format!("{at}: {}", error.masked())
        })
        .collect();
    match problems.is_empty() {
        true => Ok(()),
        false => Err(SchemaError::Mismatch(problems)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SCHEMA: &str = r#"{
        "type": "object",
        "properties": {
            "header": {"type": "string", "pattern": "^[a-z-]+$"},
            "order": {"type": "integer"}
        },
        "additionalProperties": false
    }"#;

    #[test]
    fn every_place_that_does_not_fit_is_named_and_no_value_is_shown() {
        assert!(check(SCHEMA, &json!({"header": "x-a", "order": 3})).is_ok());
        let refused = check(SCHEMA, &json!({"header": "s3cr3t VALUE", "order": "high", "extra": 1}))
            .unwrap_err()
            .to_string();
        for expected in ["`/header`", "`/order`", "extra"] {
            assert!(refused.contains(expected), "{refused}");
        }
        assert!(
            !refused.contains("s3cr3t") && !refused.contains("high") && !refused.contains('\n'),
            "{refused}"
        );
        assert!(matches!(
            check("{\"type\": 3}", &json!({})),
            Err(SchemaError::Invalid(_))
        ));
        assert!(matches!(check("not json", &json!({})), Err(SchemaError::Invalid(_))));
    }
}
