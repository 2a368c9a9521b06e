//! `plugins.toml`: the host settings and the per-plugin tables, read once at startup (docs/operating.md;
//! docs/architecture.md, "Loading rules").

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::{
    options::AgentOptions,
    signature::{Requirement, SignaturePolicy, TrustedKey, TrustedKeys},
};

/// Host settings after defaults and command-line overrides are applied; paths are absolute or relative to the
/// working directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from, for messages.
    pub path: PathBuf,
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `/metrics` (its own listener); `None`: no metrics are kept.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the admin API listens (its own listener); `None`: no admin API.
    pub admin_listen: Option<SocketAddr>,
    /// Who may use the admin API (`[[host.admin_tokens]]`); at least one when `admin_listen` is set.
    pub admin_tokens: Vec<AdminTokenSpec>,
    pub data_dir: PathBuf,
    pub plugin_dir: PathBuf,
    pub github_api_url: String,
    pub cors_origins: Option<Vec<String>>,
    /// Host names served besides the loopback ones (docs/security.md).
    pub allowed_hosts: Option<Vec<String>>,
    /// Where host state lives.
    pub store: StoreConfig,
    /// `host.secret_key` as written (`${VAR}` not yet expanded): the key of secrets at rest; `None` means
    /// `data_dir/host.key`.
    pub secret_key: Option<String>,
    pub rate_limit_per_sec: u32,
    pub require_listed: bool,
    /// Whose signatures are trusted, and whether unsigned plugins load (docs/security.md, "Signed plugins").
    pub signatures: SignaturePolicy,
    /// How long a plugin call may take before the request gets 504 `plugin_timeout`.
    pub plugin_timeout: std::time::Duration,
    /// Deadlines and caps for slow and numerous clients.
    pub limits: ConnectionLimits,
    /// What the frontend's settings offer (`/api/options/*`).
    pub options: AgentOptions,
    /// Slot name -> the plugin (or `"host"`) that wins it.
    pub overrides: BTreeMap<String, String>,
    pub plugins: BTreeMap<String, PluginTable>,
}

/// One `[[host.admin_tokens]]` table: a name for the audit trail, and the token as an environment variable or
/// as its digest, never in the file itself (the file would hold a secret in plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTokenSpec {
    pub name: String,
    pub secret: AdminSecret,
}

/// Where an admin token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminSecret {
    /// `token = "${VAR}"`, as written: expanded when the admin listener starts.
    Variable(String),
    /// `sha256 = "<hex>"`: the SHA-256 of the token.
    Sha256([u8; 32]),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdminToken {
    name: String,
    token: Option<String>,
    sha256: Option<String>,
}

/// `[host] store`: the embedded sled database in `data_dir`, or PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    Sled,
    Postgres {
        /// As written: `${VAR}` is expanded at start, and the URL is never printed (it may hold a password).
        database_url: String,
        pool_size: usize,
    },
}

/// Deadlines and caps for clients (docs/operating.md, docs/security.md "Slow and many clients").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the connection's start (or a request's first byte) to the end of its headers.
    pub header_timeout: std::time::Duration,
    /// For a whole request body; past it, 408.
    pub body_timeout: std::time::Duration,
    /// A keep-alive connection with no request and no bytes for this long is closed.
    pub idle_timeout: std::time::Duration,
    /// An answer the client has not taken any byte of for this long (it stopped reading) closes the connection.
    pub write_timeout: std::time::Duration,
    pub max_connections: usize,
    /// Per client address (an IPv6 client: per /64).
    pub max_connections_per_ip: usize,
}

