//! Tests in a real browser: scripts in `tests/browser` drive Debian's Chromium (playwright-core, installed by
//! `.ci/run` with `npm ci` there) against the real host.
//!
//! - The admin console (`console.mjs`): sign in, toggle header-stamp and see the answers change, the keys its
//!   config schema declares beside the editor, a refused config shown in place, the audit rows.
//! - The real OpenHands web frontend, v0.62.0 (`openhands-walk.mjs`, docs/frontend.md): a new user's first steps
//!   on the open-source host, and the same signed in through the enterprise plugin's GitHub sign-in.
//!
//! Without Chromium, Node.js, the npm packages or the frontend build each says it was skipped; in CI a skip is a
//! failure.

use std::path::PathBuf;

use openhost_tests::{
    Host, Site,
    browser::{self, FrontendServer, TestCertificate},
    fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub, PAT},
    free_port, skip,
};

const TOKEN: &str = "console-token-0123456789abcdef";

/// Where a test's screenshots go: the folder named by `variable` when set (docs' screenshots are taken that
/// way), else a scratch folder.
fn screenshots(variable: &str, scratch: &tempfile::TempDir) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| scratch.path().to_owned(), PathBuf::from)
}

/// Asserts a script printed `every step done`, with its output and the host's log when it did not.
fn assert_walked(walked: &std::process::Output, host: &Host) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&walked.stdout),
        String::from_utf8_lossy(&walked.stderr),
    );
    assert!(
        walked.status.success() && stdout.contains("every step done"),
        "{stdout}{stderr}\nhost log:\n{}",
        host.logs()
    );
}

#[test]
fn the_admin_console_signs_in_toggles_a_plugin_refuses_a_bad_config_in_place_and_shows_the_audit() {
    if let Some(why) = browser::unavailable() {
        return skip("the admin console test", &why);
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
    let screens = screenshots("OPENHOST_CONSOLE_SCREENSHOTS", &scratch);
    let walked = browser::run_script(
        "console.mjs",
        &[
            &format!("http://127.0.0.1:{port}"),
            TOKEN,
            &host.url(""),
            &screens.to_string_lossy(),
        ],
    );
    assert_walked(&walked, &host);
    assert!(!host.logs().contains(TOKEN), "the token is in the log");
}

/// The frontend build, or why the walks cannot run.
fn walk_needs() -> Result<PathBuf, String> {
    if let Some(why) = browser::unavailable() {
        return Err(why);
    }
    browser::frontend_build()
}

#[test]
fn a_new_user_walks_the_openhands_frontend_on_the_open_source_host() {
    let build = match walk_needs() {
        Ok(build) => build,
        Err(why) => return skip("the OpenHands frontend walk (oss)", &why),
    };
    let fake = FakeGithub::start(40);
    let site = Site::new();
    site.write_config(&format!(
        "github_api_url = \"{}\"\nrate_limit_per_sec = 0\n",
        fake.base_url
    ));
    let host = site.start();
    let frontend = FrontendServer::start(&build, &host.url(""), free_port(), None);
    // docs/frontend.md's screenshots are these, taken with OPENHOST_FRONTEND_SCREENSHOTS=docs/frontend.
    let scratch = tempfile::tempdir().expect("screenshots dir");
    let screens = screenshots("OPENHOST_FRONTEND_SCREENSHOTS", &scratch);
    let walked = browser::run_script(
        "openhands-walk.mjs",
        &[
            "oss",
            &format!("http://127.0.0.1:{}", frontend.port),
            PAT,
            &screens.to_string_lossy(),
        ],
    );
    assert_walked(&walked, &host);
    assert!(!host.logs().contains(PAT), "the personal access token is in the log");
}

#[test]
fn a_user_signs_in_with_github_and_walks_the_openhands_frontend_in_saas_mode() {
    let build = match walk_needs() {
        Ok(build) => build,
        Err(why) => return skip("the OpenHands frontend walk (saas)", &why),
    };
    let tls = match TestCertificate::localhost() {
        Ok(tls) => tls,
        Err(why) => return skip("the OpenHands frontend walk (saas)", &why),
    };
    let fake = FakeGithub::start(40);
    let site = Site::new();
    site.add_plugin("openhost-enterprise");
    // The frontend signs in on https://{AUTH_URL} only: serve.mjs answers https on `localhost` (the frontend's
    // redirect_uri stays on its own origin) in front of the host's loopback http, as a TLS-terminating proxy.
    let frontend_port = free_port();
    let public_url = format!("https://localhost:{frontend_port}");
    let fake_url = &fake.base_url;
    site.write_config(&format!(
        r#"github_api_url = "{fake_url}"
rate_limit_per_sec = 0
[plugins.enterprise.config]
github_client_id = "{CLIENT_ID}"
github_client_secret = "${{TEST_GITHUB_CLIENT_SECRET}}"
public_url = "{public_url}"
secret_key = "${{TEST_SECRET_KEY}}"
github_web_url = "{fake_url}"
github_api_url = "{fake_url}"
app_slug = "openhost-walk"
"#
    ));
    let host = site.start_with_env(&[
        ("TEST_GITHUB_CLIENT_SECRET", CLIENT_SECRET),
        ("TEST_SECRET_KEY", "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE"),
    ]);
    let frontend = FrontendServer::start(&build, &host.url(""), frontend_port, Some(&tls));
    let scratch = tempfile::tempdir().expect("screenshots dir");
    let screens = screenshots("OPENHOST_FRONTEND_SCREENSHOTS", &scratch);
    let walked = browser::run_script(
        "openhands-walk.mjs",
        &[
            "saas",
            &format!("https://localhost:{}", frontend.port),
            &screens.to_string_lossy(),
        ],
    );
    assert_walked(&walked, &host);
    assert!(!host.logs().contains(CLIENT_SECRET), "the client secret is in the log");
}
