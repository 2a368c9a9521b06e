//! Session cookies whose signature has checked out, remembered by their exact text with the claims they carry,
//! so that the next request with the same cookie skips the base64 decoding, the HMAC and the claims' JSON (about
//! 0.8 µs of the session check; docs/benchmarks.md, "The plugin machinery").
//!
//! Only what a signature proves is remembered. What can change is still checked on every request by the caller:
//! the claims' expiry against the clock, and the server-side record (a signed-out or revoked session is refused
//! at once, on every instance). The keys cannot change under a remembered cookie: a new configuration makes a
//! new plugin instance, with an empty memory.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

/// The most cookies remembered; past it the memory starts over (an entry is a few hundred bytes).
const MAX_ENTRIES: usize = 10_000;

/// Verified claims `C` by their cookie's text. A `HashMap` with a random SipHash key: a client cannot aim
/// collisions, and a lookup's timing tells nothing of any remembered cookie's text.
pub struct VerifiedCookies<C> {
    claims: Mutex<HashMap<String, C>>,
}

impl<C> Default for VerifiedCookies<C> {
    fn default() -> Self {
        VerifiedCookies {
            claims: Mutex::new(HashMap::new()),
        }
    }
}

impl<C: Clone> VerifiedCookies<C> {
    /// The claims of `cookie`, if its signature checked out before.
    pub fn remembered(&self, cookie: &str) -> Option<C> {
        self.lock().get(cookie).cloned()
    }

    /// Remembers the claims of a cookie whose signature just checked out.
    pub fn remember(&self, cookie: &str, claims: C) {
        let mut remembered = self.lock();
        if remembered.len() >= MAX_ENTRIES {
            remembered.clear();
        }
        remembered.insert(cookie.to_owned(), claims);
    }

    /// Forgets a cookie (it expired).
    pub fn forget(&self, cookie: &str) {
        self.lock().remove(cookie);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, C>> {
        // The map is whole after any panic (one insert or removal at a time): keep using it.
        self.claims.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_by_exact_text_forgets_and_starts_over_when_full() {
        let verified = VerifiedCookies::default();
        verified.remember("a.sig", 1);
        assert_eq!(verified.remembered("a.sig"), Some(1));
        assert_eq!(verified.remembered("a.sih"), None);
        verified.forget("a.sig");
        assert_eq!(verified.remembered("a.sig"), None);
        for i in 0..MAX_ENTRIES {
            verified.remember(&i.to_string(), i);
        }
        verified.remember("last", 0);
        assert_eq!(verified.lock().len(), 1, "full: started over");
    }
}
