//! Caps on open connections, overall and per client ([`crate::client::client_key`]), and the header and write
//! deadlines (docs/security.md, "Slow and many clients"). A connection over a cap is closed at once, before it
//! costs a task; one whose request header is still arriving `header_timeout` after its first byte is closed, and
//! so is one whose answer has waited `write_timeout` for the client to take a single byte of it.

use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::client::client_key;

/// The open connections, counted.
pub struct ConnectionSlots {
    max_total: usize,
    max_per_client: usize,
    state: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerClient,
}

/// Holds one slot until dropped.
pub struct Slot {
    slots: Arc<ConnectionSlots>,
    client: IpAddr,
}

impl ConnectionSlots {
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<ConnectionSlots> {
        Arc::new(ConnectionSlots {
            max_total,
            max_per_client,
            state: Mutex::new(Counts::default()),
        })
    }

    /// A slot for a connection from `ip`, unless a cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let client = client_key(ip);
        let mut counts = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.total >= self.max_total {
            return Err(Refused::Total);
        }
        let of_client = counts.per_client.entry(client).or_insert(0);
        if *of_client >= self.max_per_client {
            return Err(Refused::PerClient);
        }
        *of_client += 1;
        counts.total += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(of_client) = counts.per_client.get_mut(&self.client) {
            *of_client -= 1;
            if *of_client == 0 {
                counts.per_client.remove(&self.client);
            }
        }
    }
}

/// What a connection's watch reads: how many requests are being served, when the first byte of the next
/// request's header arrived (hyper's own header timer runs from the end of the previous response, so it serves as
/// the idle deadline; this one bounds a header that arrives byte by byte), and since when a write has waited for
/// the client to read (a client that pipelines requests and never reads the answers would otherwise hold its
/// connection for ever: no read deadline runs while hyper waits to write).
#[derive(Clone)]
pub struct Activity {
    inner: Arc<ActivityInner>,
}

struct ActivityInner {
    start: Instant,
    /// Milliseconds since `start`; [`NOT_SINCE`] when no header is arriving.
    header_started: AtomicU64,
    /// Milliseconds since `start` of the first write that found the client's window full since the last byte it
    /// took; [`NOT_SINCE`] when writes go through.
    write_blocked: AtomicU64,
    in_flight: AtomicUsize,
}

/// No such moment: nothing is waiting.
const NOT_SINCE: u64 = u64::MAX;

/// Marks a request as being served until dropped.
pub struct InFlight(Activity);

impl Activity {
    pub fn new() -> Activity {
        Activity {
            inner: Arc::new(ActivityInner {
                start: Instant::now(),
                header_started: AtomicU64::new(NOT_SINCE),
                write_blocked: AtomicU64::new(NOT_SINCE),
                in_flight: AtomicUsize::new(0),
            }),
        }
    }

    fn now_millis(&self) -> u64 {
        u64::try_from(self.inner.start.elapsed().as_millis()).unwrap_or(NOT_SINCE - 1)
    }

    /// Bytes arrived: when no request is being served, they are the start of the next one's header.
    fn received(&self) {
        if self.inner.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self.inner.header_started.compare_exchange(
                NOT_SINCE,
                self.now_millis(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// A request's header is complete and it is being served.
    pub fn request(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        self.inner.header_started.store(NOT_SINCE, Ordering::Release);
        InFlight(self.clone())
    }

    /// A write found the client's window full.
    fn write_waits(&self) {
        let _ = self.inner.write_blocked.compare_exchange(
            NOT_SINCE,
            self.now_millis(),
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// The client took bytes.
    fn written(&self) {
        self.inner.write_blocked.store(NOT_SINCE, Ordering::Release);
    }

    /// How long the header now arriving has been arriving; zero when none is.
    pub fn header_for(&self) -> Duration {
        self.since(&self.inner.header_started)
    }

    /// How long a write has waited for the client to take any byte; zero when writes go through.
    pub fn write_blocked_for(&self) -> Duration {
        self.since(&self.inner.write_blocked)
    }

    fn since(&self, moment: &AtomicU64) -> Duration {
        match moment.load(Ordering::Acquire) {
            NOT_SINCE => Duration::ZERO,
            started => Duration::from_millis(self.now_millis().saturating_sub(started)),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stream that tells [`Activity`] when bytes arrive.
pub struct Tracked<S> {
    stream: S,
    activity: Activity,
}

impl<S> Tracked<S> {
    pub fn new(stream: S, activity: Activity) -> Tracked<S> {
        Tracked { stream, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.received();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        match &polled {
            Poll::Pending => self.activity.write_waits(),
            Poll::Ready(Ok(written)) if *written > 0 => self.activity.written(),
            Poll::Ready(_) => {}
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_client_and_overall_and_free_on_drop() {
        let slots = ConnectionSlots::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let b_neighbour: IpAddr = "2001:db8::2".parse().unwrap();
        let first = slots.admit(a).unwrap();
        let _second = slots.admit(a).unwrap();
        assert_eq!(slots.admit(a).err(), Some(Refused::PerClient));
        let _third = slots.admit(b).unwrap();
        assert_eq!(slots.admit(b_neighbour).err(), Some(Refused::Total));
        drop(first);
        assert!(slots.admit(a).is_ok(), "a slot is freed when its connection ends");
    }

    #[test]
    fn a_header_is_timed_from_its_first_byte_until_its_request_is_served() {
        let activity = Activity::new();
        assert_eq!(
            activity.header_for(),
            Duration::ZERO,
            "no byte yet: idle, hyper's deadline"
        );
        activity.received();
        std::thread::sleep(Duration::from_millis(30));
        assert!(activity.header_for() >= Duration::from_millis(25));
        let serving = activity.request();
        assert_eq!(activity.header_for(), Duration::ZERO);
        activity.received();
        assert_eq!(
            activity.header_for(),
            Duration::ZERO,
            "body bytes of a request being served"
        );
        drop(serving);
    }

    #[test]
    fn a_write_is_timed_from_the_first_one_that_waits_until_the_client_takes_a_byte() {
        let activity = Activity::new();
        assert_eq!(activity.write_blocked_for(), Duration::ZERO);
        activity.write_waits();
        std::thread::sleep(Duration::from_millis(30));
        activity.write_waits();
        assert!(
            activity.write_blocked_for() >= Duration::from_millis(25),
            "timed from the first wait"
        );
        activity.written();
        assert_eq!(activity.write_blocked_for(), Duration::ZERO);
    }
}
