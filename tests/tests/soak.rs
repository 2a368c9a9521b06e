//! A few seconds of the soak (the long run is `cargo run --release -p openhost-tests --bin soak`).

use std::time::Duration;

#[test]
fn a_short_soak_has_no_errors_and_no_extra_refreshes() {
    let report = openhost_tests::soak::run(Duration::from_secs(6), 16);
    println!("{report:?}");
    assert!(report.requests > 100, "{report:?}");
    assert_eq!(report.errors(), 0, "{report:?}");
    assert!(report.refreshes >= 1, "tokens expired during the run: {report:?}");
    assert!(
        report.refreshes <= report.expiries,
        "at most one refresh per expiry per user: {report:?}"
    );
}
