//! The manifest: what a plugin is, stored as plain data in the library file.
//!
//! `export_plugin!` writes it into a static byte array exported as [`MANIFEST_SYMBOL`]. It holds no pointers (so
//! no relocations), which lets the host read it straight from the file with an object-file parser, without
//! mapping or running anything of the library: discovery, `plugins list` and the sha256 pin all come before any
//! code of a plugin executes (docs/plugin-interface.md).
//!
//! The format is text, one `key value` pair a line, after a first line `openhost-plugin-manifest 1`. A reader
//! ignores keys it does not know, so later minors can add keys without breaking older hosts.

use crate::{interface::InterfaceVersion, Slot};

/// The exported symbol that holds the manifest bytes.
pub const MANIFEST_SYMBOL: &str = "openhost_plugin_manifest";
/// The first line of every manifest.
pub const MAGIC: &str = "openhost-plugin-manifest 1";
/// The longest manifest a host reads.
pub const MAX_LEN: usize = 16 * 1024;
/// The exported symbol that holds the config's JSON Schema, if the plugin declares one (`export_plugin!`'s
/// `config_schema`): NUL-terminated text, read from the file like the manifest, so that no plugin code runs to
/// learn it. Optional data beside the frozen root module: an older host never looks for it, and a plugin
/// without it has no schema.
pub const CONFIG_SCHEMA_SYMBOL: &str = "openhost_plugin_config_schema";
/// The longest config schema a host reads.
pub const MAX_SCHEMA_LEN: usize = 64 * 1024;

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// The plugin interface the library was built for.
    pub interface: InterfaceVersion,
    /// The version of openhost-plugin-api the library was built with.
    pub sdk_version: String,
    pub description: String,
    /// Slots the plugin fills (overrides or stacks).
    pub provides: Vec<Slot>,
    /// Override slots the plugin wraps.
    pub decorates: Vec<Slot>,
    /// The JSON Schema of the plugin's config, from [`CONFIG_SCHEMA_SYMBOL`] (not part of the manifest's text:
    /// [`Manifest::parse`] leaves it `None`, the reader of the file fills it in).
    pub config_schema: Option<String>,
}

/// Why manifest bytes are not a manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest does not start with `{MAGIC}`")]
    Magic,
    #[error("the manifest is longer than {MAX_LEN} bytes")]
    TooLong,
    #[error("the manifest is not UTF-8")]
    NotUtf8,
    #[error("the manifest has no `{0}`")]
    Missing(&'static str),
    #[error("the manifest's `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl Manifest {
    /// Parses manifest bytes (a trailing NUL and anything after it are ignored).
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let bytes = bytes.split(|b| *b == 0).next().unwrap_or_default();
        if bytes.len() > MAX_LEN {
            return Err(ManifestError::TooLong);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::NotUtf8)?;
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(ManifestError::Magic);
        }
        let pairs: Vec<(&str, &str)> = lines.filter_map(|line| line.split_once(' ')).collect();
        let get = |key: &'static str| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or(ManifestError::Missing(key))
        };
        let name = get("name")?;
        if let Err(reason) = check_name(name) {
            return Err(ManifestError::Invalid {
                key: "name",
                reason: reason.to_owned(),
            });
        }
        let interface = InterfaceVersion::parse(get("interface")?).ok_or_else(|| ManifestError::Invalid {
            key: "interface",
            reason: "not `major.minor`".to_owned(),
        })?;
        let slots = |key: &'static str| -> Result<Vec<Slot>, ManifestError> {
            let mut slots = Vec::new();
            for word in get(key).unwrap_or_default().split_whitespace() {
                let slot = Slot::from_name(word).ok_or_else(|| ManifestError::Invalid {
                    key,
                    reason: format!("unknown slot `{}`", word.chars().take(40).collect::<String>()),
                })?;
                if !slots.contains(&slot) {
                    slots.push(slot);
                }
            }
            slots.sort();
            Ok(slots)
        };
        Ok(Manifest {
            name: name.to_owned(),
            version: get("version")?.to_owned(),
            interface,
            sdk_version: get("sdk").unwrap_or_default().to_owned(),
            description: get("description").unwrap_or_default().to_owned(),
            provides: slots("provides")?,
            decorates: slots("decorates")?,
            config_schema: None,
        })
    }
}

