//! proxy-auth without a server (openhost-plugin-test): the identity header counts only from a trusted proxy.

use openhost_plugin_test::{TestHost, TestRequest, start};
use serde_json::json;

#[test]
fn the_header_names_the_user_only_from_a_trusted_peer() {
    let plugin = start!(TestHost::new(), json!({"trusted_proxies": ["10.0.0.0/8"]})).expect("starts");
    let mut from_proxy = TestRequest::get("/api/settings").header("X-Forwarded-User", "alice");
    from_proxy.peer_addr = "10.1.2.3:5000".to_owned();
    let identity = plugin.identify(&from_proxy).expect("identifies").expect("someone");
    assert_eq!(
        (identity.user_id.as_str(), identity.login.as_str()),
        ("proxy:alice", "alice")
    );

    let mut from_elsewhere = from_proxy.clone();
    from_elsewhere.peer_addr = "192.0.2.1:5000".to_owned();
    assert_eq!(plugin.identify(&from_elsewhere).expect("answers"), None);

    let mut odd_name = from_proxy;
    odd_name.headers = vec![("x-forwarded-user".to_owned(), "alice bob".to_owned())];
    assert_eq!(plugin.identify(&odd_name).expect("answers"), None);
}

#[test]
fn a_proxy_that_is_not_a_network_is_refused_at_start() {
    let refused = start!(TestHost::new(), json!({"trusted_proxies": ["ten"]}))
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("is not a CIDR"), "{refused}");
}

#[test]
fn user_names_are_plain() {
    assert!(crate::is_user_name("alice@example.com"));
    assert!(!crate::is_user_name("alice bob"));
    assert!(!crate::is_user_name(""));
    assert!(!crate::is_user_name("a/../b"));
}
