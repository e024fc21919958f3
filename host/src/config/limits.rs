//! Per-app resource limits. Host-wide defaults come from the operator (built in, then the
//! operator config's `[limits]`, then flags and `ASTRA_*` variables); the operator config's
//! `[apps.<name>.limits]` moves them either way for one app; the app's own `astra.toml`
//! may only lower what it is given.
//!
//! Defaults are chosen for untrusted code that still has to serve real pages: enough
//! memory for a Lua app with caches, a CPU budget far above any honest request, and
//! concurrency caps that stop one app from taking every core. The README gives the
//! reasoning for each.

use std::fmt;
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
    /// Log lines a second the app may write or cause (a token bucket holding one second's worth).
    pub log_lines_per_second: u32,
    /// Log bytes a second the app may write or cause, as above.
    pub log_bytes_per_second: ByteSize,
    /// Bytes of request and response bodies the host may hold for the app's clients at once.
    pub buffer_limit: ByteSize,
    /// Time a WebSocket handler may wait for the client's next message.
    pub websocket_idle_timeout: Span,
    /// Files (and other WASI handles) one instance may hold open.
    pub open_files: u32,
    /// Connections one of the app's databases may have open at once (its instances share them).
    pub db_connections: u32,
    /// Largest query result the host reads for the app.
    pub sql_result_limit: ByteSize,
    /// HTTP requests the app may have in flight at once (`http.request`).
    pub outbound_requests: u32,
    /// Time an HTTP request the app sends may take, redirects included.
    pub outbound_timeout: Span,
    /// Largest response body the host reads for one of the app's HTTP requests.
    pub outbound_response_limit: ByteSize,
    /// Background tasks (`utils.spawn_*`) one instance may have at once.
    pub max_tasks: u32,
    /// The shortest interval of `utils.spawn_interval`; shorter ones are raised to it.
    pub min_task_interval: Span,
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
            log_bytes_per_second: ByteSize::kib(256),
            buffer_limit: ByteSize::mib(64),
            websocket_idle_timeout: Span(Duration::from_secs(60)),
            open_files: 64,
            db_connections: 8,
            sql_result_limit: ByteSize::mib(16),
            outbound_requests: 16,
            outbound_timeout: Span(Duration::from_secs(30)),
            outbound_response_limit: ByteSize::mib(16),
            max_tasks: 64,
            min_task_interval: Span(Duration::from_millis(10)),
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
        if self.log_bytes_per_second < ByteSize::kib(1) {
            return Err("limits.log_bytes_per_second must be at least 1KiB".into());
        }
        if self.cpu_time.0.is_zero() || self.request_timeout.0.is_zero() || self.websocket_idle_timeout.0.is_zero() {
            return Err(
                "limits.cpu_time, limits.request_timeout and limits.websocket_idle_timeout must be above zero".into()
            );
        }
        for (key, size) in [("body_limit", self.body_limit), ("response_limit", self.response_limit)] {
            if size > self.buffer_limit {
                return Err(format!(
                    "limits.buffer_limit ({}) must be at least limits.{key} ({size}): a body of that size must fit",
                    self.buffer_limit
                ));
            }
        }
        if self.open_files == 0 {
            return Err("limits.open_files must be at least 1".into());
        }
        if self.db_connections == 0 {
            return Err("limits.db_connections must be at least 1".into());
        }
        if self.sql_result_limit < ByteSize::kib(1) {
            return Err("limits.sql_result_limit must be at least 1KiB".into());
        }
        if self.outbound_requests == 0 || self.outbound_timeout.0.is_zero() {
            return Err("limits.outbound_requests and limits.outbound_timeout must be above zero".into());
        }
        Ok(())
    }
}

/// Who wrote a `[limits]` table, and so which way it may move a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority {
    /// The operator's config file: any value, above or below the host-wide default.
    Operator,
    /// An app's own `astra.toml`: lower only. The app folder is the tenant's, and a tenant
    /// that could raise its limits would have none.
    App,
}

/// The `[limits]` table of `astra.toml` or of the operator's config, as written.
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
    pub log_bytes_per_second: Option<String>,
    pub buffer_limit: Option<String>,
    pub websocket_idle_timeout: Option<String>,
    pub open_files: Option<u32>,
    pub db_connections: Option<u32>,
    pub sql_result_limit: Option<String>,
    pub outbound_requests: Option<u32>,
    pub outbound_timeout: Option<String>,
    pub outbound_response_limit: Option<String>,
    pub max_tasks: Option<u32>,
    pub min_task_interval: Option<String>,
}

/// The outcome of applying an app's table: its limits, and a note for each value it asked
/// for that was above what it is given (and so not applied).
pub struct Applied {
    pub limits: Limits,
    pub refused_raises: Vec<String>,
}

