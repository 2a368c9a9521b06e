//! Per-client rate limit: a token bucket (governor's GCRA) of `rate_limit_per_sec` requests a second with a
//! burst of twice that, per client address (IPv6: per /64, [`crate::client`]); over it, 429 `rate_limited` with
//! `Retry-After`.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};
use openhost_plugin_api::{Middleware, MiddlewareAction, PluginError, RequestView, Response, order};

/// How often (in requests) buckets of clients that have gone quiet are dropped, bounding memory.
const PRUNE_EVERY: u64 = 10_000;

pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    seen: AtomicU64,
}

impl RateLimit {
    /// `None` when `per_second` is 0 (the limiter is off).
    pub fn new(per_second: u32) -> Option<RateLimit> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Some(RateLimit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            seen: AtomicU64::new(0),
        })
    }
}

#[openhost_plugin_api::middleware]
impl Middleware for RateLimit {
    fn order(&self) -> i32 {
        order::RATE_LIMIT
    }

    async fn on_request(&self, request: &RequestView<'_>) -> Result<MiddlewareAction, PluginError> {
        if self.seen.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let Ok(peer) = request.peer_addr.as_str().parse::<SocketAddr>() else {
            return Ok(MiddlewareAction::next());
        };
        match self.limiter.check_key(&crate::client::client_key(peer.ip())) {
            Ok(()) => Ok(MiddlewareAction::next()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Ok(MiddlewareAction::Respond(
                    Response::error(429, "rate_limited", "too many requests from this address; slow down")
                        .with_header("retry-after", &retry_after.max(1).to_string()),
                ))
            }
        }
    }
}
