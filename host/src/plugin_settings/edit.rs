//! Changing one plugin's `[plugins.NAME]` table in a config file's text, with `toml_edit`: comments, layout and
//! every other byte kept, so that a file an operator wrote stays theirs after the admin API changed it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toml_edit::{DocumentMut, Item, TableLike};

use super::error::SettingsError;

/// A change to one plugin's settings: the body of `PATCH /admin/api/plugins/NAME`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i32>,
    /// A JSON object (the `config` table), or a string (a sandboxed plugin's config bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

impl PluginChange {
    /// The settings it changes, with their new values as the API shows them.
    pub fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields = Vec::new();
        if let Some(enabled) = self.enabled {
            fields.push(("enabled", Value::Bool(enabled)));
        }
        if let Some(order) = self.order {
            fields.push(("order", Value::from(order)));
        }
        if let Some(config) = &self.config {
            fields.push(("config", config.clone()));
        }
        fields
    }

    /// `later` made over this one: the settings it names replace these.
    pub fn merge(&mut self, later: &PluginChange) {
        if later.enabled.is_some() {
            self.enabled = later.enabled;
        }
        if later.order.is_some() {
            self.order = later.order;
        }
        if later.config.is_some() {
            self.config = later.config.clone();
        }
    }
}

/// `text` (a whole config file) with `change` made to `[plugins.NAME]` (made if missing); every other byte as it
/// was, and within the config table, the keys whose value did not change keep their comments.
pub fn edit(text: &str, name: &str, change: &PluginChange) -> Result<String, SettingsError> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| SettingsError::Change(crate::text::one_line(&e.to_string())))?;
    let plugins = document
        .entry("plugins")
        .or_insert_with(implicit_table)
        .as_table_like_mut()
        .ok_or_else(|| SettingsError::Change("`plugins` in the config file is not a table".into()))?;
    let table = plugins
        .entry(name)
        .or_insert(toml_edit::table())
        .as_table_like_mut()
        .ok_or_else(|| SettingsError::Change(format!("`plugins.{name}` in the config file is not a table")))?;
    if let Some(enabled) = change.enabled {
        set(table, "enabled", toml_edit::Value::from(enabled));
    }
    if let Some(order) = change.order {
        set(table, "order", toml_edit::Value::from(i64::from(order)));
    }
    match &change.config {
        None => {}
        Some(Value::String(text)) => set(table, "config", toml_edit::Value::from(text.as_str())),
        Some(Value::Object(config)) => {
            if !table.get("config").is_some_and(Item::is_table_like) {
                table.insert("config", toml_edit::table());
            }
            let Some(into) = table.get_mut("config").and_then(Item::as_table_like_mut) else {
                return Err(SettingsError::Change("`config` cannot be made a table".into()));
            };
            let stale: Vec<String> = into
                .iter()
                .map(|(key, _)| key.to_owned())
                .filter(|key| !config.contains_key(key))
                .collect();
            for key in stale {
                into.remove(&key);
            }
            for (key, value) in config {
                set(into, key, toml_value(value, key)?);
            }
        }
        Some(_) => {
            return Err(SettingsError::Change(
                "config must be an object (the plugin's table) or a string (a sandboxed plugin's bytes)".into(),
            ));
        }
    }
    Ok(document.to_string())
}

/// A table that is written only through its sub-tables (`[plugins.NAME]`, never a bare `[plugins]`).
fn implicit_table() -> Item {
    let mut table = toml_edit::Table::new();
    table.set_implicit(true);
    Item::Table(table)
}

/// Sets `key` to `value`, keeping the comments and spacing around a value that was there, and the value itself
/// when it is already that.
fn set(table: &mut dyn TableLike, key: &str, mut value: toml_edit::Value) {
    if let Some(Item::Value(existing)) = table.get_mut(key) {
        let mut bare = existing.clone();
        bare.decor_mut().clear();
        if bare.to_string() == value.to_string() {
            return;
        }
        *value.decor_mut() = existing.decor().clone();
        *existing = value;
        return;
    }
    table.insert(key, Item::Value(value));
}

/// A JSON value as a TOML one; `null` has no TOML form.
fn toml_value(value: &Value, key: &str) -> Result<toml_edit::Value, SettingsError> {
    Ok(match value {
        Value::Null => {
            return Err(SettingsError::Change(format!(
                "config `{key}` is null: TOML has no null; leave the key out"
            )));
        }
        Value::Bool(flag) => toml_edit::Value::from(*flag),
        Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => toml_edit::Value::from(integer),
            (None, Some(float)) => toml_edit::Value::from(float),
            (None, None) => {
                return Err(SettingsError::Change(format!(
                    "config `{key}` is a number TOML cannot hold"
                )));
            }
        },
        Value::String(text) => toml_edit::Value::from(text.as_str()),
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(toml_value(item, key)?);
            }
            toml_edit::Value::Array(array)
        }
        Value::Object(fields) => {
            let mut table = toml_edit::InlineTable::new();
            for (name, item) in fields {
                table.insert(name, toml_value(item, name)?);
            }
            toml_edit::Value::InlineTable(table)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_keeps_every_other_byte() {
        let text = "# the host\n[host]\nlisten = \"127.0.0.1:1\"\n\n# stamps responses\n[plugins.stamp]\nenabled = true # on\n\n[plugins.stamp.config]\n# the header\nheader = \"x-a\"\nvalue = \"${STAMP}\"\n";
        let change = PluginChange {
            enabled: Some(false),
            order: None,
            config: Some(serde_json::json!({"header": "x-a", "value": "${OTHER}", "paths": ["/a", 2]})),
        };
        let edited = edit(text, "stamp", &change).unwrap();
        assert_eq!(
            edited,
            "# the host\n[host]\nlisten = \"127.0.0.1:1\"\n\n# stamps responses\n[plugins.stamp]\nenabled = false # on\n\n[plugins.stamp.config]\n# the header\nheader = \"x-a\"\nvalue = \"${OTHER}\"\npaths = [\"/a\", 2]\n"
        );
        let off = PluginChange {
            enabled: Some(false),
            ..PluginChange::default()
        };
        let added = edit(text, "other", &off).unwrap();
        assert!(
            added.starts_with(text) && added.ends_with("[plugins.other]\nenabled = false\n"),
            "{added}"
        );
        let null = PluginChange {
            config: Some(serde_json::json!({"a": null})),
            ..PluginChange::default()
        };
        assert!(edit(text, "stamp", &null).unwrap_err().to_string().contains("null"));
    }
}
