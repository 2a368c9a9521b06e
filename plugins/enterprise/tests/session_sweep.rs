//! Sweeping dead sessions (docs/security.md, "Sessions"), against the real host services over a real sled store:
//! what a user who never comes back leaves behind is deleted by later sign-ins of anyone.

use std::{sync::Arc, time::Duration};

use openhost::{
    services::{PluginContext, host_services},
    store::SledStore,
};
use openhost_enterprise::{
    keys::Keyring,
    session::{SessionPolicy, Sessions},
};
use openhost_plugin_api::Host;

#[test]
fn a_sign_in_sweeps_the_dead_sessions_of_other_users() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let context = PluginContext::standalone("enterprise", &store, runtime.handle().clone());
    let host = Host::new(host_services(context.unwrap()));
    let keys = Arc::new(Keyring::new(&[7u8; 32], &[]));
    let policy = SessionPolicy {
        ttl: 1,
        max_age: 3600,
        max_per_user: 20,
        secure: false,
        https: false,
        auth_kind: "github_oauth",
    };
    let sessions = Sessions::new(host, keys, policy);
    let count = |prefix: &str| {
        runtime
            .block_on(host.kv_scan_prefix(prefix.as_bytes(), 100))
            .unwrap()
            .len()
    };

    for _ in 0..3 {
        runtime.block_on(sessions.create("github:1", "gone")).unwrap();
    }
    assert_eq!((count("session/"), count("user-session/github:1/")), (3, 3));
    // Expiry counts whole seconds: two of them make sure a 1 s session is over.
    std::thread::sleep(Duration::from_millis(2100));
    runtime.block_on(sessions.create("github:2", "active")).unwrap();
    assert_eq!(count("session/"), 1, "only the new session is left");
    assert_eq!(
        count("user-session/github:1/"),
        0,
        "and the index of the user who left is empty"
    );
}
