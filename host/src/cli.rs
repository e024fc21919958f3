//! The command line. Every flag has an `ASTRA_*` environment equivalent, so the same
//! binary can be configured by a service manager without a wrapper script.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::limits::Limits;
use crate::config::units::{ByteSize, Span};

#[derive(Parser, Debug)]
#[command(
    name = "astra-host",
    version,
    about = "Serve many untrusted Astra Lua web apps, each in its own WebAssembly sandbox",
    long_about = "Serve many untrusted Astra Lua web apps, each in its own WebAssembly sandbox.\n\n\
        Every sub-folder of --apps is an app named after it, started from its init.lua and \
        reached at http://<name>.localhost:<port>/ (and <name>.<domain> for each --domain). \
        An app's astra.toml may set `entry`, `env` and lower `[limits]`; more host names and \
        higher limits are granted by the operator's --config file.\n\n\
        Each app runs in its own Lua 5.4 interpreter compiled to WebAssembly: it sees only its \
        own folder (read-only, at /app) and its data folder (writable, the current directory), \
        and a crash, endless loop or memory bomb fails only that app's request.",
    after_help = "Examples:\n  \
        astra-host --apps ./apps                     serve every app in ./apps on 127.0.0.1:8080\n  \
        astra-host --apps ./apps --domain example.com  also serve <name>.example.com\n  \
        astra-host --apps ./apps --config host.toml  limits and host names from an operator config\n  \
        astra-host run app.lua                       one app, on its server.hostname:server.port\n  \
        astra-host export ./apps/shop                editor type definitions for an app folder"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Folder of apps to serve: each sub-folder is one app.
    #[arg(long, env = "ASTRA_APPS", value_name = "DIR")]
    pub apps: Option<PathBuf>,

    #[command(flatten)]
    pub host: HostArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one script, like `astra run`: a server listens on its own server.hostname and
    /// server.port; a script that never calls server:run() runs to its end, printing to
    /// standard output, and exits non-zero on an uncaught error.
    Run {
        /// The script, or a folder holding an init.lua; the folder it is in is the app
        /// folder [default: ./init.lua].
        target: Option<PathBuf>,
        /// Given to the script as arg[2], arg[3], ... (after `--`).
        #[arg(last = true, value_name = "ARGS")]
        arguments: Vec<String>,
    },
    /// Write LuaLS type definitions of the API (.astra/astra.d.lua) and a .luarc.json, for editors.
    Export {
        /// Where to write them.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Args, Debug, Clone)]
pub struct HostArgs {
    /// The operator's config file (TOML): host-wide `[limits]` (flags override them) and,
    /// per app, `[apps.<name>]` `hosts` and `limits` granted beyond the host-wide ones.
    #[arg(global = true, long, env = "ASTRA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080; for `run`, the script's server.hostname:server.port].
    #[arg(global = true, long, env = "ASTRA_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Also serve app <name> at <name>.DOMAIN (repeatable).
    #[arg(global = true, long = "domain", env = "ASTRA_DOMAINS", value_name = "DOMAIN", value_delimiter = ',')]
    pub domains: Vec<String>,

    /// The app that answers requests for host names no app claims (otherwise: 404).
    #[arg(global = true, long, env = "ASTRA_DEFAULT_APP", value_name = "NAME")]
    pub default_app: Option<String>,

    /// Where each app's writable data folder is made [default: ./.astra-data/<app>; for `run`, the current folder].
    #[arg(global = true, long, env = "ASTRA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where the compiled guest is cached [default: $XDG_CACHE_HOME/astra-host or ~/.cache/astra-host].
    #[arg(global = true, long, env = "ASTRA_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// A PEM file of CA certificates apps' https requests also trust, besides the system's
    /// (an internal CA, say).
    #[arg(global = true, long, env = "ASTRA_TLS_CA", value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// Compile the guest at every start instead of caching it.
    #[arg(global = true, long, env = "ASTRA_NO_CACHE")]
    pub no_cache: bool,

    /// Instances alive at once over all apps, reserved up front by the pooling allocator
    /// [default: 2000; for `run`, the app's max_instances].
    #[arg(global = true, long, env = "ASTRA_INSTANCE_SLOTS", value_name = "N")]
    pub instance_slots: Option<u32>,

    /// Instances idle this long are released (one per app stays warm), e.g. 60s.
    #[arg(global = true, long, env = "ASTRA_IDLE_TIMEOUT", value_name = "TIME", default_value = "60s")]
    pub idle_timeout: Span,

    /// Time a client may take to send a request's headers; also how long an idle
    /// keep-alive connection stays open, e.g. 30s.
    #[arg(
        global = true,
        long,
        env = "ASTRA_HEADER_TIMEOUT",
        value_name = "TIME",
        default_value = "30s",
        value_parser = span_above_zero
    )]
    pub header_timeout: Span,

    /// Time a client may leave the host's response unread (no byte accepted) before its
    /// connection is closed, WebSockets included, e.g. 30s.
    #[arg(
        global = true,
        long,
        env = "ASTRA_WRITE_TIMEOUT",
        value_name = "TIME",
        default_value = "30s",
        value_parser = span_above_zero
    )]
    pub write_timeout: Span,

    /// Threads that run requests [default: one per core]. Long CPU-bound calls share all
    /// of them but one, so short requests always find one free.
    #[arg(global = true, long, env = "ASTRA_WORKERS", value_name = "N")]
    pub workers: Option<NonZeroUsize>,

    /// Allocate each instance's memory on demand instead of from a pre-reserved pool.
    #[arg(global = true, long, env = "ASTRA_NO_POOLING")]
    pub no_pooling: bool,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Host-wide defaults of the per-app limits. The operator config's `[apps.<name>.limits]`