/// One `[plugins.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginTable {
    /// Absent means enabled (drop-in).
    pub enabled: Option<bool>,
    /// A file name in `plugin_dir` to load this plugin from, instead of finding it by name.
    pub file: Option<String>,
    /// Hex sha256 the library file must have.
    pub sha256: Option<String>,
    /// Load this plugin unsigned even under `host.require_signatures` (development). A signature that is
    /// present must still hold.
    pub allow_unsigned: Option<bool>,
    /// Handed to the plugin's `init` as JSON after `${VAR}` interpolation (a sandboxed plugin reads the JSON
    /// text, or a string's bytes, with `get_config`).
    #[serde(default)]
    pub config: Option<PluginConfig>,
    /// Sandboxed (`*.wasm`) plugins only: the place in the middleware chain (default 500; a native plugin's
    /// middleware says its own).
    pub order: Option<i32>,
    /// Sandboxed plugins only: the most linear memory an instance may have (default 16).
    pub memory_limit_mib: Option<u32>,
    /// Sandboxed plugins only: how long one call of the guest may run (default 100).
    pub call_timeout_ms: Option<u64>,
    /// Sandboxed plugins only: how many idle instances are kept (default 8).
    pub pool_size: Option<usize>,
}

/// `[plugins.NAME] config`: a table, or (for a sandboxed plugin, whose config is bytes) a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PluginConfig {
    Table(toml::Table),
    Text(String),
}

impl PluginTable {
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// Whether the table lets the plugin load unsigned under `host.require_signatures`.
    pub fn allows_unsigned(&self) -> bool {
        self.allow_unsigned.unwrap_or(false)
    }

    /// The config table, if the config is one.
    pub fn config_table(&self) -> Option<&toml::Table> {
        match &self.config {
            Some(PluginConfig::Table(table)) => Some(table),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    host: RawHost,
    #[serde(default)]
    plugins: BTreeMap<String, PluginTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    listen: Option<String>,
    metrics_listen: Option<String>,
    admin_listen: Option<String>,
    admin_tokens: Option<Vec<RawAdminToken>>,
    data_dir: Option<PathBuf>,
    plugin_dir: Option<PathBuf>,
    github_api_url: Option<String>,
    cors_origins: Option<Vec<String>>,
    allowed_hosts: Option<Vec<String>>,
    store: Option<String>,
    database_url: Option<String>,
    store_pool_size: Option<u32>,
    secret_key: Option<String>,
    rate_limit_per_sec: Option<u32>,
    require_listed: Option<bool>,
    trusted_keys: Option<Vec<String>>,
    require_signatures: Option<bool>,
    plugin_timeout_secs: Option<u64>,
    header_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    write_timeout_secs: Option<u64>,
    max_connections: Option<u32>,
    max_connections_per_ip: Option<u32>,
    llm_models: Option<Vec<String>>,
    agents: Option<Vec<String>>,
    security_analyzers: Option<Vec<String>>,
    #[serde(default)]
    overrides: BTreeMap<String, String>,
}

/// Command-line and environment overrides of `[host]` keys.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// Why `plugins.toml` (or a value in it) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// `owner` reads "plugin `x`" or "host.secret_key".
    #[error("{owner}: config uses ${{{var}}} but the environment variable {var} is not set")]
    UnsetVariable { owner: String, var: String },
    #[error(
        "host.admin_tokens `{name}`: the token is shorter than 16 characters; use a long random one (e.g. `openssl rand -hex 32`)"
    )]
    WeakAdminToken { name: String },
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
pub const DEFAULT_RATE_LIMIT_PER_SEC: u32 = 10;
pub const DEFAULT_PLUGIN_TIMEOUT_SECS: u64 = 10;

