//! Which keys of `plugins.toml` a reload applies, and which need a restart.
//!
//! A reload rebuilds the registry, so it applies what the registry is built from: the plugins, `plugin_dir`,
//! `require_listed`, `trusted_keys` and `require_signatures`, `[host.overrides]`, and the keys of the host's built-in middleware (`cors_origins`,
//! `allowed_hosts`, `rate_limit_per_sec`). Every other `[host]` key shapes the process itself (its sockets, its
//! store, its key, its deadlines): a reload keeps the running value and names the key, so an edit is never
//! silently ignored.

use crate::config::Config;

/// The config a reload builds the next generation from: `new`'s live keys on the running process's others, and
/// the keys whose new value waits for a restart.
pub fn apply(running: &Config, new: Config) -> (Config, Vec<&'static str>) {
    let differs = [
        ("listen", running.listen != new.listen),
        ("metrics_listen", running.metrics_listen != new.metrics_listen),
        ("data_dir", running.data_dir != new.data_dir),
        ("store", running.store != new.store),
        ("secret_key", running.secret_key != new.secret_key),
        ("github_api_url", running.github_api_url != new.github_api_url),
        ("plugin_timeout_secs", running.plugin_timeout != new.plugin_timeout),
        ("connection limits", running.limits != new.limits),
        ("agent options", running.options != new.options),
    ];
    let needs_restart = differs
        .into_iter()
        .filter_map(|(key, differs)| differs.then_some(key))
        .collect();
    let effective = Config {
        path: new.path,
        plugin_dir: new.plugin_dir,
        require_listed: new.require_listed,
        signatures: new.signatures,
        overrides: new.overrides,
        plugins: new.plugins,
        cors_origins: new.cors_origins,
        allowed_hosts: new.allowed_hosts,
        rate_limit_per_sec: new.rate_limit_per_sec,
        ..running.clone()
    };
    (effective, needs_restart)
}
