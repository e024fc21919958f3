//! `astra:host/runtime`: the app's log lines and its shutdown request; and `AppLog`, through
//! which every line an app writes or causes reaches the host's log.
//!
//! The host's log is shared by every app, so each app's lines are rationed, by count and by
//! bytes: a flood of `print` calls (one request in a loop wrote 385,000 lines in its two
//! seconds of CPU), of multi-line prints, of 8 MiB error messages or of warnings about
//! cookies the host drops would bury everyone else's lines and fill the disk the log goes
//! to. The app's words never forge a line: `logging` writes each record as one line.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::Result;

use crate::bindings::astra::host::runtime::{Host, Level};
use crate::config::limits::Limits;
use crate::rate::TokenBucket;
use crate::sandbox::store::GuestState;

/// Longest record an app may cause; longer ones are cut, so an app cannot flood the host's
/// log with one call.
const MAX_RECORD: usize = 16 * 1024;

/// How often, at most, the count of an app's dropped lines is logged.
const COUNT_EVERY: Duration = Duration::from_secs(1);

/// One app's log: its name on every line, and its budget.
pub struct AppLog {
    app: Arc<str>,
    budget: LogBudget,
    /// `astra-host run`: what the app prints goes to standard output as it is, as under
    /// `astra run`; the host's lines about it still go to the log.
    prints_to_stdout: bool,
}

impl AppLog {
    pub fn new(app: Arc<str>, limits: &Limits, prints_to_stdout: bool) -> AppLog {
        let budget = LogBudget::new(limits.log_lines_per_second, limits.log_bytes_per_second.0);
        AppLog { app, budget, prints_to_stdout }
    }

    pub fn app(&self) -> &str {
        &self.app
    }

    /// A line the app wrote itself (`print`), under the `app` log target.
    pub fn print(&self, level: Level, message: &str) {
        if self.prints_to_stdout {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{message}").and_then(|()| stdout.flush());
            return;
        }
        if !self.admit(level, "app", message) {
            return;
        }
        let (app, message) = (&*self.app, truncated(message, MAX_RECORD));
        match level {
            Level::Debug => tracing::debug!(target: "app", "[{app}] {message}"),
            Level::Info => tracing::info!(target: "app", "[{app}] {message}"),
            Level::Warn => tracing::warn!(target: "app", "[{app}] {message}"),
            Level::Error => tracing::error!(target: "app", "[{app}] {message}"),
        }
    }

    /// A line the host writes about something the app did (an error it raised, a header
    /// the host dropped): rationed as the app's own lines are.
    pub fn report(&self, level: Level, message: fmt::Arguments<'_>) {
        let message = message.to_string();
        if !self.admit(level, "astra_host", &message) {
            return;
        }
        let (app, message) = (&*self.app, truncated(&message, MAX_RECORD));
        match level {
            Level::Debug => tracing::debug!("[{app}] {message}"),
            Level::Info => tracing::info!("[{app}] {message}"),
            Level::Warn => tracing::warn!("[{app}] {message}"),
            Level::Error => tracing::error!("[{app}] {message}"),
        }
    }

    /// Lines the log filter would not write cost nothing.
    fn admit(&self, level: Level, target: &str, message: &str) -> bool {
        let enabled = match (level, target) {
            (Level::Debug, "app") => tracing::enabled!(target: "app", tracing::Level::DEBUG),
            (Level::Debug, _) => tracing::enabled!(tracing::Level::DEBUG),
            _ => true,
        };
        enabled && self.budget.admit(&self.app, message.len().min(MAX_RECORD))
    }
}

/// One app's log rate: `log_lines_per_second` lines and `log_bytes_per_second` bytes, in
/// bursts of as many. Dropped lines are counted: the first of a run is announced, and the
/// count is given when lines pass again, at most once a second, so the notices cannot
/// become a flood of their own.
struct LogBudget {
    lines: TokenBucket,
    bytes: TokenBucket,
    /// "1000 lines or 256KiB", for the notices.
    rate: String,
    /// Lines dropped since the last count was given, and when that was.
    dropped: Mutex<(u64, Instant)>,
}

impl LogBudget {
    fn new(lines_per_second: u32, bytes_per_second: u64) -> LogBudget {
        let rate = format!("{lines_per_second} lines or {}", crate::config::units::ByteSize(bytes_per_second));
        LogBudget {
            lines: TokenBucket::new(f64::from(lines_per_second)),
            bytes: TokenBucket::new(bytes_per_second as f64),
            rate,
            dropped: Mutex::new((0, Instant::now())),
        }
    }

    /// Whether `app` may write a line of `bytes` now.
    fn admit(&self, app: &str, bytes: usize) -> bool {
        let admitted = self.bytes.take_many(bytes as f64).is_ok() && self.lines.take().is_ok();
        let mut dropped = self.dropped.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, counted_at) = &mut *dropped;
        let rate = &self.rate;
        if !admitted {
            if *count == 0 {
                tracing::warn!(
                    "[{app}] logs more than {rate} a second (log_lines_per_second, log_bytes_per_second): dropping lines"
                );
            }
            *count += 1;
        } else if *count > 0 && counted_at.elapsed() >= COUNT_EVERY {
            tracing::warn!("[{app}] {count} log line(s) were dropped, over {rate} a second");
            (*count, *counted_at) = (0, Instant::now());
        }
        admitted
    }
}

impl Host for GuestState {
    fn log(&mut self, level: Level, message: String) -> Result<()> {
        self.log.print(level, &message);
        Ok(())
    }

    fn shutdown(&mut self) -> Result<()> {
        tracing::info!("[{}] the app asked to shut down", self.app);
        self.shutdown.request();
        Ok(())
    }
}

pub fn truncated(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= limit {
        return text.into();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end).into()
}
