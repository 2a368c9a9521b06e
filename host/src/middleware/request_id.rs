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
    prefix: String,
    counter: AtomicU64,
}

impl RequestId {
    pub fn new() -> Result<RequestId, PluginError> {
        let mut bytes = [0u8; 8];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| PluginError::other("the system random number generator failed"))?;
        Ok(RequestId {
            prefix: hex::encode(bytes),
            counter: AtomicU64::new(0),
        })
    }

    fn fresh_id(&self) -> String {
        format!("{}{:016x}", self.prefix, self.counter.fetch_add(1, Ordering::Relaxed))
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
            None => action.with_header(HEADER, &self.fresh_id()),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_only_plain_ids() {
        assert!(super::is_well_formed("4f7c2a0e-1b7d.x_y"));
        assert!(!super::is_well_formed(""));
        assert!(!super::is_well_formed("a b"));
        assert!(!super::is_well_formed("x\r\nset-cookie: y"));
        assert!(!super::is_well_formed(&"a".repeat(129)));
    }
}
