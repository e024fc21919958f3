//! SQLite, run by the host on its blocking threads, on files in the app's data folder.
//!
//! Why on the host and not compiled into the guest: several instances of an app share one
//! file, and only the host's SQLite has the file locking and WAL shared memory that keep
//! concurrent writers from corrupting it. The price is that SQLite runs with the host's
//! authority, so everything that reaches a file by name is closed here:
//! - the database file is opened without following a link (`SQLITE_OPEN_NOFOLLOW`, and
//!   SQLite opens its journals with `O_NOFOLLOW`), its folders are checked to be real
//!   folders, and the guest component has no way to create a link (it does not import
//!   `symlink-at`);
//! - `ATTACH` and `VACUUM INTO` (which attaches its target) are refused, bar the nameless
//!   temporary database plain `VACUUM` uses, and so are the pragmas that name host folders
//!   or would undo the limits below;
//! - a database may grow to the app's `data_limit`, and while the data folder is over it
//!   connections are `query_only`; strings and blobs are capped at `sql_result_limit`;
//!   temporary tables stay in memory, under a process-wide heap cap;
//! - a statement stops at the app's `request_timeout`, or sooner when the call is dropped.
//!
//! A blocking thread costs a hand-off each way, several times what reading one indexed row
//! costs. So a read-only query outside a transaction first runs inline on an idle
//! connection, for at most `INLINE_BUDGET` and without waiting for a lock; if it needs
//! longer, it is stopped and run again on a blocking thread (reading twice changes nothing).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::policy::DataPath;
use super::pool::{Lease, Pool};
use super::{Rows, SqlCall, Value, failed, limit};
use crate::bindings::astra::host::sql::Error;

/// How long a writer waits for another connection's lock before "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a query may run on the runtime's own thread before it moves to a blocking one.
const INLINE_BUDGET: Duration = Duration::from_micros(200);

/// Memory all SQLite connections of the host may allocate together; beyond it a statement
/// fails with "out of memory" rather than the host running out.
const HEAP_LIMIT: i64 = 1 << 30;

/// Pragmas an app may read but not set: they name host folders, change process-wide
/// settings, or would undo a limit the host set.
const FIXED_PRAGMAS: &[&str] = &[
    "temp_store_directory",
    "data_store_directory",
    "max_page_count",
    "query_only",
    "hard_heap_limit",
    "soft_heap_limit",
    "threads",
    "temp_store",
    "cache_size",
    "mmap_size",
];

pub struct Sqlite {
    pool: Arc<Pool<Session>>,
    open: Open,
}

/// How a new connection is opened.
#[derive(Clone)]
enum Open {
    File {
        path: PathBuf,
        immutable: bool,
        max_bytes: u64,
        max_length: i32,
    },
    /// An in-memory database lives in its one connection, made at open.
    Memory,
}

/// A connection and what the host set on it.
struct Session {
    connection: Connection,
    query_only: bool,
    /// Lets the host's own pragmas past the authorizer.
    host_pragma: Arc<AtomicBool>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `place` in `data_dir`, checking the
    /// folders on the way; the first connection is made now, so a bad file is an error of
    /// `database.new`.
    pub async fn open_file(
        data_dir: &Path,
        place: &DataPath,
        immutable: bool,
        max_connections: u32,
        data_limit: u64,
        max_length: usize,
    ) -> Result<Sqlite, Error> {
        let path = place_in(data_dir, place, !immutable).map_err(Error::Denied)?;
        let open = Open::File { path, immutable, max_bytes: data_limit, max_length: clamp_length(max_length) };
        let database = Sqlite { pool: Arc::new(Pool::new(max_connections)), open };
        let opened = database.open.clone();
        let session = blocking(move || opened.connect()).await?;
        database.pool.lease(async || Ok::<_, Error>(session)).await?.release();
        Ok(database)
    }

    pub async fn open_memory(memory_limit: u64, max_length: usize) -> Result<Sqlite, Error> {
        let max_length = clamp_length(max_length);
        let session = blocking(move || {
            let connection = Connection::open_in_memory().map_err(failed)?;
            configure(connection, memory_limit, max_length, false)
        })
        .await?;
        let database = Sqlite { pool: Arc::new(Pool::new(1)), open: Open::Memory };
        database.pool.lease(async || Ok::<_, Error>(session)).await?.release();
        Ok(database)
    }

