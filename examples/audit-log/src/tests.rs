//! audit-log without a server (openhost-plugin-test): each answer is recorded from the response hook, the
//! newest `max_entries` are kept, and `GET /api/audit` serves them newest first.

use openhost_plugin_api::prelude::*;
use openhost_plugin_test::{TestHost, TestRequest, start};
use serde_json::{Value, json};

fn body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("JSON")
}

#[test]
fn keeps_the_newest_entries_and_serves_them_newest_first() {
    let host = TestHost::new();
    let plugin = start!(host, json!({"max_entries": 2})).expect("starts");
    let alice = Identity::new("github:1", "alice", "test");
    for path in ["/first", "/second", "/third"] {
        let answer = plugin.send(TestRequest::get(path).identity(alice.clone()));
        assert_eq!(answer.status, 404, "no route of the plugin serves {path}");
    }
    let listed = plugin.send(TestRequest::get("/api/audit").identity(alice));
    assert_eq!(listed.status, 200);
    let items = body(&listed)["items"].as_array().cloned().expect("items");
    let paths: Vec<&str> = items.iter().filter_map(|item| item["path"].as_str()).collect();
    assert_eq!(paths, ["/third", "/second"]);
    assert_eq!(items[0]["status"], 404);
    assert_eq!(items[0]["user_id"], "github:1");
}

#[test]
fn a_limit_that_is_not_a_number_is_a_clear_error() {
    let plugin = start!(TestHost::new(), json!({})).expect("starts");
    let answer = plugin.send(TestRequest::get("/api/audit?limit=many"));
    assert_eq!(answer.status, 400, "{}", body(&answer));
}
