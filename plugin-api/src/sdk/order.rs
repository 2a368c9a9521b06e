//! Named positions in the middleware chain (ascending; ties broken by plugin name). The host's built-ins sit at
//! fixed places; a plugin picks a place relative to them.

/// The host's request-id middleware: first, so every answer carries `X-Request-Id`.
pub const REQUEST_ID: i32 = 0;
/// The host's check of the `Host` name (since 1.2).
pub const HOST_NAMES: i32 = 10;
/// The host's per-client rate limiter.
pub const RATE_LIMIT: i32 = 100;
/// The host's CORS middleware: later middleware's error answers still get CORS headers.
pub const CORS: i32 = 200;
/// The host's refusal of cross-site writes (since 1.2): before any sign-in gate, so a foreign page learns
/// nothing from it.
pub const CROSS_SITE: i32 = 250;
/// Where a sign-in gate belongs: after CORS, so its 401s are readable by the browser.
pub const AUTHENTICATION: i32 = 300;
/// A plugin middleware that names no order.
pub const DEFAULT: i32 = 500;
/// The host's cache-control middleware.
pub const CACHE_CONTROL: i32 = 900;