    /// Runs `call` on a connection: inline if it is a short read on an idle connection,
    /// else on a blocking thread. Dropping the returned future interrupts the statement;
    /// the connection goes back to the pool when it stops.
    pub async fn run(&self, call: SqlCall, read_only: bool, timeout: Duration) -> Result<Option<Rows>, Error> {
        if call.max_rows.is_some()
            && let Some(mut lease) = self.pool.try_lease_idle()
        {
            let session = lease.connection();
            if session.query_only == read_only
                && let Some(outcome) = session.run_inline(&call)
            {
                lease.release();
                return outcome.map_err(|error| explain(error, read_only, timeout));
            }
            lease.release();
        }
        let open = self.open.clone();
        let mut lease: Lease<Session> = self.pool.lease(async || blocking(move || open.connect()).await).await?;
        let interrupt = InterruptOnDrop(Some(lease.connection().connection.get_interrupt_handle()));
        let outcome = blocking(move || {
            let session = lease.connection();
            let outcome = session.set_query_only(read_only).and_then(|()| {
                let deadline = Instant::now() + timeout;
                session.connection.progress_handler(1000, Some(move || Instant::now() > deadline));
                let outcome = call.run_sqlite(&session.connection);
                session.connection.progress_handler(0, None::<fn() -> bool>);
                outcome.map_err(|error| explain(error, read_only, timeout))
            });
            lease.release();
            outcome
        })
        .await;
        interrupt.disarm();
        outcome
    }
}

impl Open {
    fn connect(&self) -> Result<Session, Error> {
        match self {
            Open::Memory => Err(failed("the in-memory database was lost")),
            Open::File { path, immutable, max_bytes, max_length } => {
                let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW;
                let connection = if *immutable {
                    flags |= OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
                    Connection::open_with_flags(immutable_uri(path), flags)
                } else {
                    flags |= OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
                    Connection::open_with_flags(path, flags)
                };
                configure(connection.map_err(failed)?, *max_bytes, *max_length, !*immutable)
            }
        }
    }
}

/// Sets a new connection up: limits first, then the authorizer that keeps them.
fn configure(connection: Connection, max_bytes: u64, max_length: i32, wal: bool) -> Result<Session, Error> {
    static HEAP: std::sync::Once = std::sync::Once::new();
    // SAFETY: a plain setter of SQLite's global allocator limit, safe from any thread.
    HEAP.call_once(|| unsafe {
        rusqlite::ffi::sqlite3_hard_heap_limit64(HEAP_LIMIT);
    });
    connection.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
    connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true).map_err(failed)?;
    connection.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_length).map_err(failed)?;
    if wal {
        connection.pragma_update(None, "journal_mode", "wal").map_err(failed)?;
        connection.pragma_update(None, "synchronous", "normal").map_err(failed)?;
    }
    let page_size: u64 = connection.pragma_query_value(None, "page_size", |row| row.get(0)).map_err(failed)?;
    let max_pages = (max_bytes / page_size.max(512)).max(1);
    for schema in ["main", "temp"] {
        connection.pragma_update(Some(schema), "max_page_count", max_pages).map_err(failed)?;
    }
    connection.pragma_update(None, "temp_store", "memory").map_err(failed)?;
    connection.pragma_update(None, "trusted_schema", false).map_err(failed)?;
    let host_pragma = Arc::new(AtomicBool::new(false));
    let host = host_pragma.clone();
    connection.authorizer(Some(move |context: AuthContext<'_>| authorize(&context, host.load(Ordering::Relaxed))));
    Ok(Session { connection, query_only: false, host_pragma })
}

fn authorize(context: &AuthContext<'_>, host_pragma: bool) -> Authorization {
    match context.action {
        // Plain VACUUM attaches a nameless temporary database; anything named is a file.
        AuthAction::Attach { filename } if !filename.is_empty() => Authorization::Deny,
        AuthAction::Pragma { pragma_name, pragma_value: Some(_) }
            if !host_pragma && FIXED_PRAGMAS.iter().any(|fixed| pragma_name.eq_ignore_ascii_case(fixed)) =>
        {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

impl Session {
    /// While the data folder is over its limit, nothing may be written.
    fn set_query_only(&mut self, on: bool) -> Result<(), Error> {
        if self.query_only == on {
            return Ok(());
        }
        self.host_pragma.store(true, Ordering::Relaxed);
        let set = self.connection.pragma_update(None, "query_only", on);
        self.host_pragma.store(false, Ordering::Relaxed);
        set.map_err(failed)?;
        self.query_only = on;
        Ok(())
    }

    /// Runs a read-only query here and now, if it is one and finishes within
    /// `INLINE_BUDGET` without waiting on a lock; none if it must go to a blocking thread.
    fn run_inline(&mut self, call: &SqlCall) -> Option<rusqlite::Result<Option<Rows>>> {
        let connection = &self.connection;
        let eligible = connection.is_autocommit()
            && connection.prepare_cached(&call.sql).is_ok_and(|statement| statement.readonly());
        if !eligible {
            return None;
        }
        let deadline = Instant::now() + INLINE_BUDGET;
        let expired = Arc::new(AtomicBool::new(false));
        let flag = expired.clone();
        connection.progress_handler(
            100,
            Some(move || {
                let late = Instant::now() > deadline;
                flag.store(late, Ordering::Relaxed);
                late
            }),
        );
        let no_wait = connection.busy_timeout(Duration::ZERO);
        let outcome = call.run_sqlite(connection);
        connection.progress_handler(0, None::<fn() -> bool>);
        if no_wait.is_err() || connection.busy_timeout(BUSY_TIMEOUT).is_err() {
            return None;
        }
        match outcome {
            Err(error)
                if expired.load(Ordering::Relaxed)
                    || error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                None
            }
            outcome => Some(outcome),
        }
    }
}

/// The driver's error, or the limit behind it.
fn explain(error: rusqlite::Error, read_only: bool, timeout: Duration) -> Error {
    use rusqlite::ErrorCode::*;
    match error.sqlite_error_code() {
        Some(OperationInterrupted) => {
            limit(format!("the statement ran past {} (request_timeout)", crate::config::units::Span(timeout)))
        }
        Some(ReadOnly) if read_only => {
            limit("the app's data folder is over its data_limit: the database is read-only until it is below")
        }
        Some(DiskFull) => limit(format!("{error} (the database may grow to the app's data_limit)")),
        Some(TooBig) => limit(format!("{error} (strings and blobs are capped at sql_result_limit)")),
        Some(AuthorizationForStatementDenied) => {
            Error::Denied("ATTACH, VACUUM INTO and pragmas that set host folders or limits are not allowed".into())
        }
        _ => failed(error),
    }
}

/// Interrupts a statement still running when the call that started it is dropped.
struct InterruptOnDrop(Option<rusqlite::InterruptHandle>);

impl InterruptOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| Err(failed(format!("the query stopped: {e}"))))
}

fn clamp_length(bytes: usize) -> i32 {
    i32::try_from(bytes).unwrap_or(i32::MAX)
}

/// The file's path, its folders made (in the data folder) and checked to be folders, not
/// links; the file itself must not be a link either.
fn place_in(data_dir: &Path, place: &DataPath, create: bool) -> Result<PathBuf, String> {
    let mut path = data_dir.to_path_buf();
    for folder in &place.folders {
        path.push(folder);
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Err(format!("{} is not a folder", place.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                std::fs::create_dir(&path)
                    .map_err(|e| format!("cannot create the folder of {}: {e}", place.display()))?;
            }
            Err(e) => return Err(format!("cannot open {}: {e}", place.display())),
        }
    }
    path.push(&place.file);
    match std::fs::symlink_metadata(&path) {
        Ok(metadata) if metadata.file_type().is_symlink() => Err(format!("{} is a link", place.display())),
        Ok(metadata) if !metadata.is_file() => Err(format!("{} is not a file", place.display())),
        _ => Ok(path),
    }
}

/// Bytes a `file:` URI must escape in a path: all but letters, digits and `/.-_`.
const URI_PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'.').remove(b'-').remove(b'_');

