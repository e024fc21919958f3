//! What one instance's wasmtime store holds: the app's WASI view of the world, its
//! resource table, its memory cap and its CPU clock.
//!
//! The WASI context is where isolation is decided: the app folder is mounted read-only at
//! `/app`, the app's own data folder at `/data` (read-only while it is over its
//! `data_limit`), nothing at the root, and the environment holds only what the app's config
//! lists. Nothing else of the host exists for the guest. The guest lays the data folder over
//! the app folder into the one file view apps see (`guest-lua/src/view.rs`), so the seed's
//! `io.open("logs.txt", "a")` lands in the data folder.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::config::units::ByteSize;
use crate::sandbox::data_quota::DataQuota;
use crate::sandbox::scheduler::{CallClock, Lanes};
use crate::services::outbound_http::{OutboundHttpApp, OutboundHttpState, OutboundHttpView};
use crate::services::pubsub::{PubsubApp, PubsubState};
use crate::services::runtime::AppLog;
use crate::services::sql::{SqlApp, SqlState, SqlView};
use crate::services::tasks::{TaskState, TasksView};
use crate::shutdown::ShutdownSignal;

/// Everything needed to make an instance of one app.
pub struct InstanceSpec {
    pub app: Arc<str>,
    pub app_dir: PathBuf,
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
    /// The app folder's `.env` files, as (name, text): the instance loads them over `env`.
    pub env_files: Vec<(String, String)>,
    /// The zone of the app's local time (None: UTC).
    pub timezone: Option<crate::config::timezone::TimeZone>,
    pub memory: ByteSize,
    /// Files (and other WASI handles) the instance may hold open.
    pub open_files: u32,
    /// While over its limit, the data folder is mounted read-only.
    pub data_quota: Arc<DataQuota>,
    /// Told when the app calls `server:shutdown()`.
    pub shutdown: Arc<ShutdownSignal>,
    /// Shared by the app's instances: the app's log rate is counted as one.
    pub log: Arc<AppLog>,
    /// The app's databases, shared by its instances.
    pub sql: Arc<SqlApp>,
    /// The app's HTTP client.
    pub outbound_http: Arc<OutboundHttpApp>,
    /// The app's pub/sub topics, across its instances.
    pub pubsub: Arc<PubsubApp>,
}

pub struct GuestState {
    pub app: Arc<str>,
    /// Whether this instance may write to its data folder (see `data_quota`).
    pub data_writable: bool,
    pub data_quota: Arc<DataQuota>,
    /// The call was stopped because the data folder went over its limit.
    pub data_limit_hit: bool,
    wasi: WasiCtx,
    pub table: ResourceTable,
    pub memory: MemoryCap,
    pub clock: CallClock,
    pub shutdown: Arc<ShutdownSignal>,
    pub log: Arc<AppLog>,
    pub sql: SqlState,
    pub outbound_http: OutboundHttpState,
    pub tasks: TaskState,
    pub pubsub: PubsubState,
}

impl GuestState {
    pub fn new(spec: &InstanceSpec, lanes: Lanes) -> Result<GuestState> {
        let data_writable = !spec.data_quota.is_over();
        let data_perms = if data_writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
        let mut wasi = WasiCtx::builder();
        wasi.preopened_dir(&spec.app_dir, "/app", FsPerms::ReadOnly)?
            .preopened_dir(&spec.data_dir, "/data", data_perms)?
            .envs(&spec.env)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        Ok(GuestState {
            app: spec.app.clone(),
            data_writable,
            data_quota: spec.data_quota.clone(),
            data_limit_hit: false,
            wasi: wasi.build(),
            table: handle_table(spec.open_files),
            memory: MemoryCap { limit: spec.memory.as_usize(), refused: false },
            clock: CallClock::new(lanes),
            shutdown: spec.shutdown.clone(),
            log: spec.log.clone(),
            sql: SqlState::new(spec.sql.clone()),
            outbound_http: OutboundHttpState::new(spec.outbound_http.clone()),
            tasks: TaskState::default(),
            pubsub: PubsubState::new(spec.pubsub.clone()),
        })
    }

    pub fn sql_view(&mut self) -> SqlView<'_> {
        SqlView { state: &self.sql, table: &mut self.table, clock: &mut self.clock }
    }

    pub fn outbound_http_view(&mut self) -> OutboundHttpView<'_> {
        OutboundHttpView { state: &self.outbound_http, clock: &mut self.clock }
    }

    pub fn tasks_view(&mut self) -> TasksView<'_> {
        TasksView { state: &mut self.tasks, clock: &mut self.clock }
    }
}

/// Entries the guest holds whatever it does: its two folders, standard streams, the
/// request and socket of a call, pollables while it waits.
const BASE_HANDLES: usize = 16;

/// Entries a file Lua reads or writes takes: its descriptor and the stream it is read or
/// written through.
const HANDLES_PER_FILE: usize = 2;

/// The most entries an instance's table holds, and so the most host descriptors it can
/// hold (only a file's descriptor is one).
pub fn max_handles(open_files: u32) -> usize {
    BASE_HANDLES + HANDLES_PER_FILE * open_files as usize
}

/// Every file the guest opens is a descriptor of the host's, held in this table: its
/// capacity bounds them (an app held 19,966 files open, and the host could no longer
/// accept connections). A push past it traps, which `instance` reports as the limit.
fn handle_table(open_files: u32) -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(max_handles(open_files));
    table
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The instance's hard memory cap. It remembers a refusal, so that a trap that follows
/// (an allocation failure outside Lua's own limit) can be reported as the memory limit.
pub struct MemoryCap {
    limit: usize,
    pub refused: bool,
}

/// Table elements an instance may hold; Lua needs a few hundred.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        let allowed = desired <= self.limit;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