impl LimitsTable {
    /// `base` with this table's values applied as `authority` may; an error names the key.
    pub fn apply(&self, base: &Limits, authority: Authority) -> Result<Applied, String> {
        let mut limits = base.clone();
        let mut setter = Setter { authority, refused_raises: Vec::new() };
        setter.set(&mut limits.memory, "memory", parsed("memory", &self.memory)?);
        setter.set(&mut limits.cpu_time, "cpu_time", parsed("cpu_time", &self.cpu_time)?);
        setter.set(&mut limits.request_timeout, "request_timeout", parsed("request_timeout", &self.request_timeout)?);
        setter.set(&mut limits.body_limit, "body_limit", parsed("body_limit", &self.body_limit)?);
        setter.set(&mut limits.response_limit, "response_limit", parsed("response_limit", &self.response_limit)?);
        setter.set(&mut limits.data_limit, "data_limit", parsed("data_limit", &self.data_limit)?);
        setter.set(&mut limits.max_headers, "max_headers", self.max_headers);
        setter.set(&mut limits.max_instances, "max_instances", self.max_instances);
        setter.set(&mut limits.max_concurrent_requests, "max_concurrent_requests", self.max_concurrent_requests);
        setter.set(&mut limits.log_lines_per_second, "log_lines_per_second", self.log_lines_per_second);
        let log_bytes = parsed("log_bytes_per_second", &self.log_bytes_per_second)?;
        setter.set(&mut limits.log_bytes_per_second, "log_bytes_per_second", log_bytes);
        setter.set(&mut limits.buffer_limit, "buffer_limit", parsed("buffer_limit", &self.buffer_limit)?);
        let idle = parsed("websocket_idle_timeout", &self.websocket_idle_timeout)?;
        setter.set(&mut limits.websocket_idle_timeout, "websocket_idle_timeout", idle);
        setter.set(&mut limits.open_files, "open_files", self.open_files);
        setter.set(&mut limits.db_connections, "db_connections", self.db_connections);
        setter.set(
            &mut limits.sql_result_limit,
            "sql_result_limit",
            parsed("sql_result_limit", &self.sql_result_limit)?,
        );
        setter.set(&mut limits.outbound_requests, "outbound_requests", self.outbound_requests);
        let timeout = parsed("outbound_timeout", &self.outbound_timeout)?;
        setter.set(&mut limits.outbound_timeout, "outbound_timeout", timeout);
        let response = parsed("outbound_response_limit", &self.outbound_response_limit)?;
        setter.set(&mut limits.outbound_response_limit, "outbound_response_limit", response);
        setter.set(&mut limits.max_tasks, "max_tasks", self.max_tasks);
        // A longer interval is the lower limit: an app may raise this one, not lower it.
        if let Some(interval) = parsed::<Span>("min_task_interval", &self.min_task_interval)? {
            if authority == Authority::App && interval < limits.min_task_interval {
                let given = limits.min_task_interval;
                setter.refused_raises.push(format!(
                    "limits.min_task_interval = {interval} is below the {given} this app is given, which applies"
                ));
            } else {
                limits.min_task_interval = interval;
            }
        }
        if let Some(rate) = self.requests_per_second {
            // No rate limit at all is the most an app can have.
            match base.requests_per_second {
                Some(given) if authority == Authority::App && rate > given => {
                    setter.refuse("requests_per_second", rate, given);
                }
                _ => limits.requests_per_second = Some(rate),
            }
        }
        limits.validate()?;
        Ok(Applied { limits, refused_raises: setter.refused_raises })
    }
}

struct Setter {
    authority: Authority,
    refused_raises: Vec<String>,
}

impl Setter {
    fn set<T: PartialOrd + fmt::Display>(&mut self, slot: &mut T, key: &str, value: Option<T>) {
        match value {
            Some(value) if self.authority == Authority::App && value > *slot => self.refuse(key, value, &*slot),
            Some(value) => *slot = value,
            None => {}
        }
    }

    fn refuse(&mut self, key: &str, asked: impl fmt::Display, given: impl fmt::Display) {
        self.refused_raises
            .push(format!("limits.{key} = {asked} is above the {given} this app is given, which applies"));
    }
}