/// A plugin name: 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit. Names become storage
/// namespaces, log tags and `plugins.toml` keys, so they are kept plain.
pub const fn check_name(name: &str) -> Result<(), &'static str> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return Err("must be 1 to 64 characters");
    }
    if bytes[0] == b'-' || bytes[0] == b'_' {
        return Err("must start with a letter or digit");
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err("may hold only a-z, 0-9, `-` and `_`");
        }
        i += 1;
    }
    Ok(())
}

/// Compile-time checks of what `export_plugin!` writes: a bad name or a line break in the description is a
/// build error, not a plugin the host later refuses.
#[doc(hidden)]
pub const fn check_declaration(name: &str, description: &str) {
    if let Err(reason) = check_name(name) {
        panic!("{}", reason);
    }
    let bytes = description.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' || bytes[i] == b'\r' || bytes[i] == 0 {
            panic!("the plugin description must be one line");
        }
        i += 1;
    }
}

/// Compile-time checks of a declared config schema: it fits what a host reads, and holds no NUL (which ends it).
#[doc(hidden)]
pub const fn check_config_schema(schema: &str) {
    let bytes = schema.as_bytes();
    if bytes.len() > MAX_SCHEMA_LEN {
        panic!("the config schema is longer than 64 KiB");
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0 {
            panic!("the config schema holds a NUL byte");
        }
        i += 1;
    }
}

/// `text` and a NUL, as a byte array of exactly `text.len() + 1` bytes.
#[doc(hidden)]
pub const fn to_bytes_with_nul<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    assert!(bytes.len() + 1 == N);
    let mut out = [0u8; N];
    let mut i = 0;
    while i < bytes.len() {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Copies manifest text into the fixed-size array `export_plugin!` exports.
#[doc(hidden)]
pub const fn to_bytes<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    assert!(bytes.len() == N);
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_macro_writes_and_ignores_unknown_keys() {
        let text = "openhost-plugin-manifest 1\nname stamp\nversion 0.3.1\ninterface 1.0\nsdk 1.0.0\n\
                    description Stamps responses, politely\nprovides Middleware Routes\ndecorates GitService\n\
                    added-in-1-7 whatever\n\0garbage";
        let manifest = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.name, "stamp");
        assert_eq!(manifest.interface, InterfaceVersion { major: 1, minor: 0 });
        assert_eq!(manifest.description, "Stamps responses, politely");
        assert_eq!(manifest.provides, vec![Slot::Middleware, Slot::Routes]);
        assert_eq!(manifest.decorates, vec![Slot::GitService]);
    }

    #[test]
    fn refuses_what_is_not_a_manifest() {
        assert_eq!(Manifest::parse(b"hello"), Err(ManifestError::Magic));
        let no_name = format!("{MAGIC}\nversion 1\ninterface 1.0\n");
        assert_eq!(Manifest::parse(no_name.as_bytes()), Err(ManifestError::Missing("name")));
        let bad_name = format!("{MAGIC}\nname ../x\nversion 1\ninterface 1.0\n");
        assert!(matches!(
            Manifest::parse(bad_name.as_bytes()),
            Err(ManifestError::Invalid { key: "name", .. })
        ));
        let bad_slot = format!("{MAGIC}\nname x\nversion 1\ninterface 1.0\nprovides Teleport\n");
        assert!(matches!(
            Manifest::parse(bad_slot.as_bytes()),
            Err(ManifestError::Invalid { key: "provides", .. })
        ));
    }
}