/// moves them for one app; an app's own astra.toml `[limits]` may only lower them.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Limits (per app; --config may grant more, astra.toml may only lower)")]
pub struct LimitArgs {
    /// Memory of one instance, e.g. 64MiB. Lua gets a little less, so running out is a catchable error.
    #[arg(global = true, long, env = "ASTRA_MEMORY_LIMIT", value_name = "SIZE")]
    pub memory_limit: Option<ByteSize>,

    /// Time a request may spend running Lua code, e.g. 2s.
    #[arg(global = true, long, env = "ASTRA_CPU_TIME_LIMIT", value_name = "TIME")]
    pub cpu_time_limit: Option<Span>,

    /// Time a request may take in all, e.g. 30s.
    #[arg(global = true, long, env = "ASTRA_REQUEST_TIMEOUT", value_name = "TIME")]
    pub request_timeout: Option<Span>,

    /// Instances of one app alive at once (each serves one request at a time).
    #[arg(global = true, long, env = "ASTRA_MAX_INSTANCES", value_name = "N")]
    pub max_instances: Option<u32>,

    /// Requests of one app in flight or waiting; beyond this: 503 at once.
    #[arg(global = true, long, env = "ASTRA_MAX_CONCURRENT_REQUESTS", value_name = "N")]
    pub max_concurrent_requests: Option<u32>,

    /// Largest request body, decoded; a route's config may set a lower body_limit, e.g. 2MiB.
    #[arg(global = true, long, env = "ASTRA_BODY_LIMIT", value_name = "SIZE")]
    pub body_limit: Option<ByteSize>,

    /// Largest response body an app may send, e.g. 16MiB.
    #[arg(global = true, long, env = "ASTRA_RESPONSE_LIMIT", value_name = "SIZE")]
    pub response_limit: Option<ByteSize>,

    /// Most headers a request may carry; beyond: 431.
    #[arg(global = true, long, env = "ASTRA_MAX_HEADERS", value_name = "N")]
    pub max_headers: Option<u32>,

    /// Requests per second per app (token bucket); beyond: 429 [default: no limit].
    #[arg(global = true, long, env = "ASTRA_REQUESTS_PER_SECOND", value_name = "RATE")]
    pub requests_per_second: Option<f64>,

    /// Disk space an app's data folder may take; beyond, it is read-only until files are
    /// removed, e.g. 1GiB (not enforced for `run`, whose data folder is the current one).
    #[arg(global = true, long, env = "ASTRA_DATA_LIMIT", value_name = "SIZE")]
    pub data_limit: Option<ByteSize>,

    /// Log lines a second an app may write or cause (its prints, its errors, warnings about
    /// its responses), in bursts of as many; beyond, lines are dropped and counted, e.g. 1000.
    #[arg(global = true, long, env = "ASTRA_LOG_LINES_PER_SECOND", value_name = "N")]
    pub log_lines_per_second: Option<u32>,

    /// Log bytes a second an app may write or cause, in bursts of as many; beyond, lines
    /// are dropped and counted, e.g. 256KiB.
    #[arg(global = true, long, env = "ASTRA_LOG_BYTES_PER_SECOND", value_name = "SIZE")]
    pub log_bytes_per_second: Option<ByteSize>,

    /// Bytes of request and response bodies the host may hold for one app's clients at once
    /// (bodies read ahead, responses clients have not read yet); beyond: 503, e.g. 64MiB.
    #[arg(global = true, long, env = "ASTRA_BUFFER_LIMIT", value_name = "SIZE")]
    pub buffer_limit: Option<ByteSize>,

