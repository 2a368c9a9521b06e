//! Loading rules (docs/architecture.md, "Loading rules") against the real binary and real libraries.

use std::time::Duration;

use openhost_tests::{Site, get_json, library, sha256};
use serde_json::Value;

fn plugin<'a>(plugins: &'a Value, name: &str) -> &'a Value {
    plugins["plugins"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("plugin {name} not listed in {plugins}"))
}

/// The middleware chain without the host's built-ins: `(name, order)`.
fn plugin_middleware(plugins: &Value) -> Vec<(String, i64)> {
    plugins["slots"]["middleware"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["owner"] != "host")
        .map(|m| (m["name"].as_str().unwrap().to_owned(), m["order"].as_i64().unwrap()))
        .collect()
}

#[test]
fn a_dropped_in_plugin_loads_and_its_middleware_runs() {
    let site = Site::new();
    let file = site.add_plugin("openhost-example-header-stamp");
    site.write_config(
        r#"
        [plugins.header-stamp.config]
        header = "x-served-by"
        value = "edge-1"
        block_paths = ["/api/secret"]
        "#,
    );
    let host = site.start();

    let (status, headers, body) = get_json(&host.url("/healthz"));
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(headers["x-served-by"], "edge-1");

    let (status, headers, body) = get_json(&host.url("/api/secret"));
    assert_eq!(status, 403);
    assert_eq!(body["code"], "blocked");
    assert_eq!(headers["x-served-by"], "edge-1");

    let (status, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(status, 200);
    let stamp = plugin(&plugins, "header-stamp");
    assert_eq!(stamp["loaded"], true);
    assert_eq!(stamp["enabled"], true);
    assert_eq!(stamp["file"], file.file_name().unwrap().to_str().unwrap());
    assert_eq!(stamp["sha256"], sha256(&file));
    assert_eq!(stamp["provides"], serde_json::json!(["middleware"]));
    assert_eq!(plugin_middleware(&plugins), [("header-stamp".to_owned(), 500)]);
    assert_eq!(plugins["slots"]["server_config"], "host");
}

#[test]
fn enabled_false_turns_a_plugin_off() {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config("[plugins.header-stamp]\nenabled = false\n");
    let host = site.start();

    let (status, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(status, 200);
    assert!(headers.get("x-openhost-stamp").is_none());
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let stamp = plugin(&plugins, "header-stamp");
    assert_eq!(stamp["enabled"], false);
    assert_eq!(stamp["loaded"], false);
    assert_eq!(stamp["version"], "0.1.0", "manifest is read even when disabled");
    assert_eq!(plugin_middleware(&plugins), []);
}

#[test]
fn files_that_are_not_plugins_are_skipped_with_one_warning_each() {
    let site = Site::new();
    site.add_file(
        "libgarbage.so",
        b"this is not an ELF file at all, just text pretending\n",
    );
    let real = std::fs::read(library("openhost-example-header-stamp")).unwrap();
    site.add_file("libtruncated.so", &real[..real.len() / 3]);
    site.add_plugin("fixture-not-a-plugin");
    site.add_file("README.txt", b"ignored: not a library name");
    site.write_config("");
    let host = site.start();

    let logs = host.logs();
    for (file, reason) in [
        ("libgarbage.so", "not a loadable shared library"),
        ("libtruncated.so", "not a loadable shared library"),
        ("libfixture_not_a_plugin.so", "not an openhost plugin"),
    ] {
        let lines: Vec<&str> = logs.lines().filter(|l| l.contains(file)).collect();
        assert_eq!(lines.len(), 1, "one line for {file}:\n{logs}");
        assert!(lines[0].contains("WARN") && lines[0].contains(reason), "{}", lines[0]);
    }
    assert!(!logs.contains("README.txt"));
    let (status, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(status, 200);
    assert_eq!(plugins["plugins"], serde_json::json!([]));
}

#[test]
fn a_plugin_built_for_another_interface_major_is_refused_in_one_line() {
    let site = Site::new();
    site.add_plugin("fixture-other-major");
    site.write_config("");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(line.contains("libfixture_other_major.so"), "{line}");
    assert!(
        line.contains(&format!(
            "plugin `other-major` was built for plugin interface 2.0, this host provides 1.{}: rebuild other-major \
             against openhost-plugin-api 1.x",
            openhost_plugin_api::INTERFACE_MINOR
        )),
        "{line}"
    );

    // Disabled, the same file is only listed, with its interface.
    site.write_config("[plugins.other-major]\nenabled = false\n");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugin(&plugins, "other-major")["interface"], "2.0");
    assert_eq!(plugin(&plugins, "other-major")["abi"], 2);
    assert_eq!(plugin(&plugins, "other-major")["loaded"], false);
    assert_eq!(
        plugins["interface"],
        format!("1.{}", openhost_plugin_api::INTERFACE_MINOR)
    );
}

#[test]
fn a_plugin_with_another_interface_layout_is_refused_in_one_line() {
    let site = Site::new();
    site.add_plugin("fixture-bad-layout");
    site.write_config("");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("libfixture_bad_layout.so") && line.contains("plugin `bad-layout`"),
        "{line}"
    );
    assert!(
        line.contains("interface layout") && line.contains("rebuild it"),
        "{line}"
    );
    assert!(
        line.contains("type `PluginMod`: mismatched package"),
        "names the type and the difference: {line}"
    );
    assert!(line.len() < 600, "one short line, not abi_stable's full report: {line}");
}

#[test]
fn a_missing_enabled_plugin_stops_startup_naming_it() {
    let site = Site::new();
    site.write_config("[plugins.ghost]\nenabled = true\n");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(line.contains("`ghost`"), "{line}");
}

#[test]
fn a_sha256_pin_refuses_a_changed_file_and_accepts_the_right_one() {
    let site = Site::new();
    let file = site.add_plugin("openhost-example-header-stamp");
    site.write_config(&format!("[plugins.header-stamp]\nsha256 = \"{}\"\n", "0".repeat(64)));
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("sha256 mismatch") && line.contains("header-stamp"),
        "{line}"
    );

    site.write_config(&format!("[plugins.header-stamp]\nsha256 = \"{}\"\n", sha256(&file)));
    let host = site.start();
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert!(headers.get("x-openhost-stamp").is_some());
}

