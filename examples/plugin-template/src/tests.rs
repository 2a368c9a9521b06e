//! The plugin's own tests, with `cargo test` and no server: `openhost-plugin-test` runs `init` in process against
//! in-memory host services (docs/plugin-guide.md, "8. Testing your plugin").

use openhost_plugin_api::prelude::*;
use openhost_plugin_test::{start, TestHost, TestRequest};
use serde_json::{json, Value};

#[test]
fn hello_greets_whoever_asks_and_every_answer_carries_the_greeting() {
    let plugin = start!(TestHost::new(), json!({"greeting": "hi there"})).expect("starts");
    let alice = Identity::new("local", "alice", "test");
    let answer = plugin.send(TestRequest::get("/hello").identity(alice));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-hello"), Some("hi there"));
    let body: Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(body, json!({"greeting": "hi there", "user": "alice"}));
    // Any other path is not this plugin's: the host answers it, still stamped.
    assert_eq!(plugin.send(TestRequest::get("/elsewhere")).header("x-hello"), Some("hi there"));
}
