//! header-stamp without a server (openhost-plugin-test): the stamp, the blocked paths and their metric.

use openhost_plugin_test::{TestHost, TestRequest, start};
use serde_json::json;

#[test]
fn stamps_every_answer_and_blocks_configured_paths_counting_them() {
    let host = TestHost::new();
    let config = json!({"header": "X-Served-By", "value": "edge-1", "block_paths": ["/api/secret"]});
    let plugin = start!(host, config).expect("starts");

    let passed = plugin.send(TestRequest::get("/api/settings"));
    assert_eq!(passed.header("x-served-by"), Some("edge-1"));

    let blocked = plugin.send(TestRequest::get("/api/secret"));
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.header("x-served-by"), Some("edge-1"));
    let samples = host.metrics();
    assert_eq!(samples.len(), 1, "{samples:?}");
    assert_eq!(samples[0].name, "header_stamp_blocked_total");
    assert_eq!(samples[0].labels, vec![("path".to_owned(), "/api/secret".to_owned())]);
    assert!(
        host.logs()
            .iter()
            .any(|line| line.message.contains("blocked by configuration"))
    );
}

#[test]
fn a_header_that_is_not_a_name_is_refused_at_start() {
    let refused = start!(TestHost::new(), json!({"header": "not a header"}))
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("not a valid header name"), "{refused}");
}
