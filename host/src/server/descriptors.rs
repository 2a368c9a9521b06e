//! The open-file budget (docs/security.md, "Running out of descriptors"). Every connection costs a descriptor, and a
//! process that runs out of them cannot accept anyone, `/healthz` included, while its accept loop fails in a
//! tight loop. So at start the soft `RLIMIT_NOFILE` is raised to the hard limit, and the connection cap is fitted
//! under it with room kept for everything else the process opens: the store's files or pool, plugin images, the
//! log, outbound connections, the admin and metrics sockets.

/// Descriptors kept for everything but client connections of the public listener (the metrics and admin
/// listeners' caps included).
pub const RESERVED: u64 = 256;

/// Raises the soft open-file limit to the hard one; the soft limit in force afterwards (`None`: unknown).
pub fn raise_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` into the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let before = limit.rlim_cur;
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit reads one `rlimit`; raising the soft limit up to the hard one needs no privilege.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                tracing::debug!(from = before, to = raised.rlim_cur, "raised the open-file limit");
                return Some(raised.rlim_cur);
            }
            // macOS refuses a soft limit above OPEN_MAX although its hard limit is "unlimited": keep the old one.
            tracing::warn!(
                soft = before,
                hard = limit.rlim_max,
                "cannot raise the open-file limit to the hard limit"
            );
        }
        Some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// How many connections the public listener may hold: `max_connections`, or fewer when the open-file limit
/// cannot hold that many besides [`RESERVED`] (said once, with what to change).
pub fn fit_connections(max_connections: usize, open_file_limit: Option<u64>) -> usize {
    let Some(limit) = open_file_limit else {
        return max_connections;
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED))
        .unwrap_or(usize::MAX)
        .max(1);
    if max_connections <= room {
        return max_connections;
    }
    tracing::warn!(
        max_connections,
        open_file_limit = limit,
        serving_at_most = room,
        "host.max_connections does not fit the open-file limit (LimitNOFILE= in a systemd unit, ulimit -Hn in a \
         shell): connections are capped lower so that the server keeps descriptors for /healthz and itself"
    );
    room
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_the_reserve_free() {
        assert_eq!(fit_connections(10_000, Some(1 << 20)), 10_000);
        assert_eq!(fit_connections(10_000, Some(1024)), 1024 - RESERVED as usize);
        assert_eq!(fit_connections(10_000, Some(100)), 1, "never zero");
        assert_eq!(fit_connections(10_000, None), 10_000);
    }
}
