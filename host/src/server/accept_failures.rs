//! What a listener does when `accept` fails: out of descriptors (`EMFILE`, `ENFILE`), a connection reset before
//! it was taken. Retrying at once would spin and fill the log hundreds of lines a second, so the loop pauses
//! (longer when descriptors ran out: only a closing connection frees one) and the log gets one line a second at
//! most, with how many failures it stands for.

use std::time::{Duration, Instant};

/// How often a run of failures is logged.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// The failures of one listener.
pub struct AcceptFailures {
    listener: &'static str,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptFailures {
    pub fn new(listener: &'static str) -> AcceptFailures {
        AcceptFailures {
            listener,
            last_logged: None,
            unlogged: 0,
        }
    }

    /// Notes a failure (logged if none was for [`LOG_EVERY`]) and returns how long to pause before accepting again.
    pub fn failed(&mut self, error: &std::io::Error) -> Duration {
        self.unlogged += 1;
        if self.last_logged.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            tracing::warn!(
                listener = self.listener,
                failures = self.unlogged,
                "accept failed: {error}"
            );
            self.last_logged = Some(Instant::now());
            self.unlogged = 0;
        }
        let out_of_descriptors =
            matches!(error.raw_os_error(), Some(code) if code == libc::EMFILE || code == libc::ENFILE);
        if out_of_descriptors {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(10)
        }
    }
}
