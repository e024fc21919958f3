//! PostgreSQL, reached through the app's network rules.
//!
//! The URL is parsed by tokio-postgres, but the host dials: one TCP host, checked against
//! what the app declared, resolved, and vetted address by address (`services::net`); a
//! Unix socket path would be a door into the host's file system and is refused. Statements
//! are prepared with their parameters' types (integer as int8, real as float8, text, bytea,
//! boolean, jsonb), as Astra's driver binds them, and kept per connection. A statement
//! still running when its call is dropped (the request's time ran out) is cancelled on the
//! server, and its connection is not reused.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use futures_util::StreamExt;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use tokio_postgres::{CancelToken, Client, NoTls, Statement};

use super::pool::Pool;
use super::{Rows, SqlCall, Value, failed, invalid, limit};
use crate::bindings::astra::host::sql::Error;
use crate::services::net::{self, ConnectError, EgressPolicy};

/// How long reaching the server may take, resolving and the startup exchange included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection; the cache is emptied when it is full.
const STATEMENT_CACHE: usize = 64;

pub struct Postgres {
    pool: Arc<Pool<Session>>,
    server: Server,
}

/// Where the server is and how to log in.
#[derive(Clone)]
struct Server {
    config: tokio_postgres::Config,
    host: String,
    port: u16,
    policy: Arc<EgressPolicy>,
}

struct Session {
    client: Client,
    statements: HashMap<(String, Vec<Type>), Statement>,
}

impl Postgres {
    /// Checks the URL and connects once, so that a wrong password or a refused server is an
    /// error of `database.new`.
    pub async fn open(
        app: &str,
        url: &str,
        runtime_parameters: &[(String, String)],
        max_connections: u32,
        policy: Arc<EgressPolicy>,
    ) -> Result<Postgres, Error> {
        let server = Server::parse(app, url, runtime_parameters, policy)?;
        let first = server.connect().await?;
        let pool = Arc::new(Pool::new(max_connections));
        pool.lease(async || Ok::<_, Error>(first)).await?.release();
        Ok(Postgres { pool, server })
    }

    pub async fn run(&self, call: SqlCall) -> Result<Option<Rows>, Error> {
        let server = self.server.clone();
        let mut lease = self.pool.lease(async || server.connect().await).await?;
        let session = lease.connection();
        let cancel = CancelOnDrop(Some((session.client.cancel_token(), self.server.clone())));
        let outcome = session.run(&call).await;
        cancel.disarm();
        if !session.client.is_closed() {
            lease.release();
        }
        outcome
    }
}

impl Server {
    fn parse(
        app: &str,
        url: &str,
        runtime_parameters: &[(String, String)],
        policy: Arc<EgressPolicy>,
    ) -> Result<Server, Error> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            invalid(format!("not a PostgreSQL URL ({e}); expected postgres://user:password@host:port/db"))
        })?;
        let host = match config.get_hosts() {
            [Host::Tcp(host)] => host.clone(),
            [Host::Unix(_)] => {
                return Err(Error::Denied("a PostgreSQL server is reached over TCP only, not by a socket path".into()));
            }
            [] => return Err(invalid("the PostgreSQL URL names no host")),
            _ => return Err(invalid("the PostgreSQL URL names several hosts; give one")),
        };
        if !config.get_hostaddrs().is_empty() {
            return Err(invalid("hostaddr is not supported: the host name is resolved and checked by astra-host"));
        }
        if config.get_ssl_mode() == SslMode::Require {
            return Err(invalid(
                "sslmode=require: TLS to PostgreSQL is not supported yet (use sslmode=prefer or disable)",
            ));
        }
        let port = match config.get_ports() {
            [] => 5432,
            [port] => *port,
            _ => return Err(invalid("the PostgreSQL URL names several ports; give one")),
        };
        let mut options = config.get_options().unwrap_or_default().to_string();
        for (name, value) in runtime_parameters {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
                return Err(invalid(format!("other_options: {name:?} is not a parameter name")));
            }
            let escaped = value.replace('\\', "\\\\").replace(' ', "\\ ");
            options.push_str(&format!(" -c {name}={escaped}"));
        }
        config.options(options.trim_start());
        if config.get_application_name().is_none() {
            config.application_name(format!("astra-host/{app}"));
        }
        Ok(Server { config, host, port, policy })
    }

    async fn connect(&self) -> Result<Session, Error> {
        let stream = self.dial().await?;
        let connecting = self.config.connect_raw(stream, NoTls);
        let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| {
                failed(format!("{}:{} did not answer the login within {CONNECT_TIMEOUT:?}", self.host, self.port))
            })?
            .map_err(|e| {
                failed(format!("cannot connect to PostgreSQL at {}:{}: {}", self.host, self.port, driver_message(&e)))
            })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Session { client, statements: HashMap::new() })
    }

    async fn dial(&self) -> Result<tokio::net::TcpStream, Error> {
        net::connect(&self.policy, "postgres", &self.host, self.port, CONNECT_TIMEOUT).await.map_err(|e| match e {
            ConnectError::Denied(denied) => Error::Denied(denied.0),
            other => failed(other.to_string()),
        })
    }
}

