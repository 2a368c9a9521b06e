//! What the enterprise plugin adds to every authenticated request: verifying the session cookie (HMAC-SHA256 in
//! constant time, JSON claims) and looking the session record up in the plugin's KV namespace, through the
//! interface's host services (the plugin test kit's in-memory store: the plugin's own work, not a database's).
//!
//! Run: `cargo bench -p openhost-enterprise --bench session`. Numbers go to docs/benchmarks.md.

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use openhost_enterprise::{
    clock::now,
    keys::Keyring,
    session::{SessionPolicy, Sessions, verify_cookie, verify_cookie_remembered},
    verified_cookies::VerifiedCookies,
};
use openhost_plugin_test::{TestHost, block_on};

fn bench(c: &mut Criterion) {
    let kit = TestHost::new();
    let host = kit.host();
    let keys = Arc::new(Keyring::new(&[7u8; 32], &[vec![9u8; 32]]));
    let policy = SessionPolicy {
        ttl: 7 * 24 * 3600,
        max_age: 30 * 24 * 3600,
        max_per_user: 20,
        secure: false,
        https: false,
        auth_kind: "github_oauth",
    };
    let sessions = Sessions::new(host, Arc::clone(&keys), policy);
    let cookie = block_on(sessions.create("github:4242", "octocat")).expect("session");

    let mut group = c.benchmark_group("enterprise_session");
    group.bench_function("verify_cookie_only", |b| {
        b.iter(|| black_box(keys.verify(black_box(&cookie))))
    });
    group.bench_function("verify_cookie_claims", |b| {
        b.iter(|| black_box(verify_cookie(&keys, Some(black_box(&cookie)), now()).is_ok()))
    });
    let verified = VerifiedCookies::default();
    group.bench_function("verify_cookie_remembered", |b| {
        b.iter(|| black_box(verify_cookie_remembered(&verified, &keys, Some(black_box(&cookie)), now()).is_ok()))
    });
    group.bench_function("authenticate_cookie_and_record", |b| {
        b.iter(|| {
            let session = sessions.authenticate(Some(black_box(&cookie))).now_or_never();
            black_box(session.map(|s| s.is_ok()))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