    /// Time a WebSocket handler may wait for its client's next message; then the socket is
    /// closed, e.g. 60s.
    #[arg(global = true, long, env = "ASTRA_WEBSOCKET_IDLE_TIMEOUT", value_name = "TIME")]
    pub websocket_idle_timeout: Option<Span>,

    /// Files one instance may hold open; beyond, the call stops (503) and the instance goes,
    /// e.g. 64.
    #[arg(global = true, long, env = "ASTRA_OPEN_FILES", value_name = "N")]
    pub open_files: Option<u32>,

    /// Connections one of an app's databases may have open at once, shared by the app's
    /// instances; a query waits for a free one, e.g. 8.
    #[arg(global = true, long, env = "ASTRA_DB_CONNECTIONS", value_name = "N")]
    pub db_connections: Option<u32>,

    /// Largest query result the host reads for an app; a larger one is a Lua error, e.g. 16MiB.
    #[arg(global = true, long, env = "ASTRA_SQL_RESULT_LIMIT", value_name = "SIZE")]
    pub sql_result_limit: Option<ByteSize>,

    /// HTTP requests (`http.request`) an app may have in flight at once; more wait, e.g. 16.
    #[arg(global = true, long, env = "ASTRA_OUTBOUND_REQUESTS", value_name = "N")]
    pub outbound_requests: Option<u32>,

    /// Time an HTTP request an app sends may take, redirects included, e.g. 30s.
    #[arg(global = true, long, env = "ASTRA_OUTBOUND_TIMEOUT", value_name = "TIME")]
    pub outbound_timeout: Option<Span>,

    /// Largest response body the host reads for an app's HTTP request; beyond, a Lua error,
    /// e.g. 16MiB.
    #[arg(global = true, long, env = "ASTRA_OUTBOUND_RESPONSE_LIMIT", value_name = "SIZE")]
    pub outbound_response_limit: Option<ByteSize>,

    /// Background tasks (`utils.spawn_*`) one instance may have at once, e.g. 64.
    #[arg(global = true, long, env = "ASTRA_MAX_TASKS", value_name = "N")]
    pub max_tasks: Option<u32>,

    /// The shortest interval of `utils.spawn_interval`; shorter ones are raised to it, e.g. 10ms.
    #[arg(global = true, long, env = "ASTRA_MIN_TASK_INTERVAL", value_name = "TIME")]
    pub min_task_interval: Option<Span>,
}

impl LimitArgs {
    /// `base` (the built-in defaults under the operator config's `[limits]`) with the flags
    /// given applied over it.
    pub fn apply_to(&self, base: &Limits) -> Result<Limits, String> {
        let limits = Limits {
            memory: self.memory_limit.unwrap_or(base.memory),
            cpu_time: self.cpu_time_limit.unwrap_or(base.cpu_time),
            request_timeout: self.request_timeout.unwrap_or(base.request_timeout),
            max_instances: self.max_instances.unwrap_or(base.max_instances),
            max_concurrent_requests: self
                .max_concurrent_requests
                .unwrap_or(base.max_concurrent_requests.max(self.max_instances.unwrap_or(0))),
            body_limit: self.body_limit.unwrap_or(base.body_limit),
            response_limit: self.response_limit.unwrap_or(base.response_limit),
            max_headers: self.max_headers.unwrap_or(base.max_headers),
            requests_per_second: self.requests_per_second.or(base.requests_per_second),
            data_limit: self.data_limit.unwrap_or(base.data_limit),
            log_lines_per_second: self.log_lines_per_second.unwrap_or(base.log_lines_per_second),
            log_bytes_per_second: self.log_bytes_per_second.unwrap_or(base.log_bytes_per_second),
            buffer_limit: self.buffer_limit.unwrap_or(base.buffer_limit),
            websocket_idle_timeout: self.websocket_idle_timeout.unwrap_or(base.websocket_idle_timeout),
            open_files: self.open_files.unwrap_or(base.open_files),
            db_connections: self.db_connections.unwrap_or(base.db_connections),
            sql_result_limit: self.sql_result_limit.unwrap_or(base.sql_result_limit),
            outbound_requests: self.outbound_requests.unwrap_or(base.outbound_requests),
            outbound_timeout: self.outbound_timeout.unwrap_or(base.outbound_timeout),
            outbound_response_limit: self.outbound_response_limit.unwrap_or(base.outbound_response_limit),
            max_tasks: self.max_tasks.unwrap_or(base.max_tasks),
            min_task_interval: self.min_task_interval.unwrap_or(base.min_task_interval),
        };
        limits.validate()?;
        Ok(limits)
    }
}

/// A zero header or write timeout would close every connection at once.
fn span_above_zero(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if span.0.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(span)
}
