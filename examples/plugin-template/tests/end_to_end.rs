//! The plugin as operators run it: this crate's library, freshly built, in the `plugin_dir` of a real openhost
//! on a loopback port, asked over HTTP. The host binary is the one `OPENHOST_BIN` names:
//! `OPENHOST_BIN=/path/to/openhost/target/debug/openhost cargo test` (without it, the harness says which binary it
//! looked for and where).

use std::path::Path;

use openhost_tests::{Site, build_library, get_json};

#[test]
fn hello_answers_with_the_configured_greeting_and_stamps_every_response() {
    let library = build_library(Path::new(env!("CARGO_MANIFEST_DIR")));
    let site = Site::new();
    site.add_library(&library);
    site.write_config("[plugins.hello.config]\ngreeting = \"hi from outside\"\n");
    let host = site.start();

    let (status, headers, body) = get_json(&host.url("/hello"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["greeting"], "hi from outside");
    assert_eq!(headers["x-hello"], "hi from outside");
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(
        headers["x-hello"], "hi from outside",
        "the middleware stamps every response"
    );
    host.wait_for_log("said hello", std::time::Duration::from_secs(5));
}
