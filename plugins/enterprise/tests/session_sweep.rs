//! Session indexes (docs/security.md, "Sessions"), on the plugin test kit's host services: what a
//! user who never comes back leaves behind is swept by later sign-ins of anyone, and one user never reaches another's.

use std::{sync::Arc, time::Duration};

use openhost_enterprise::{
    keys::Keyring,
    session::{SessionPolicy, Sessions},
};
use openhost_plugin_api::Host;
use openhost_plugin_test::{TestHost, block_on};

#[test]
fn a_sign_in_sweeps_the_dead_sessions_of_other_users() {
    let fixture = Fixture::new(1, 20);
    let sessions = &fixture.sessions;
    let count = |prefix: &str| {
        block_on(fixture.host.kv_scan_prefix(prefix.as_bytes(), 100))
            .unwrap()
            .len()
    };

    for _ in 0..3 {
        block_on(sessions.create("github:1", "gone")).unwrap();
    }
    let index_of_1 = format!("user-sessions/{}/", hex::encode("github:1"));
    assert_eq!((count("session/"), count(&index_of_1)), (3, 3));
    // Expiry counts whole seconds of the wall clock, and the store's time to live runs on the kit's: both move
    // past a 1 s session.
    std::thread::sleep(Duration::from_millis(2100));
    fixture.kit.advance(Duration::from_millis(2100));
    block_on(sessions.create("github:2", "active")).unwrap();
    assert_eq!(count("session/"), 1, "only the new session is left");
    assert_eq!(count(&index_of_1), 0, "and the index of the user who left is empty");
}

/// Fixture: sessions over fresh in-memory host services.
struct Fixture {
    kit: TestHost,
    host: Host,
    sessions: Sessions,
}

impl Fixture {
    fn new(ttl: u64, max_per_user: u64) -> Fixture {
        let kit = TestHost::new();
        let host = kit.host();
        let policy = SessionPolicy {
            ttl,
            max_age: 3600,
            max_per_user,
            secure: false,
            https: false,
            auth_kind: "oidc",
        };
        let sessions = Sessions::new(host, Arc::new(Keyring::new(&[7u8; 32], &[])), policy);
        Fixture { kit, host, sessions }
    }

    fn live(&self, cookie: &str) -> bool {
        let cookie = cookie.to_owned();
        block_on(self.sessions.authenticate(Some(&cookie))).is_ok()
    }
}

/// User ids are not ours to choose (an OpenID Connect subject may hold `/`): one user's sign-in cap and
/// "sign out everywhere" never reach the sessions of a user whose id extends theirs.
#[test]
fn one_users_sessions_never_reach_those_of_a_user_whose_id_extends_theirs() {
    let fixture = Fixture::new(3600, 2);
    let create = |uid: &str| block_on(fixture.sessions.create(uid, "x")).unwrap();
    let theirs = [create("oidc:a/b"), create("oidc:a/b")];
    for _ in 0..3 {
        create("oidc:a");
    }
    assert!(
        theirs.iter().all(|cookie| fixture.live(cookie)),
        "oidc:a's cap ended oidc:a/b's sessions"
    );
    block_on(fixture.sessions.revoke_all("oidc:a")).unwrap();
    assert!(
        theirs.iter().all(|cookie| fixture.live(cookie)),
        "oidc:a's revoke-all ended oidc:a/b's sessions"
    );
    // Nor did they lose track of them: their own "sign out everywhere" still ends them.
    block_on(fixture.sessions.revoke_all("oidc:a/b")).unwrap();
    assert!(
        theirs.iter().all(|cookie| !fixture.live(cookie)),
        "oidc:a/b's sessions escaped their own revoke-all"
    );
}

/// A session indexed by an earlier version (`user-session/<uid>/<sid>`) is still ended by "sign out everywhere".
#[test]
fn sessions_of_the_earlier_index_are_adopted() {
    let fixture = Fixture::new(3600, 20);
    let cookie = block_on(fixture.sessions.create("oidc:legacy", "x")).unwrap();
    let new_prefix = format!("user-sessions/{}/", hex::encode("oidc:legacy"));
    let entries = block_on(fixture.host.kv_scan_prefix(new_prefix.as_bytes(), 10)).unwrap();
    assert_eq!(entries.len(), 1);
    let sid = &entries[0].0[new_prefix.len()..];
    let mut legacy = b"user-session/oidc:legacy/".to_vec();
    legacy.extend_from_slice(sid);
    block_on(async {
        fixture.host.kv_delete(&entries[0].0).await.unwrap();
        fixture.host.kv_put(&legacy, b"").await.unwrap();
    });
    assert!(fixture.live(&cookie));
    block_on(fixture.sessions.revoke_all("oidc:legacy")).unwrap();
    assert!(!fixture.live(&cookie), "the legacy session was not ended");
    let left = block_on(fixture.host.kv_scan_prefix(b"user-session/", 10)).unwrap();
    assert!(left.is_empty(), "the earlier index is emptied");
}