fn immutable_uri(path: &Path) -> String {
    let encoded: String = percent_encoding::utf8_percent_encode(&path.to_string_lossy(), URI_PATH).collect();
    format!("file:{encoded}?immutable=1")
}

impl SqlCall {
    fn run_sqlite(&self, connection: &Connection) -> rusqlite::Result<Option<Rows>> {
        let params = self.params.iter().map(sqlite_param);
        match &self.max_rows {
            None if self.params.is_empty() => connection.execute_batch(&self.sql).map(|()| None),
            None => connection.prepare(&self.sql)?.execute(rusqlite::params_from_iter(params)).map(|_| None),
            Some(max_rows) => {
                let mut statement = connection.prepare_cached(&self.sql)?;
                let columns: Vec<String> = statement.column_names().into_iter().map(String::from).collect();
                let width = columns.len();
                let mut rows = Rows::new(columns, self.result_limit);
                let mut cursor = statement.query(rusqlite::params_from_iter(params))?;
                while rows.len() < *max_rows
                    && let Some(row) = cursor.next()?
                {
                    let values = (0..width).map(|i| row.get_ref(i).map(from_sqlite)).collect::<Result<Vec<_>, _>>()?;
                    if !rows.push(values) {
                        break;
                    }
                }
                Ok(Some(rows))
            }
        }
    }
}

fn sqlite_param(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match value {
        Value::Null => Sql::Null,
        Value::Integer(n) => Sql::Integer(*n),
        Value::Real(x) => Sql::Real(*x),
        Value::Text(text) | Value::Json(text) => Sql::Text(text.clone()),
        Value::Blob(bytes) => Sql::Blob(bytes.clone()),
        Value::Boolean(b) => Sql::Integer(i64::from(*b)),
    }
}

/// A column as it is stored: REAL stays a double (Astra reads it through f32), and text
/// that is not UTF-8 comes back as its bytes rather than with replaced characters.
fn from_sqlite(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Value::Text(text.to_string()),
            Err(_) => Value::Blob(bytes.to_vec()),
        },
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
    }
}