#[test]
fn two_overrides_of_one_slot_conflict_until_host_overrides_picks_one() {
    let site = Site::new();
    site.add_plugin("fixture-override-a");
    site.add_plugin("fixture-override-b");
    site.write_config("");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(line.contains("`override-a`") && line.contains("`override-b`"), "{line}");
    assert!(
        line.contains("server_config") && line.contains("[host.overrides]"),
        "{line}"
    );

    site.write_config("[host.overrides]\nserver_config = \"override-b\"\n");
    // `[host]` is written by write_config; a second [host.overrides] header after it is still valid TOML.
    let host = site.start();
    let (status, _, config) = get_json(&host.url("/api/options/config"));
    assert_eq!(status, 200);
    assert_eq!(config["APP_MODE"], "override-b");
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["slots"]["server_config"], "override-b");
    drop(host);

    site.write_config("[host.overrides]\nserver_config = \"host\"\n");
    let host = site.start();
    let (_, _, config) = get_json(&host.url("/api/options/config"));
    assert_eq!(config["APP_MODE"], "oss");
}

#[test]
fn a_panicking_plugin_gives_500_and_the_host_keeps_serving() {
    let site = Site::new();
    site.add_plugin("fixture-panicky");
    site.write_config("");
    let host = site.start();

    for path in ["/panic", "/fixture/panic", "/panic-response"] {
        let (status, _, body) = get_json(&host.url(path));
        assert_eq!(status, 500, "{path}");
        assert_eq!(body["code"], "plugin_failed", "{path}");
        assert!(body["error"].as_str().unwrap().contains("panicky"), "{body}");

        let (status, headers, _) = get_json(&host.url("/healthz"));
        assert_eq!(status, 200, "the next request after {path} succeeds");
        assert_eq!(headers["x-panicky"], "survived");
    }
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugin(&plugins, "panicky")["panics"], 3);
    let logs = host.logs();
    assert!(logs.contains("deliberate panic in middleware"), "{logs}");
}

