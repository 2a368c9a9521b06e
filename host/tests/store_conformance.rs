//! One conformance suite for both stores (docs/architecture.md, "Storage"): the same operations (get, put,
//! delete, compare-and-swap, prefix scans, expiry, leases) give the same answers on sled and on PostgreSQL. The
//! PostgreSQL half runs against `OPENHOST_TEST_DATABASE_URL` (in a schema of its own); without it, it says it was
//! skipped, and in CI (`CI` set) a skip is a failure.

use std::{sync::Arc, time::Duration};

use openhost::{
    lease::Leases,
    store::{Namespace, PostgresStore, SledStore, Store},
};

/// Namespaces of this run only, so that runs sharing a database do not meet.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("conformance-{}-{nanos}", std::process::id())
}

async fn suite(store: &dyn Store) {
    let run = run_id();
    let a: Arc<dyn Namespace> = store.namespace(&format!("{run}/a")).unwrap();
    let b: Arc<dyn Namespace> = store.namespace(&format!("{run}/b")).unwrap();

    // get, put, delete; namespaces are separate.
    assert_eq!(a.get(b"k").await.unwrap(), None);
    a.put(b"k", b"1").await.unwrap();
    a.put(b"k", b"2").await.unwrap();
    assert_eq!(a.get(b"k").await.unwrap().as_deref(), Some(&b"2"[..]));
    assert_eq!(b.get(b"k").await.unwrap(), None);
    assert!(a.delete(b"k").await.unwrap());
    assert!(!a.delete(b"k").await.unwrap());
    assert_eq!(a.get(b"k").await.unwrap(), None);

    // compare-and-swap in each of its four shapes.
    assert!(
        a.compare_and_swap(b"c", None, Some(b"x")).await.unwrap(),
        "create if absent"
    );
    assert!(
        !a.compare_and_swap(b"c", None, Some(b"y")).await.unwrap(),
        "not if present"
    );
    assert!(!a.compare_and_swap(b"c", Some(b"wrong"), Some(b"y")).await.unwrap());
    assert!(
        a.compare_and_swap(b"c", Some(b"x"), Some(b"y")).await.unwrap(),
        "swap if equal"
    );
    assert!(!a.compare_and_swap(b"c", Some(b"x"), None).await.unwrap());
    assert!(!a.compare_and_swap(b"c", None, None).await.unwrap(), "absent? no");
    assert!(
        a.compare_and_swap(b"c", Some(b"y"), None).await.unwrap(),
        "delete if equal"
    );
    assert!(a.compare_and_swap(b"c", None, None).await.unwrap(), "absent? yes");
    assert_eq!(a.get(b"c").await.unwrap(), None);

    // Binary keys and values, and prefix scans in byte order with a limit.
    for key in [&b"p/\x00"[..], b"p/a", b"p/b\xff", b"p/\xff\xff", b"q", b"p", b"o\xff"] {
        a.put(key, &[key, b"!"].concat()).await.unwrap();
    }
    let keys = |entries: Vec<(Vec<u8>, Vec<u8>)>| entries.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let all = a.scan_prefix(b"p/", 100).await.unwrap();
    assert_eq!(all[0].1, b"p/\x00!".to_vec(), "values come with their keys");
    assert_eq!(
        keys(all),
        [&b"p/\x00"[..], b"p/a", b"p/b\xff", b"p/\xff\xff"].map(<[u8]>::to_vec)
    );
    assert_eq!(
        keys(a.scan_prefix(b"p/", 2).await.unwrap()),
        [&b"p/\x00"[..], b"p/a"].map(<[u8]>::to_vec)
    );
    assert_eq!(
        keys(a.scan_prefix(b"p/\xff", 10).await.unwrap()),
        [b"p/\xff\xff".to_vec()]
    );
    assert_eq!(
        a.scan_prefix(b"", 100).await.unwrap().len(),
        7,
        "the empty prefix is everything"
    );
    assert!(b.scan_prefix(b"", 100).await.unwrap().is_empty());

    // Expiry: past its deadline a key is absent to every operation; any other write makes it permanent.
    let e: Arc<dyn Namespace> = store.namespace(&format!("{run}/expiring")).unwrap();
    let short = Duration::from_millis(400);
    for key in [&b"gone"[..], b"cas", b"deleted", b"made-permanent", b"swapped"] {
        e.put_expiring(key, b"1", short).await.unwrap();
    }
    e.put_expiring(b"kept", b"1", Duration::from_secs(600)).await.unwrap();
    e.put(b"made-permanent", b"2").await.unwrap();
    assert!(e.compare_and_swap(b"swapped", Some(b"1"), Some(b"2")).await.unwrap());
    assert_eq!(
        e.get(b"gone").await.unwrap().as_deref(),
        Some(&b"1"[..]),
        "live before its deadline"
    );
    assert_eq!(e.scan_prefix(b"", 100).await.unwrap().len(), 6);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(e.get(b"gone").await.unwrap(), None);
    assert_eq!(e.get(b"kept").await.unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(
        keys(e.scan_prefix(b"", 100).await.unwrap()),
        [&b"kept"[..], b"made-permanent", b"swapped"].map(<[u8]>::to_vec)
    );
    assert!(
        !e.delete(b"deleted").await.unwrap(),
        "an expired key was not there to delete"
    );
    assert!(!e.compare_and_swap(b"cas", Some(b"1"), Some(b"2")).await.unwrap());
    assert!(e.compare_and_swap(b"cas", None, None).await.unwrap(), "absent? yes");
    assert!(
        e.compare_and_swap(b"cas", None, Some(b"3")).await.unwrap(),
        "an expired key is free"
    );
    assert!(store.sweep_expired().await.unwrap() >= 1, "`gone` was still stored");
    assert_eq!(e.get(b"gone").await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        keys(e.scan_prefix(b"", 100).await.unwrap()),
        [&b"cas"[..], b"kept", b"made-permanent", b"swapped"].map(<[u8]>::to_vec),
        "writes other than put_expiring made their keys permanent"
    );

    // Concurrent compare-and-swap increments: none lost.
    let counter = Arc::clone(&a);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                for _ in 0..10 {
                    loop {
                        let current = counter.get(b"n").await.unwrap();
                        let value = current
                            .as_deref()
                            .map_or(0, |v| u32::from_be_bytes(v.try_into().unwrap()));
                        let next = (value + 1).to_be_bytes();
                        if counter
                            .compare_and_swap(b"n", current.as_deref(), Some(&next))
                            .await
                            .unwrap()
                        {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(a.get(b"n").await.unwrap(), Some(80u32.to_be_bytes().to_vec()));
    a.flush().await.unwrap();
}

/// Leases through two hosts' services on one store: one holder at a time, a release frees the name for the other
/// host, and a holder that stopped renewing (a killed process) loses it after its time to live.
async fn lease_suite(first: &dyn Store, second: &dyn Store) {
    let run = run_id();
    let runtime = tokio::runtime::Handle::current();
    let (a, b) = (
        Leases::new(first.lease_backend(), runtime.clone()),
        Leases::new(second.lease_backend(), runtime),
    );
    let (name, ttl) = (format!("{run}/refresh"), Duration::from_secs(2));
    let held = a.acquire(&name, ttl, Duration::ZERO).await.unwrap().expect("free");
    assert_eq!(b.acquire(&name, ttl, Duration::from_millis(200)).await.unwrap(), None);
    tokio::time::sleep(ttl + Duration::from_millis(500)).await;
    assert_eq!(
        b.acquire(&name, ttl, Duration::ZERO).await.unwrap(),
        None,
        "renewed past its time to live"
    );
    a.release(held, &run);
    let started = std::time::Instant::now();
    assert!(b.acquire(&name, ttl, Duration::from_secs(5)).await.unwrap().is_some());
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());

    let abandoned = format!("{run}/abandoned");
    assert!(
        first
            .lease_backend()
            .try_take(&abandoned, "killed", Duration::from_millis(600))
            .await
            .unwrap()
    );
    let started = std::time::Instant::now();
    assert!(
        b.acquire(&abandoned, ttl, Duration::from_secs(5))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    suite(&store).await;
    lease_suite(&store, &store).await;
}

#[test]
fn postgres_conforms() {
    let Some(url) = openhost_tests::test_database("PostgreSQL store conformance") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        // Two stores at once: migrations are safe when several hosts start together.
        let (first, second) = tokio::join!(
            PostgresStore::connect(&url, 4, handle.clone()),
            PostgresStore::connect(&url, 4, handle.clone())
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        suite(&first).await;
        lease_suite(&first, &second).await;
    });
}