impl Config {
    /// What plugin `name` must show to load: `[host]`'s signature policy with its table's `allow_unsigned`.
    pub fn signing_for(&self, name: &str) -> Requirement<'_> {
        let allow_unsigned = self.plugins.get(name).is_some_and(PluginTable::allows_unsigned);
        self.signatures.for_plugin(allow_unsigned)
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(path, &text, overrides)
    }

    /// Parses config text as if read from `path` (relative paths resolve against its directory).
    pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| invalid(crate::text::one_line(&e.to_string())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let relative_to_file = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let listen_text = overrides
            .listen
            .clone()
            .or(raw.host.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        // `host.KEY`'s address, like `example`.
        let address = |key: &str, text: &str, example: &str| {
            text.parse::<SocketAddr>()
                .map_err(|_| invalid(format!("host.{key} `{text}` is not an address like {example}")))
        };
        let listen = address("listen", &listen_text, "127.0.0.1:3000")?;
        let metrics_listen = raw
            .host
            .metrics_listen
            .map(|text| address("metrics_listen", &text, "127.0.0.1:9464"))
            .transpose()?;
        if metrics_listen.is_some_and(|addr| addr == listen) {
            return Err(invalid(format!(
                "host.metrics_listen {listen} is host.listen too: metrics get a listener of their own"
            )));
        }
        let admin_listen = raw
            .host
            .admin_listen
            .map(|text| address("admin_listen", &text, "127.0.0.1:9180"))
            .transpose()?;
        if let Some(admin) = admin_listen.filter(|admin| *admin == listen || Some(*admin) == metrics_listen) {
            return Err(invalid(format!(
                "host.admin_listen {admin} is another listener's address too: the admin API gets a listener of its own"
            )));
        }
        let admin_tokens = admin_token_specs(raw.host.admin_tokens.unwrap_or_default()).map_err(invalid)?;
        if admin_listen.is_some() && admin_tokens.is_empty() {
            return Err(invalid(
                "host.admin_listen needs at least one [[host.admin_tokens]] (name, and token = \"${VAR}\" or sha256)"
                    .to_owned(),
            ));
        }
        let data_dir = match &overrides.data_dir {
            Some(dir) => dir.clone(),
            None => relative_to_file(raw.host.data_dir.unwrap_or_else(|| PathBuf::from("data"))),
        };
        let plugin_dir = relative_to_file(raw.host.plugin_dir.unwrap_or_else(|| PathBuf::from("plugins")));
        for slot in raw.host.overrides.keys() {
            match openhost_plugin_api::Slot::from_name(slot) {
                Some(s) if s.is_override() => {}
                _ => {
                    return Err(invalid(format!(
                        "host.overrides.{slot}: not an override slot (server_config, user_auth, git_service)"
                    )));
                }
            }
        }
        let options = AgentOptions::from_config(raw.host.llm_models, raw.host.agents, raw.host.security_analyzers)
            .map_err(invalid)?;
        let at_least_one = |key: &str, value: Option<u64>, default: u64| match value.unwrap_or(default) {
            0 => Err(invalid(format!("host.{key} must be at least 1"))),
            n => Ok(n),
        };
        let plugin_timeout_secs = at_least_one(
            "plugin_timeout_secs",
            raw.host.plugin_timeout_secs,
            DEFAULT_PLUGIN_TIMEOUT_SECS,
        )?;
        let secs = |key: &str, value: Option<u64>, default: u64| {
            at_least_one(key, value, default).map(std::time::Duration::from_secs)
        };
        let count = |key: &str, value: Option<u32>, default: u32| {
            at_least_one(key, value.map(u64::from), u64::from(default)).map(|n| n as usize)
        };
        let store = match (raw.host.store.as_deref(), raw.host.database_url) {
            (None | Some("sled"), None) => StoreConfig::Sled,
            (None | Some("sled"), Some(_)) => {
                return Err(invalid(
                    "host.database_url is set but host.store is not \"postgres\"".to_owned(),
                ));
            }
            (Some("postgres"), Some(database_url)) => StoreConfig::Postgres {
                database_url,
                pool_size: count("store_pool_size", raw.host.store_pool_size, 16)?,
            },
            (Some("postgres"), None) => {
                return Err(invalid(
                    "host.store = \"postgres\" needs host.database_url (e.g. \"${DATABASE_URL}\")".to_owned(),
                ));
            }
            (Some(other), _) => {
                return Err(invalid(format!(
                    "host.store must be \"sled\" or \"postgres\", not `{other}`"
                )));
            }
        };
        let limits = ConnectionLimits {
            header_timeout: secs("header_timeout_secs", raw.host.header_timeout_secs, 10)?,
            body_timeout: secs("body_timeout_secs", raw.host.body_timeout_secs, 30)?,
            idle_timeout: secs("idle_timeout_secs", raw.host.idle_timeout_secs, 60)?,
            write_timeout: secs("write_timeout_secs", raw.host.write_timeout_secs, 30)?,
            max_connections: count("max_connections", raw.host.max_connections, 10_000)?,
            max_connections_per_ip: count("max_connections_per_ip", raw.host.max_connections_per_ip, 256)?,
        };
        let mut trusted_keys = Vec::new();
        for (index, text) in raw.host.trusted_keys.iter().flatten().enumerate() {
            trusted_keys.push(TrustedKey::parse(text).map_err(|e| {
                invalid(format!(
                    "host.trusted_keys[{index}] is not a minisign public key (the `RW...` line of its .pub file): {e}"
                ))
            })?);
        }
        let signatures = SignaturePolicy {
            trusted_keys: TrustedKeys::new(trusted_keys),
            required: raw.host.require_signatures.unwrap_or(false),
        };
        if signatures.required && signatures.trusted_keys.is_empty() {
            return Err(invalid(
                "host.require_signatures = true needs host.trusted_keys (the publishers' minisign public keys)"
                    .to_owned(),
            ));
        }
        for (name, table) in &raw.plugins {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(format!(
                    "plugin name `{name}` may only contain letters, digits, `-` and `_`"
                )));
            }
            if let Some(file) = &table.file {
                let plain = Path::new(file).file_name().is_some_and(|f| f == file.as_str());
                if !plain || file == ".." {
                    return Err(invalid(format!(
                        "plugins.{name}.file must be a file name inside plugin_dir, not a path: `{file}`"
                    )));
                }
            }
            if let Some(pin) = &table.sha256 {
                if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(format!("plugins.{name}.sha256 must be 64 hex digits")));
                }
            }
        }
        Ok(Config {
            path: path.to_owned(),
            listen,
            metrics_listen,
            admin_listen,
            admin_tokens,
            data_dir,
            plugin_dir,
            github_api_url: raw
                .host
                .github_api_url
                .unwrap_or_else(|| DEFAULT_GITHUB_API_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            cors_origins: raw.host.cors_origins,
            allowed_hosts: raw.host.allowed_hosts,
            store,
            secret_key: raw.host.secret_key,
            rate_limit_per_sec: raw.host.rate_limit_per_sec.unwrap_or(DEFAULT_RATE_LIMIT_PER_SEC),
            require_listed: raw.host.require_listed.unwrap_or(false),
            signatures,
            plugin_timeout: std::time::Duration::from_secs(plugin_timeout_secs),
            limits,
            options,
            overrides: raw.host.overrides,
            plugins: raw.plugins,
        })
    }
}

