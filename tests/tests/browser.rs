//! The admin console in a real browser: `tests/browser/console.mjs` drives Debian's Chromium (playwright-core,
//! installed by `.ci/run` with `npm ci` in tests/browser) through the console of a real host with header-stamp:
//! sign in, toggle the plugin and see the answers change, a refused config shown in place, the audit rows.
//! Without Chromium, Node.js or the npm packages it says it was skipped; in CI a skip is a failure.

use std::{path::Path, process::Command};

use openhost_tests::{Site, free_port, workspace_root};

const TOKEN: &str = "console-token-0123456789abcdef";

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let browser_dir = workspace_root().join("tests/browser");
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("/usr/bin/chromium is not installed (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        return Some("tests/browser has no node_modules (cd tests/browser && npm ci)".into());
    }
    None
}

#[test]
fn the_admin_console_signs_in_toggles_a_plugin_refuses_a_bad_config_in_place_and_shows_the_audit() {
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser test must run in CI: {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    let port = free_port();
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config(&format!(
        "admin_listen = \"127.0.0.1:{port}\"\n\
         [[host.admin_tokens]]\nname = \"ops\"\ntoken = \"${{OPENHOST_ADMIN_TOKEN}}\"\n\
         [plugins.header-stamp.config]\nvalue = \"${{STAMP_VALUE}}\"\n"
    ));
    let host = site.start_with_env(&[("OPENHOST_ADMIN_TOKEN", TOKEN), ("STAMP_VALUE", "console-test")]);
    // docs/operating.md's screenshots are these, taken with OPENHOST_CONSOLE_SCREENSHOTS=docs/admin.
    let scratch = tempfile::tempdir().expect("screenshots dir");
    let screens = std::env::var_os("OPENHOST_CONSOLE_SCREENSHOTS")
        .map_or_else(|| scratch.path().to_owned(), std::path::PathBuf::from);
    let walked = Command::new("node")
        .arg(workspace_root().join("tests/browser/console.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(TOKEN)
        .arg(host.url(""))
        .arg(&screens)
        .output()
        .expect("run node");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&walked.stdout),
        String::from_utf8_lossy(&walked.stderr),
    );
    assert!(
        walked.status.success() && stdout.contains("every step done"),
        "{stdout}{stderr}\nhost log:\n{}",
        host.logs()
    );
    assert!(!host.logs().contains(TOKEN), "the token is in the log");
}
