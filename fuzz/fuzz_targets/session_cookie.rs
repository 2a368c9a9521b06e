//! Session cookie verification on arbitrary input never panics, and whatever is signed verifies to itself.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use openhost_enterprise::{keys::Keyring, session::verify_cookie};

fn keys() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| Keyring::new(&[7u8; 32], &[vec![9u8; 32]]))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verify_cookie(keys(), Some(text), 1_800_000_000);
    }
    let signed = keys().sign(data);
    assert_eq!(keys().verify(&signed).as_deref(), Some(data));
});