impl Session {
    async fn run(&mut self, call: &SqlCall) -> Result<Option<Rows>, Error> {
        let Some(max_rows) = call.max_rows else {
            if call.params.is_empty() {
                self.client.batch_execute(&call.sql).await.map_err(query_error)?;
            } else {
                let statement = self.prepare(call).await?;
                self.client.execute_raw(&statement, call.params.iter()).await.map_err(query_error)?;
            }
            return Ok(None);
        };
        let statement = self.prepare(call).await?;
        let columns: Vec<String> = statement.columns().iter().map(|column| column.name().to_string()).collect();
        let mut rows = Rows::new(columns, call.result_limit);
        let stream = self.client.query_raw(&statement, call.params.iter()).await.map_err(query_error)?;
        let mut stream = std::pin::pin!(stream);
        while rows.len() < max_rows
            && let Some(row) = stream.next().await
        {
            let row = row.map_err(query_error)?;
            let values = (0..row.len()).map(|i| column_value(&row, i)).collect::<Result<Vec<_>, _>>()?;
            if !rows.push(values) {
                break;
            }
        }
        Ok(Some(rows))
    }

    async fn prepare(&mut self, call: &SqlCall) -> Result<Statement, Error> {
        let types: Vec<Type> = call.params.iter().map(param_type).collect();
        let key = (call.sql.clone(), types);
        if let Some(statement) = self.statements.get(&key) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare_typed(&call.sql, &key.1).await.map_err(query_error)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(key, statement.clone());
        Ok(statement)
    }
}

/// Cancels the statement on the server when the call running it is dropped.
struct CancelOnDrop(Option<(CancelToken, Server)>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some((token, server)) = self.0.take() {
            tokio::spawn(async move {
                if let Ok(stream) = server.dial().await {
                    let _ = token.cancel_query_raw(stream, NoTls).await;
                }
            });
        }
    }
}

fn param_type(value: &Value) -> Type {
    match value {
        Value::Null => Type::UNKNOWN,
        Value::Integer(_) => Type::INT8,
        Value::Real(_) => Type::FLOAT8,
        Value::Text(_) => Type::TEXT,
        Value::Blob(_) => Type::BYTEA,
        Value::Boolean(_) => Type::BOOL,
        Value::Json(_) => Type::JSONB,
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(n) => n.to_sql(ty, out),
            Value::Real(x) => x.to_sql(ty, out),
            Value::Text(text) => text.as_str().to_sql(ty, out),
            Value::Blob(bytes) => bytes.as_slice().to_sql(ty, out),
            Value::Boolean(b) => b.to_sql(ty, out),
            Value::Json(text) => {
                if *ty == Type::JSONB {
                    out.put_u8(1);
                }
                out.put_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column's bytes as the server sent them, for the types read here by hand.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A column as Astra's driver reads it (integers, floats, booleans, text, bytes, JSON,
/// timestamps with a zone and UUIDs as text), and dates, timestamps and numerics as text
/// too, rather than losing them. Other types are an error that says how to cast.
fn column_value(row: &tokio_postgres::Row, index: usize) -> Result<Value, Error> {
    let ty = row.columns()[index].type_();
    let get = |e: tokio_postgres::Error| failed(format!("column {}: {e}", row.columns()[index].name()));
    let Some(Raw(raw)) = row.try_get::<_, Option<Raw>>(index).map_err(get)? else {
        return Ok(Value::Null);
    };
    let value = match *ty {
        Type::BOOL => Value::Boolean(bool::from_sql(ty, raw).map_err(decode)?),
        Type::INT2 => Value::Integer(i16::from_sql(ty, raw).map_err(decode)?.into()),
        Type::INT4 => Value::Integer(i32::from_sql(ty, raw).map_err(decode)?.into()),
        Type::INT8 => Value::Integer(i64::from_sql(ty, raw).map_err(decode)?),
        Type::OID => Value::Integer(u32::from_sql(ty, raw).map_err(decode)?.into()),
        Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw).map_err(decode)?.into()),
        Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw).map_err(decode)?),
        Type::BYTEA => Value::Blob(raw.to_vec()),
        Type::JSON => Value::Json(text(raw)?),
        Type::JSONB => Value::Json(text(raw.get(1..).unwrap_or_default())?),
        Type::UUID => Value::Text(super::pg_text::uuid(raw).map_err(decode)?),
        Type::TIMESTAMPTZ => Value::Text(super::pg_text::timestamp(raw, true).map_err(decode)?),
        Type::TIMESTAMP => Value::Text(super::pg_text::timestamp(raw, false).map_err(decode)?),
        Type::DATE => Value::Text(super::pg_text::date(raw).map_err(decode)?),
        Type::NUMERIC => Value::Text(super::pg_text::numeric(raw).map_err(decode)?),
        _ if <&str as FromSql>::accepts(ty) || matches!(ty.kind(), Kind::Enum(_)) => Value::Text(text(raw)?),
        _ => {
            let name = row.columns()[index].name();
            return Err(invalid(format!(
                "column {name} has type {ty}, which database cannot read: cast it in the query ({name}::text)"
            )));
        }
    };
    Ok(value)
}

fn text(raw: &[u8]) -> Result<String, Error> {
    String::from_utf8(raw.to_vec()).map_err(|_| failed("the server sent text that is not UTF-8"))
}

fn decode(error: Box<dyn StdError + Sync + Send>) -> Error {
    failed(format!("cannot read a value: {error}"))
}

fn query_error(error: tokio_postgres::Error) -> Error {
    if error.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) {
        return limit("the statement was cancelled: the request ran out of time");
    }
    failed(driver_message(&error))
}

/// The server's own message when there is one ("relation \"users\" does not exist"),
/// which tokio-postgres's Display hides behind "db error".
fn driver_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => db.message().to_string(),
        None => error.to_string(),
    }
}