#[test]
fn host_services_work_from_a_plugin() {
    let site = Site::new();
    site.add_plugin("fixture-panicky");
    site.write_config("");
    let host = site.start();

    let (status, _, body) = get_json(&host.url("/fixture/kv?value=hello"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], "hello");
    assert_eq!(body["swapped"], true);
    assert_eq!(body["entries"], 1);
    let (status, _, body) = get_json(&host.url("/fixture/sleep"));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn plugin_tracing_lines_reach_the_host_log_and_shutdown_is_called() {
    let site = Site::new();
    site.add_plugin("fixture-panicky");
    site.write_config("");
    let host = site.start();
    let logs = host.wait_for_log("panicky fixture says hello", Duration::from_secs(5));
    let line = logs.lines().find(|l| l.contains("panicky fixture says hello")).unwrap();
    assert!(
        line.contains("INFO") && line.contains("plugin=\"panicky\"") && line.contains("answer=42"),
        "{line}"
    );

    let (status, logs) = host.stop();
    assert!(status.success(), "graceful stop exits 0: {status:?}\n{logs}");
    assert!(logs.contains("panicky fixture shutdown called"), "{logs}");
}

#[test]
fn an_unset_variable_in_plugin_config_fails_startup_naming_it() {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config("[plugins.header-stamp.config]\nvalue = \"${OPENHOST_TEST_SURELY_UNSET}\"\n");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("OPENHOST_TEST_SURELY_UNSET") && line.contains("header-stamp"),
        "{line}"
    );

    let host = site.start_with_env(&[("OPENHOST_TEST_SURELY_UNSET", "from-env")]);
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(headers["x-openhost-stamp"], "from-env");
}

#[test]
fn a_plugin_init_error_stops_startup_naming_the_plugin() {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config("[plugins.header-stamp.config]\nheader = \"bad header\"\n");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("header-stamp") && line.contains("not a valid header name"),
        "{line}"
    );
}

#[test]
fn require_listed_refuses_unlisted_libraries() {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config("require_listed = true\n");
    let host = site.start();
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert!(headers.get("x-openhost-stamp").is_none());
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let stamp = plugin(&plugins, "header-stamp");
    assert_eq!(stamp["loaded"], false);
    assert!(stamp["error"].as_str().unwrap().contains("require_listed"));
}

#[test]
fn the_cli_lists_and_checks_plugins() {
    let site = Site::new();
    let stamp = site.add_plugin("openhost-example-header-stamp");
    site.add_plugin("fixture-other-major");
    let garbage = site.add_file("libgarbage.so", b"garbage");
    site.write_config("[plugins.other-major]\nenabled = false\n");

    let config = site.config_path();
    let (status, table, _) = site.cli(&["plugins", "list", "--config", config.to_str().unwrap()]);
    assert!(status.success());
    let row = table
        .lines()
        .find(|l| l.starts_with("header-stamp"))
        .expect("header-stamp row");
    let current = format!(" 1.{} ", openhost_plugin_api::INTERFACE_MINOR);
    assert!(
        row.contains("0.1.0")
            && row.contains(&current)
            && row.contains("middleware")
            && row.contains("yes")
            && row.ends_with("ok"),
        "{row}"
    );
    assert!(table.lines().next().unwrap().contains("INTERFACE"), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with("other-major"))
        .expect("other-major row");
    assert!(
        row.contains(" 2.0 ") && row.contains("no") && row.contains("plugin interface 2.0"),
        "{row}"
    );

    let (status, manifest, _) = site.cli(&["plugins", "check", stamp.to_str().unwrap()]);
    assert!(status.success());
    assert!(manifest.contains("name:        header-stamp"), "{manifest}");
    assert!(
        manifest.contains(&format!("interface:   1.{}", openhost_plugin_api::INTERFACE_MINOR)),
        "{manifest}"
    );
    assert!(manifest.contains("executed:    no"), "{manifest}");
    assert!(manifest.contains(&sha256(&stamp)), "{manifest}");
    let (status, manifest, _) = site.cli(&["plugins", "check", "--load", stamp.to_str().unwrap()]);
    assert!(status.success());
    assert!(manifest.contains("executed:    yes"), "{manifest}");

    let (status, _, stderr) = site.cli(&["plugins", "check", garbage.to_str().unwrap()]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("libgarbage.so") && stderr.contains("not a loadable shared library"),
        "{stderr}"
    );
}