/// Checks `[[host.admin_tokens]]`: each has a name of its own and exactly one of `token` (a `${VAR}`
/// placeholder) and `sha256` (64 hex digits).
fn admin_token_specs(raw: Vec<RawAdminToken>) -> Result<Vec<AdminTokenSpec>, String> {
    let mut specs: Vec<AdminTokenSpec> = Vec::new();
    for (index, token) in raw.into_iter().enumerate() {
        let at = format!("host.admin_tokens[{index}]");
        let name = token.name.trim().to_owned();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(format!("{at}.name must be 1 to 64 printable characters"));
        }
        if specs.iter().any(|spec| spec.name == name) {
            return Err(format!("{at}.name `{name}` is the name of an earlier token too"));
        }
        let secret = match (token.token, token.sha256) {
            (Some(text), None) => {
                let placeholder = text.starts_with("${") && text.ends_with('}') && text.len() > 3;
                if !placeholder {
                    return Err(format!(
                        "{at}.token must be a ${{VAR}} placeholder: a token written in the file is a secret in plain text (or give its sha256)"
                    ));
                }
                AdminSecret::Variable(text)
            }
            (None, Some(hex)) => {
                AdminSecret::Sha256(decode_sha256(&hex).ok_or_else(|| format!("{at}.sha256 must be 64 hex digits"))?)
            }
            _ => return Err(format!("{at} needs exactly one of token and sha256")),
        };
        specs.push(AdminTokenSpec { name, secret });
    }
    Ok(specs)
}

/// 64 hex digits as 32 bytes.
fn decode_sha256(hex: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex, &mut digest).ok()?;
    Some(digest)
}

