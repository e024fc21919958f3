//! `astra:host/runtime`: the app's log lines and its shutdown request.

use wasmtime::Result;

use crate::bindings::astra::host::runtime::{Host, Level};
use crate::store::GuestState;

/// Longest log line an app may write; longer ones are cut, so an app cannot flood the
/// host's log with one call.
const MAX_LOG_LINE: usize = 16 * 1024;

impl Host for GuestState {
    fn log(&mut self, level: Level, message: String) -> Result<()> {
        let message = truncated(&message, MAX_LOG_LINE);
        let app = &*self.app;
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
