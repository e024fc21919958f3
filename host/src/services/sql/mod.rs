//! `astra:host/sql`: Astra's `database` module, with the connections on the host.
//!
//! Three lifetimes, as every service has them:
//! - `SqlApp`, one per app version: its open databases (one pool per SQLite file or
//!   PostgreSQL URL, shared by the app's instances), its limits and its network rules;
//! - `DatabaseState`, one per `database.new` handle an instance holds;
//! - `SqlView`, what a call borrows of the instance (its handles, its CPU clock).
//!
//! The rules live apart from the protocol: `policy` places SQLite paths, `services::net`
//! decides where PostgreSQL may be reached; `sqlite` and `postgres` only run statements.
//! Every call waits without the app's CPU time and gives back its long-call lane first, as
//! a WebSocket `recv` does.

mod pg_text;
pub mod policy;
mod pool;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use wasmtime::component::{HasData, Resource, ResourceTable};

use crate::bindings::astra::host::sql::{self, Error, Kind, Options};
use crate::config::limits::Limits;
use crate::config::units::ByteSize;
use crate::sandbox::data_quota::DataQuota;
use crate::sandbox::scheduler::CallClock;
use crate::services::net::EgressPolicy;

pub use crate::bindings::astra::host::sql::Value;

/// Databases one app may have open at once, across its instances. With `db_connections`
/// each, this bounds the connections (and so the descriptors) an app can make the host hold.
pub const MAX_DATABASES: usize = 16;

/// What the host gives one app version for SQL.
pub struct SqlApp {
    app: Arc<str>,
    data_dir: PathBuf,
    egress: Arc<EgressPolicy>,
    data_quota: Arc<DataQuota>,
    connections: u32,
    result_limit: usize,
    data_limit: ByteSize,
    memory_limit: ByteSize,
    statement_timeout: Duration,
    /// Shared databases by key (`sqlite:<path>`, `postgres:<url>`), while any handle holds one.
    shared: Mutex<HashMap<String, Weak<Database>>>,
    /// Every database open, shared or in memory: its length is what `MAX_DATABASES` bounds.
    open: Mutex<Vec<Weak<Database>>>,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(Box<postgres::Postgres>),
}

/// One open database; handles share it through an `Arc`, and it closes with the last.
struct Database {
    backend: Backend,
    /// For messages: the path in the data folder, or the server.
    label: String,
}

impl SqlApp {
    pub fn new(
        app: Arc<str>,
        data_dir: PathBuf,
        egress: Arc<EgressPolicy>,
        data_quota: Arc<DataQuota>,
        limits: &Limits,
    ) -> SqlApp {
        SqlApp {
            app,
            data_dir,
            egress,
            data_quota,
            connections: limits.db_connections,
            result_limit: limits.sql_result_limit.as_usize(),
            data_limit: limits.data_limit,
            memory_limit: limits.memory,
            statement_timeout: limits.request_timeout.0,
            shared: Mutex::default(),
            open: Mutex::default(),
        }
    }

    async fn open(&self, kind: Kind, target: String, options: Options) -> Result<Arc<Database>, Error> {
        let key = match kind {
            _ if target == ":memory:" && kind == Kind::Sqlite => None,
            Kind::Sqlite => Some(format!("sqlite:{}", policy::sqlite_path(&target).map_err(Error::Denied)?.display())),
            Kind::Postgres => Some(format!("postgres:{target}")),
        };
        if let Some(key) = &key
            && let Some(open) =
                self.shared.lock().unwrap_or_else(PoisonError::into_inner).get(key).and_then(Weak::upgrade)
        {
            return Ok(open);
        }
        self.check_room()?;
        let connections = options.max_connections.unwrap_or(10).clamp(1, self.connections);
        let (backend, label) = match kind {
            Kind::Sqlite if key.is_none() => {
                let memory = sqlite::Sqlite::open_memory(self.memory_limit.0, self.result_limit).await?;
                (Backend::Sqlite(memory), ":memory:".to_string())
            }
            Kind::Sqlite => {
                let place = policy::sqlite_path(&target).map_err(Error::Denied)?;
                let label = place.display();
                let file = sqlite::Sqlite::open_file(
                    &self.data_dir,
                    &place,
                    options.immutable,
                    connections,
                    self.data_limit.0,
                    self.result_limit,
                )
                .await
                .map_err(|e| with_context(e, &label))?;
                (Backend::Sqlite(file), label)
            }
            Kind::Postgres => {
                let server = postgres::Postgres::open(
                    &self.app,
                    &target,
                    &options.runtime_parameters,
                    connections,
                    self.egress.clone(),
                )
                .await?;
                (Backend::Postgres(Box::new(server)), "PostgreSQL".to_string())
            }
        };
        let database = Arc::new(Database { backend, label });
        self.open.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::downgrade(&database));
        if let Some(key) = key {
            // Two instances may have opened the same file at once; the later one wins the
            // slot, and both pools work on the file safely.
            self.shared.lock().unwrap_or_else(PoisonError::into_inner).insert(key, Arc::downgrade(&database));
        }
        Ok(database)
    }

    fn check_room(&self) -> Result<(), Error> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|database| database.strong_count() > 0);
        self.shared.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, database| database.strong_count() > 0);
        if open.len() >= MAX_DATABASES {
            return Err(limit(format!(
                "the app already has {MAX_DATABASES} databases open; close one (db:close()) before opening another"
            )));
        }
        Ok(())
    }

    async fn run(&self, database: &Database, call: SqlCall) -> Result<Option<Rows>, Error> {
        let outcome = match &database.backend {
            Backend::Sqlite(sqlite) => sqlite.run(call, self.data_quota.is_over(), self.statement_timeout).await,
            Backend::Postgres(postgres) => postgres.run(call).await,
        };
        match outcome {
            Ok(Some(rows)) if rows.over_limit => Err(limit(format!(
                "the result is larger than the app's sql_result_limit of {}",
                ByteSize(self.result_limit as u64)
            ))),
            other => other,
        }
    }
}