#[test]
fn middleware_runs_in_ascending_order_with_ties_broken_by_name() {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.add_plugin("fixture-panicky");
    site.write_config("[plugins.header-stamp.config]\norder = 500\nblock_paths = [\"/panic\"]\n");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let chain = plugin_middleware(&plugins);
    assert_eq!(
        chain,
        [("header-stamp".to_owned(), 500), ("panicky".to_owned(), 500)],
        "tie at 500, by name"
    );
    // header-stamp runs first and answers before panicky can panic.
    let (status, _, body) = get_json(&host.url("/panic"));
    assert_eq!((status, body["code"].as_str()), (403, Some("blocked")));
    drop(host);

    site.write_config("[plugins.header-stamp.config]\norder = 900\nblock_paths = [\"/panic\"]\n");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(
        plugin_middleware(&plugins),
        [("panicky".to_owned(), 500), ("header-stamp".to_owned(), 900)]
    );
    // panicky (500) now runs before header-stamp (900) and panics before the block can answer.
    let (status, _, body) = get_json(&host.url("/panic"));
    assert_eq!((status, body["code"].as_str()), (500, Some("plugin_failed")));
}

#[test]
fn a_plugin_route_colliding_with_the_host_stops_startup() {
    let site = Site::new();
    site.add_plugin("fixture-panicky");
    site.write_config("[plugins.panicky.config]\nextra_routes = [\"GET /healthz\"]\n");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("GET /healthz") && line.contains("`panicky`") && line.contains("the host"),
        "{line}"
    );

    // A new method on a host path is not a collision, and the plugin serves it.
    site.write_config("[plugins.panicky.config]\nextra_routes = [\"POST /healthz\"]\n");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let routes = plugins["slots"]["routes"].as_array().unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r["method"] == "POST" && r["path"] == "/healthz" && r["owner"] == "panicky")
    );
}

#[test]
fn the_default_plugins_toml_starts_with_every_shipped_plugin_staged() {
    // What `cargo serve` does: every plugin and example library in plugin_dir, the repository's plugins.toml.
    let site = Site::new();
    let shipped = [
        "openhost-enterprise",
        "openhost-example-header-stamp",
        "openhost-example-audit-log",
        "openhost-example-feature-flags",
        "openhost-example-repo-allowlist",
        "openhost-example-proxy-auth",
    ];
    for name in shipped {
        site.add_plugin(name);
    }
    std::fs::copy(
        openhost_tests::workspace_root().join("plugins.toml"),
        site.config_path(),
    )
    .unwrap();
    let host = site.start_with_env(&[("OPENHOST_LISTEN", "127.0.0.1:0")]);
    let (status, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(status, 200);
    let listed = plugins["plugins"].as_array().unwrap();
    assert_eq!(listed.len(), shipped.len(), "{plugins}");
    assert!(
        listed.iter().all(|p| p["error"].is_null() && p["version"] == "0.1.0"),
        "{plugins}"
    );
    assert_eq!(get_json(&host.url("/api/options/config")).2["APP_MODE"], "oss");
}
