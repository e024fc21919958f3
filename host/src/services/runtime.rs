//! `astra:host/runtime`: the app's log lines and its shutdown request.
//!
//! The host's log is shared by every app, so each app's lines are rationed: a flood of
//! `print` calls (one request in a loop wrote 385,000 lines in its two seconds of CPU)
//! would bury everyone else's lines and fill the disk the log goes to.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::Result;

use crate::bindings::astra::host::runtime::{Host, Level};
use crate::rate::TokenBucket;
use crate::sandbox::store::GuestState;

/// Longest log line an app may write; longer ones are cut, so an app cannot flood the
/// host's log with one call.
const MAX_LOG_LINE: usize = 16 * 1024;

/// How often, at most, the count of an app's dropped lines is logged.
const COUNT_EVERY: Duration = Duration::from_secs(1);

/// One app's log rate: `log_lines_per_second`, in bursts of as many. Dropped lines are
/// counted: the first of a run is announced, and the count is given when lines pass
/// again, at most once a second, so the notices cannot become a flood of their own.
pub struct LogBudget {
    lines_per_second: u32,
    bucket: TokenBucket,
    /// Lines dropped since the last count was given, and when that was.
    dropped: Mutex<(u64, Instant)>,
}

impl LogBudget {
    pub fn new(lines_per_second: u32) -> LogBudget {
        LogBudget {
            lines_per_second,
            bucket: TokenBucket::new(f64::from(lines_per_second)),
            dropped: Mutex::new((0, Instant::now())),
        }
    }

    /// Whether `app` may write a line now.
    fn admit(&self, app: &str) -> bool {
        let rate = self.lines_per_second;
        let admitted = self.bucket.take().is_ok();
        let mut dropped = self.dropped.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, counted_at) = &mut *dropped;
        if !admitted {
            if *count == 0 {
                tracing::warn!("[{app}] logs more than {rate} lines a second (log_lines_per_second): dropping lines");
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
        let app = &*self.app;
        if !self.log_budget.admit(app) {
            return Ok(());
        }
        let message = truncated(&message, MAX_LOG_LINE);
        match level {
            Level::Debug => tracing::debug!(target: "app", "[{app}] {message}"),
            Level::Info => tracing::info!(target: "app", "[{app}] {message}"),
            Level::Warn => tracing::warn!(target: "app", "[{app}] {message}"),
            Level::Error => tracing::error!(target: "app", "[{app}] {message}"),
        }
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