/// The SQL side of one instance: the app's databases.
pub struct SqlState {
    app: Arc<SqlApp>,
}

impl SqlState {
    pub fn new(app: Arc<SqlApp>) -> SqlState {
        SqlState { app }
    }
}

/// A `database.new` handle; `None` once closed.
pub struct DatabaseState(Option<Arc<Database>>);

/// What a SQL call borrows of its instance.
pub struct SqlView<'a> {
    pub state: &'a SqlState,
    pub table: &'a mut ResourceTable,
    pub clock: &'a mut CallClock,
}

/// Names `SqlView` as the data `sql::add_to_linker` hands to each call.
pub struct Sql;

impl HasData for Sql {
    type Data<'a> = SqlView<'a>;
}

/// A statement to run: `max_rows` is none for `execute`.
pub struct SqlCall {
    pub sql: String,
    pub params: Vec<Value>,
    pub max_rows: Option<usize>,
    pub result_limit: usize,
}

/// Rows read so far, and their size against the app's limit.
pub struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    bytes: usize,
    limit: usize,
    over_limit: bool,
}

impl Rows {
    fn new(columns: Vec<String>, limit: usize) -> Rows {
        let bytes = columns.iter().map(String::len).sum();
        Rows { columns, rows: Vec::new(), bytes, limit, over_limit: bytes > limit }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    /// Adds a row; false (and nothing added) once the result would pass the limit.
    fn push(&mut self, row: Vec<Value>) -> bool {
        self.bytes += row.iter().map(value_size).sum::<usize>();
        self.over_limit = self.bytes > self.limit;
        if !self.over_limit {
            self.rows.push(row);
        }
        !self.over_limit
    }
}

/// What a value costs the guest to receive: its bytes and its slot.
fn value_size(value: &Value) -> usize {
    16 + match value {
        Value::Text(text) | Value::Json(text) => text.len(),
        Value::Blob(bytes) => bytes.len(),
        _ => 0,
    }
}

fn failed(message: impl ToString) -> Error {
    Error::Failed(message.to_string())
}

fn invalid(message: impl ToString) -> Error {
    Error::Invalid(message.to_string())
}

fn limit(message: impl ToString) -> Error {
    Error::Limit(message.to_string())
}

fn with_context(error: Error, label: &str) -> Error {
    match error {
        Error::Failed(message) => Error::Failed(format!("{label}: {message}")),
        other => other,
    }
}

impl sql::Host for SqlView<'_> {}

impl sql::HostDatabase for SqlView<'_> {
    async fn open(
        &mut self,
        kind: Kind,
        target: String,
        options: Options,
    ) -> wasmtime::Result<Result<Resource<DatabaseState>, Error>> {
        self.clock.release();
        let app = self.state.app.clone();
        match app.open(kind, target, options).await {
            Ok(database) => Ok(Ok(self.table.push(DatabaseState(Some(database)))?)),
            Err(error) => Ok(Err(error)),
        }
    }

    async fn execute(
        &mut self,
        this: Resource<DatabaseState>,
        sql: String,
        params: Vec<Value>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.run(this, SqlCall { sql, params, max_rows: None, result_limit: 0 }).await?.map(|_| ()))
    }

    async fn query(
        &mut self,
        this: Resource<DatabaseState>,
        sql: String,
        params: Vec<Value>,
        max_rows: Option<u32>,
    ) -> wasmtime::Result<Result<sql::Rows, Error>> {
        let max_rows = max_rows.map_or(usize::MAX, |n| n as usize);
        let call = SqlCall { sql, params, max_rows: Some(max_rows), result_limit: self.state.app.result_limit };
        Ok(self.run(this, call).await?.map(|rows| {
            let rows = rows.unwrap_or_else(|| Rows::new(Vec::new(), 0));
            sql::Rows { columns: rows.columns, rows: rows.rows }
        }))
    }

    fn close(&mut self, this: Resource<DatabaseState>) -> wasmtime::Result<()> {
        self.table.get_mut(&this)?.0 = None;
        Ok(())
    }

    fn drop(&mut self, this: Resource<DatabaseState>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl SqlView<'_> {
    async fn run(
        &mut self,
        this: Resource<DatabaseState>,
        call: SqlCall,
    ) -> wasmtime::Result<Result<Option<Rows>, Error>> {
        self.clock.release();
        let Some(database) = self.table.get(&this)?.0.clone() else {
            return Ok(Err(invalid("the connection is closed")));
        };
        let app = self.state.app.clone();
        Ok(app.run(&database, call).await.map_err(|e| with_context(e, &database.label)))
    }
}
