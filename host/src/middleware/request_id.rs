//! `X-Request-Id` on every response: the client's, if it is well-formed, else a fresh one.
//!
//! A fresh id is a random per-process prefix and a counter: unique, unguessable across restarts, and made
//! without a system call (a `getrandom` per request showed in the request path's CPU time).

use std::sync::atomic::{AtomicU64, Ordering};

use openhost_plugin_api::{Middleware, MiddlewareAction, PluginError, RequestView, order};
use ring::rand::{SecureRandom, SystemRandom};

pub const HEADER: &str = "x-request-id";

/// Makes request ids.
pub struct RequestId {
    /// 16 hex digits of random bytes.
    prefix: [u8; 16],
    counter: AtomicU64,
}

impl RequestId {
    pub fn new() -> Result<RequestId, PluginError> {
        let mut bytes = [0u8; 8];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| PluginError::other("the system random number generator failed"))?;
        let mut prefix = [0u8; 16];
        hex::encode_to_slice(bytes, &mut prefix)
            .map_err(|_| PluginError::other("a request id prefix does not fit its buffer"))?;
        Ok(RequestId {
            prefix,
            counter: AtomicU64::new(0),
        })
    }

    /// Writes a fresh id into `buffer`: the prefix, then the counter as 16 hex digits (by hand: `format!` was a
    /// tenth of the pipeline's CPU on `/healthz`).
    fn fresh_id<'b>(&self, buffer: &'b mut [u8; 32]) -> &'b str {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        buffer[..16].copy_from_slice(&self.prefix);
        for (i, digit) in buffer[16..].iter_mut().enumerate() {
            *digit = DIGITS[((count >> (60 - 4 * i)) & 0xf) as usize];
        }
        std::str::from_utf8(buffer.as_slice()).unwrap_or_default()
    }
}

/// 1 to 128 characters of letters, digits, `-`, `_`, `.`: safe to echo and to log.
fn is_well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[openhost_plugin_api::middleware]
impl Middleware for RequestId {
    fn order(&self) -> i32 {
        order::REQUEST_ID
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        let action = MiddlewareAction::next();
        Ok(match request.header(HEADER).filter(|id| is_well_formed(id)) {
            Some(id) => action.with_header(HEADER, id),
            None => action.with_header(HEADER, self.fresh_id(&mut [0u8; 32])),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fresh_ids_are_the_prefix_and_a_counter() {
        let ids = super::RequestId::new().unwrap();
        ids.counter
            .store(0x0123_4567_89ab_cdef, std::sync::atomic::Ordering::Relaxed);
        let first = ids.fresh_id(&mut [0u8; 32]).to_owned();
        let second = ids.fresh_id(&mut [0u8; 32]).to_owned();
        assert_eq!(&first[16..], "0123456789abcdef");
        assert_eq!(&second[16..], "0123456789abcdf0");
        assert_eq!(first[..16], second[..16]);
        assert!(super::is_well_formed(&first));
    }

    #[test]
    fn accepts_only_plain_ids() {
        assert!(super::is_well_formed("4f7c2a0e-1b7d.x_y"));
        assert!(!super::is_well_formed(""));
        assert!(!super::is_well_formed("a b"));
        assert!(!super::is_well_formed("x\r\nset-cookie: y"));
        assert!(!super::is_well_formed(&"a".repeat(129)));
    }
}