/// Converts a plugin's config table to JSON, replacing `${VAR}` in every string at any depth from `lookup`.
pub fn plugin_config_json(
    plugin: &str,
    table: Option<&toml::Table>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<serde_json::Value, ConfigError> {
    let Some(table) = table else {
        return Ok(serde_json::Value::Object(Default::default()));
    };
    let owner = format!("plugin `{plugin}`");
    let mut object = serde_json::Map::new();
    for (key, value) in table {
        object.insert(
            key.clone(),
            toml_to_json(value, &|text| interpolate(&owner, text, lookup))?,
        );
    }
    Ok(serde_json::Value::Object(object))
}

/// A TOML value as JSON, each string passed through `string` (`${VAR}` replaced, or kept as written); a
/// date-time becomes its text.
pub fn toml_to_json(
    value: &toml::Value,
    string: &dyn Fn(&str) -> Result<String, ConfigError>,
) -> Result<serde_json::Value, ConfigError> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(string(s)?),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .map(|item| toml_to_json(item, string))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => {
            let mut object = serde_json::Map::new();
            for (key, value) in table {
                object.insert(key.clone(), toml_to_json(value, string)?);
            }
            J::Object(object)
        }
    })
}

/// Replaces each `${NAME}` (NAME: letters, digits, `_`) with the variable's value. Anything else is literal.
/// `owner` names the config it is for in the error ("plugin `x`", "host.secret_key").
pub fn interpolate(owner: &str, text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let var = &after[..name_len];
            let value = lookup(var).ok_or_else(|| ConfigError::UnsetVariable {
                owner: owner.to_owned(),
                var: var.to_owned(),
            })?;
            out.push_str(&value);
            rest = &after[name_len + 1..];
        } else {
            out.push_str("${");
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(var: &str) -> Option<String> {
        (var == "SECRET").then(|| "s3cr3t".to_owned())
    }

    #[test]
    fn interpolates_at_any_depth_and_names_unset_variables() {
        let table: toml::Table = toml::from_str(
            r#"
            a = "${SECRET}"
            b = ["x-${SECRET}-y", 3]
            c = { d = "keep $ and ${ and ${1x" }
            "#,
        )
        .unwrap();
        let json = plugin_config_json("p", Some(&table), &lookup).unwrap();
        assert_eq!(json["a"], "s3cr3t");
        assert_eq!(json["b"][0], "x-s3cr3t-y");
        assert_eq!(json["b"][1], 3);
        assert_eq!(json["c"]["d"], "keep $ and ${ and ${1x");

        let table: toml::Table = toml::from_str(r#"x = ["${NOPE}"]"#).unwrap();
        let err = plugin_config_json("p", Some(&table), &lookup).unwrap_err().to_string();
        assert!(err.contains("NOPE") && err.contains("plugin `p`"), "{err}");
    }

    #[test]
    fn relative_paths_follow_the_config_file_and_flags_win() {
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: None,
        };
        let config = Config::parse(Path::new("/etc/openhost/plugins.toml"), "", &overrides).unwrap();
        assert_eq!(config.plugin_dir, Path::new("/etc/openhost/plugins"));
        assert_eq!(config.data_dir, Path::new("/etc/openhost/data"));
        assert_eq!(config.listen.port(), 0);
    }

    #[test]
    fn refuses_paths_in_plugin_names_and_files() {
        for text in [
            "[plugins.x]\nfile = \"../../etc/libc.so\"\n",
            "[plugins.x]\nfile = \"/lib/libz.so\"\n",
            "[plugins.x]\nfile = \"..\"\n",
            "[plugins.\"../x\"]\nenabled = true\n",
            "[host]\nplugin_timeout_secs = 0\n",
        ] {
            assert!(
                Config::parse(Path::new("p.toml"), text, &Overrides::default()).is_err(),
                "{text}"
            );
        }
        let ok = Config::parse(
            Path::new("p.toml"),
            "[plugins.a-b_1]\nfile = \"liba.so\"\n",
            &Overrides::default(),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_pins_in_one_line() {
        let err = Config::parse(Path::new("p.toml"), "[host]\nlisten_on = 1\n", &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_on") && !err.contains('\n'), "{err}");
        let err = Config::parse(
            Path::new("p.toml"),
            "[plugins.x]\nsha256 = \"zz\"\n",
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("plugins.x.sha256"), "{err}");
    }
}
