//! Forwards the plugin's `tracing` events and panic messages to the host's log.
//!
//! A cdylib has its own copy of `tracing`'s global dispatcher, empty unless someone sets it; pointers to the host's
//! `Dispatch` must not cross the boundary (docs/architecture.md, "Logging"). So at `init` the SDK installs, inside
//! the plugin, a subscriber whose only job is to format each event and hand the line to `HostServices.log`.
//! Libraries the plugin uses log through the same dispatcher, so their lines arrive too. The host tags them with
//! the plugin's name.

use std::fmt::Write as _;

use tracing::{field::Field, Event, Level, Subscriber};
use tracing_subscriber::{filter::LevelFilter, layer::Context, prelude::*, Layer};

use crate::host::{Host, LogLevel};

struct ForwardLayer {
    host: Host,
}

/// Collects an event's `message` and its other fields as `key=value`.
#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

impl tracing::field::Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

fn to_host_level(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

fn to_level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Trace => LevelFilter::TRACE,
    }
}

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = LineVisitor::default();
        event.record(&mut line);
        line.message.push_str(&line.fields);
        let metadata = event.metadata();
        self.host
            .log(to_host_level(metadata.level()), metadata.target(), &line.message);
    }
}

/// Installs the forwarding subscriber and panic hook. Idempotent in effect: a second call (a plugin initialised
/// twice in one process) keeps the first subscriber, which forwards to the same host.
pub(crate) fn install(host: Host) {
    let subscriber = tracing_subscriber::registry()
        .with(to_level_filter(host.max_log_level()))
        .with(ForwardLayer { host });
    let _ = tracing::subscriber::set_global_default(subscriber);

    std::panic::set_hook(Box::new(move |info| {
        host.log(LogLevel::Error, "panic", &info.to_string());
    }));
}
