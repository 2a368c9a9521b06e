//! The OAuth state cookie's verification never panics on arbitrary input, signed or not.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use openhost_enterprise::{keys::Keyring, sign_in::state::verify_state_cookie};

fn keys() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| Keyring::new(&[7u8; 32], &[]))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verify_state_cookie(keys(), Some(text), 1_800_000_000);
    }
    // A validly signed payload of arbitrary bytes must be judged on its content alone.
    let signed = keys().sign(data);
    let _ = verify_state_cookie(keys(), Some(&signed), 1_800_000_000);
});
