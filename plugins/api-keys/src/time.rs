//! Times as the API shows them (RFC 3339 in UTC, `2026-11-29T10:00:00Z`) and as they are stored (Unix seconds).

use chrono::{DateTime, SecondsFormat};

/// Unix time in seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-11-29T10:00:00Z`.
pub fn to_rfc3339(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .map(|time| time.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Unix seconds of an RFC 3339 time (any offset); `None` if it is not one or lies before 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let time = DateTime::parse_from_rfc3339(text.trim()).ok()?;
    u64::try_from(time.timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_a_time() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-29T10:00:00+01:00"), Some(1_795_942_800));
        assert_eq!(parse_rfc3339(&to_rfc3339(1_795_942_800)), Some(1_795_942_800));
        assert_eq!(parse_rfc3339("tomorrow"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
    }
}
