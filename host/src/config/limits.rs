//! Per-app resource limits: host-wide defaults (flags, `ASTRA_*` variables) that an app's
//! `astra.toml` `[limits]` table may override.
//!
//! Defaults are chosen for untrusted code that still has to serve real pages: enough
//! memory for a Lua app with caches, a CPU budget far above any honest request, and
//! concurrency caps that stop one app from taking every core. The README gives the
//! reasoning for each.

use std::time::Duration;

use serde::Deserialize;

use crate::config::units::{ByteSize, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Linear memory of one instance (wasmtime's hard cap).
    pub memory: ByteSize,
    /// Time a request may spend running Lua code.
    pub cpu_time: Span,
    /// Time a request may take in all, waiting on the host included.
    pub request_timeout: Span,
    /// Instances of the app alive at once; each serves one request at a time.
    pub max_instances: u32,
    /// Requests in flight or waiting for an instance; beyond this, 503 at once.
    pub max_concurrent_requests: u32,
    /// Largest request body a route accepts unless its config says otherwise.
    pub body_limit: ByteSize,
    /// Largest response body the app may send.
    pub response_limit: ByteSize,
    /// Most headers a request may carry.
    pub max_headers: u32,
    /// Sustained request rate (a token bucket holding one second's worth); none: no limit.
    pub requests_per_second: Option<f64>,
    /// Disk space the app's data folder may take (see `data_quota`).
    pub data_limit: ByteSize,
    /// Log lines a second the app may write (a token bucket holding one second's worth).
    pub log_lines_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: ByteSize::mib(64),
            cpu_time: Span(Duration::from_secs(2)),
            request_timeout: Span(Duration::from_secs(30)),
            max_instances: 8,
            max_concurrent_requests: 256,
            body_limit: ByteSize::mib(2),
            response_limit: ByteSize::mib(16),
            max_headers: 100,
            requests_per_second: None,
            data_limit: ByteSize::mib(1024),
            log_lines_per_second: 1000,
        }
    }
}

/// Memory kept outside the Lua allocator's limit for the Rust runtime, libc and the
/// wasm shadow stack, so that Lua runs out (a catchable error) before the instance does.
const RUNTIME_HEADROOM: ByteSize = ByteSize::mib(6);

impl Limits {
    pub fn lua_memory(&self) -> ByteSize {
        let headroom = RUNTIME_HEADROOM.0.min(self.memory.0 / 4);
        ByteSize(self.memory.0 - headroom)
    }

    /// Applies an app's `[limits]` table; an error names the key and what was wrong.
    pub fn overridden_by(&self, table: &LimitsTable) -> Result<Limits, String> {
        let mut limits = self.clone();
        set(&mut limits.memory, "memory", &table.memory)?;
        set(&mut limits.cpu_time, "cpu_time", &table.cpu_time)?;
        set(&mut limits.request_timeout, "request_timeout", &table.request_timeout)?;
        set(&mut limits.body_limit, "body_limit", &table.body_limit)?;
        set(&mut limits.response_limit, "response_limit", &table.response_limit)?;
        set(&mut limits.data_limit, "data_limit", &table.data_limit)?;
        if let Some(n) = table.max_headers {
            limits.max_headers = n;
        }
        if let Some(rate) = table.requests_per_second {
            limits.requests_per_second = Some(rate);
        }
        if let Some(n) = table.max_instances {
            limits.max_instances = n;
        }
        if let Some(n) = table.max_concurrent_requests {
            limits.max_concurrent_requests = n;
        }
        if let Some(n) = table.log_lines_per_second {
            limits.log_lines_per_second = n;
        }
        limits.validate()?;
        Ok(limits)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.memory < ByteSize::mib(4) {
            return Err(format!("limits.memory = {} is below the 4MiB a Lua instance needs", self.memory));
        }
        if self.max_instances == 0 {
            return Err("limits.max_instances must be at least 1".into());
        }
        if self.max_concurrent_requests < self.max_instances {
            return Err(format!(
                "limits.max_concurrent_requests ({}) must be at least limits.max_instances ({})",
                self.max_concurrent_requests, self.max_instances
            ));
        }
        if let Some(rate) = self.requests_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(format!("limits.requests_per_second = {rate} must be a number above zero"));
        }
        if self.log_lines_per_second == 0 {
            return Err("limits.log_lines_per_second must be at least 1".into());
        }
        if self.cpu_time.0.is_zero() || self.request_timeout.0.is_zero() {
            return Err("limits.cpu_time and limits.request_timeout must be above zero".into());
        }
        Ok(())
    }
}

fn set<T: std::str::FromStr<Err = String>>(slot: &mut T, key: &str, value: &Option<String>) -> Result<(), String> {
    if let Some(text) = value {
        *slot = text.parse().map_err(|e| format!("limits.{key}: {e}"))?;
    }
    Ok(())
}

/// The `[limits]` table of `astra.toml`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsTable {
    pub memory: Option<String>,
    pub cpu_time: Option<String>,
    pub request_timeout: Option<String>,
    pub body_limit: Option<String>,
    pub response_limit: Option<String>,
    pub max_headers: Option<u32>,
    pub requests_per_second: Option<f64>,
    pub max_instances: Option<u32>,
    pub max_concurrent_requests: Option<u32>,
    pub data_limit: Option<String>,
    pub log_lines_per_second: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_name_the_key() {
        let table = LimitsTable { memory: Some("lots".into()), ..Default::default() };
        let error = Limits::default().overridden_by(&table).unwrap_err();
        assert!(error.starts_with("limits.memory:"), "{error}");
    }

    #[test]
    fn lua_limit_stays_below_the_instance_cap() {
        let limits = Limits { memory: ByteSize::mib(64), ..Limits::default() };
        assert_eq!(limits.lua_memory(), ByteSize::mib(58));
        let small = Limits { memory: ByteSize::mib(8), ..Limits::default() };
        assert_eq!(small.lua_memory(), ByteSize::mib(6));
    }

    #[test]
    fn too_small_memory_is_refused() {
        let table = LimitsTable { memory: Some("1MiB".into()), ..Default::default() };
        assert!(Limits::default().overridden_by(&table).unwrap_err().contains("4MiB"));
    }
}
