//! Nothing of a library runs before the host has decided to load it (docs/plugin-interface.md, "Checked before
//! run"). The fixtures `ctor-mark` (a plugin) and `not-a-plugin` append a line to a mark file from their library
//! constructors, which run the moment a library is mapped, before any plugin call.
#![cfg(target_os = "linux")]

use openhost_tests::{Site, get_json, sha256};

const MARK_VARIABLE: &str = "OPENHOST_TEST_CTOR_MARK";

fn marks(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[test]
fn no_library_code_runs_before_the_host_decides_to_load_it() {
    let site = Site::new();
    let library = site.add_plugin("fixture-ctor-mark");
    site.add_plugin("fixture-not-a-plugin");
    let mark = site.dir.path().join("mark");
    let mark_text = mark.to_str().expect("utf-8 path").to_owned();
    let env = [(MARK_VARIABLE, mark_text.as_str())];
    let config = site.config_path();
    let config = config.to_str().expect("utf-8 path");

    // Disabled: listed, never loaded; and a library that is not a plugin is never loaded either.
    site.write_config("[plugins.ctor-mark]\nenabled = false\n");
    let host = site.start_with_env(&env);
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let record = &plugins["plugins"][0];
    assert_eq!(
        (record["name"].as_str(), record["loaded"].as_bool()),
        (Some("ctor-mark"), Some(false))
    );
    assert_eq!(
        record["interface"],
        format!("1.{}", openhost_plugin_api::INTERFACE_MINOR)
    );
    drop(host);
    let (status, table, _) = site.cli_with_env(&["plugins", "list", "--config", config], &env);
    assert!(status.success() && table.contains("ctor-mark"), "{table}");
    let (status, manifest, _) = site.cli_with_env(&["plugins", "check", library.to_str().unwrap()], &env);
    assert!(status.success() && manifest.contains("executed:    no"), "{manifest}");
    assert_eq!(
        marks(&mark),
        Vec::<String>::new(),
        "disabled, listed and checked: nothing ran"
    );

    // Not listed while require_listed is on.
    site.write_config("require_listed = true\n");
    drop(site.start_with_env(&env));
    assert_eq!(
        marks(&mark),
        Vec::<String>::new(),
        "unlisted under require_listed: nothing ran"
    );

    // Enabled, but the pin does not match: refused before loading.
    site.write_config(&format!("[plugins.ctor-mark]\nsha256 = \"{}\"\n", "0".repeat(64)));
    let failure = site.expect_startup_failure(&env);
    assert_eq!(failure.status.code(), Some(2));
    assert!(
        failure.error_line().contains("sha256 mismatch"),
        "{}",
        failure.error_line()
    );
    assert_eq!(marks(&mark), Vec::<String>::new(), "failed pin: nothing ran");

    // The mark does work: enabled with the right pin, the library is loaded and its constructor runs once.
    site.write_config(&format!("[plugins.ctor-mark]\nsha256 = \"{}\"\n", sha256(&library)));
    drop(site.start_with_env(&env));
    assert_eq!(marks(&mark), vec!["ctor-mark loaded".to_owned()]);
    let (status, manifest, _) = site.cli_with_env(&["plugins", "check", "--load", library.to_str().unwrap()], &env);
    assert!(status.success() && manifest.contains("executed:    yes"), "{manifest}");
    assert_eq!(
        marks(&mark).len(),
        2,
        "check --load says it ran the library, and it did"
    );
}