fn parsed<T: std::str::FromStr<Err = String>>(key: &str, text: &Option<String>) -> Result<Option<T>, String> {
    text.as_deref().map(str::parse).transpose().map_err(|e| format!("limits.{key}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(toml: &str) -> LimitsTable {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn errors_name_the_key() {
        let error = table("memory = 'lots'").apply(&Limits::default(), Authority::App).err().unwrap();
        assert!(error.starts_with("limits.memory:"), "{error}");
        let error = table("memory = '1MiB'").apply(&Limits::default(), Authority::Operator).err().unwrap();
        assert!(error.contains("4MiB"), "{error}");
    }

    #[test]
    fn an_app_may_lower_its_limits_but_not_raise_them() {
        let given = Limits::default();
        let applied = table("cpu_time = '1h'\nmemory = '32MiB'\nmax_instances = 100000\ndata_limit = '1TiB'")
            .apply(&given, Authority::App);
        let error = applied.err().unwrap();
        assert!(error.contains("limits.data_limit"), "TiB is not a unit: {error}");

        let applied = table("cpu_time = '1h'\nmemory = '32MiB'\nmax_instances = 100000\nrequests_per_second = 5.0")
            .apply(&given, Authority::App)
            .unwrap();
        assert_eq!(applied.limits.memory, ByteSize::mib(32), "lowered");
        assert_eq!(applied.limits.cpu_time, given.cpu_time, "a raise is not applied");
        assert_eq!(applied.limits.max_instances, given.max_instances);
        assert_eq!(applied.limits.requests_per_second, Some(5.0), "no limit at all is the most there is");
        assert_eq!(
            applied.refused_raises,
            [
                "limits.cpu_time = 1h is above the 2s this app is given, which applies",
                "limits.max_instances = 100000 is above the 8 this app is given, which applies",
            ]
        );
    }

    #[test]
    fn the_operator_may_raise_limits() {
        let applied = table("cpu_time = '1h'\nmax_instances = 100").apply(&Limits::default(), Authority::Operator);
        let applied = applied.unwrap();
        assert_eq!(applied.limits.cpu_time, Span(Duration::from_secs(3600)));
        assert_eq!(applied.limits.max_instances, 100);
        assert!(applied.refused_raises.is_empty());

        let given = Limits { requests_per_second: Some(10.0), ..Limits::default() };
        let applied = table("requests_per_second = 50.0").apply(&given, Authority::App).unwrap();
        assert_eq!(applied.limits.requests_per_second, Some(10.0));
        assert_eq!(applied.refused_raises.len(), 1);
    }

    #[test]
    fn lua_limit_stays_below_the_instance_cap() {
        let limits = Limits { memory: ByteSize::mib(64), ..Limits::default() };
        assert_eq!(limits.lua_memory(), ByteSize::mib(58));
        let small = Limits { memory: ByteSize::mib(8), ..Limits::default() };
        assert_eq!(small.lua_memory(), ByteSize::mib(6));
    }

    #[test]
    fn every_key_of_the_table_moves_its_limit() {
        let toml = "memory = '32MiB'\ncpu_time = '1s'\nrequest_timeout = '10s'\nbody_limit = '1MiB'\n\
            response_limit = '8MiB'\nmax_headers = 50\nrequests_per_second = 5.0\nmax_instances = 4\n\
            max_concurrent_requests = 100\ndata_limit = '512MiB'\nlog_lines_per_second = 100\n\
            log_bytes_per_second = '128KiB'\nbuffer_limit = '32MiB'\nwebsocket_idle_timeout = '30s'\n\
            open_files = 32\ndb_connections = 4\nsql_result_limit = '8MiB'\noutbound_requests = 8\n\
            outbound_timeout = '5s'\noutbound_response_limit = '8MiB'\nmax_tasks = 16\n\
            min_task_interval = '100ms'\n";
        let applied = table(toml).apply(&Limits::default(), Authority::App).unwrap();
        let expected = Limits {
            memory: ByteSize::mib(32),
            cpu_time: Span(Duration::from_secs(1)),
            request_timeout: Span(Duration::from_secs(10)),
            max_instances: 4,
            max_concurrent_requests: 100,
            body_limit: ByteSize::mib(1),
            response_limit: ByteSize::mib(8),
            max_headers: 50,
            requests_per_second: Some(5.0),
            data_limit: ByteSize::mib(512),
            log_lines_per_second: 100,
            log_bytes_per_second: ByteSize::kib(128),
            buffer_limit: ByteSize::mib(32),
            websocket_idle_timeout: Span(Duration::from_secs(30)),
            open_files: 32,
            db_connections: 4,
            sql_result_limit: ByteSize::mib(8),
            outbound_requests: 8,
            outbound_timeout: Span(Duration::from_secs(5)),
            outbound_response_limit: ByteSize::mib(8),
            max_tasks: 16,
            min_task_interval: Span(Duration::from_millis(100)),
        };
        assert_eq!(applied.limits, expected);
        assert!(applied.refused_raises.is_empty());
    }
}
