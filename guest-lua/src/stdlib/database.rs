//! `require("database")`: Astra's SQL driver, with the connections on the host
//! (`wit/sql.wit`). This half turns Lua values into parameters and rows into Lua tables,
//! as Astra's driver does: the sequence part of `params` is bound in order (it stops at the
//! first nil), tables go as JSON, NULL columns are absent from the row, blobs come back as
//! lists of bytes and JSON columns as Lua values. Two differences, both to lose nothing:
//! REAL columns are doubles (Astra reads them through f32), and a string that is not UTF-8
//! is bound as a blob rather than with its bad bytes replaced.

use std::cell::RefCell;

use mlua::{Lua, Table, UserData, UserDataMethods, Value};

use crate::astra::host::sql::{self, Database, Kind, Options};

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;
    module.set("new", lua.create_function(new)?)?;
    Ok(module)
}

/// A `database.new` handle; `None` once closed.
struct Handle(RefCell<Option<Database>>);

fn new(_: &Lua, (kind, target, options): (String, String, Option<Table>)) -> mlua::Result<Handle> {
    let kind = match kind.as_str() {
        "sqlite" => Kind::Sqlite,
        "postgres" => Kind::Postgres,
        _ => return Err(mlua::Error::runtime("Could not recognize the database type")),
    };
    let options = options_from(options.as_ref())?;
    let target = match kind {
        Kind::Sqlite if target == ":memory:" => target,
        // The file view decides where a relative path is: the host gets it absolute.
        Kind::Sqlite => crate::view::ViewPath::parse(&target).map_err(|e| call_error("new", e))?.shown(),
        Kind::Postgres => target,
    };
    let database = Database::open(kind, &target, &options).map_err(|e| call_error("new", describe(e)))?;
    Ok(Handle(RefCell::new(Some(database))))
}

fn options_from(options: Option<&Table>) -> mlua::Result<Options> {
    let mut parsed = Options { max_connections: None, immutable: false, runtime_parameters: Vec::new() };
    let Some(options) = options else { return Ok(parsed) };
    for key in ["extensions", "extensions_with_entrypoint"] {
        if options.get::<Option<Table>>(key)?.is_some_and(|list| list.raw_len() > 0) {
            return Err(call_error(
                "new",
                format!("options.{key}: loading SQLite extensions (native code) is not allowed in astra-host"),
            ));
        }
    }
    parsed.max_connections = options.get::<Option<u32>>("max_connections")?;
    parsed.immutable = options.get::<Option<bool>>("is_immutable")?.unwrap_or(false);
    if let Some(list) = options.get::<Option<Table>>("other_options")? {
        for pair in list.sequence_values::<Table>() {
            let pair = pair?;
            let name = pair.get::<Option<String>>("name")?.or(pair.get::<Option<String>>(1)?);
            let value = pair.get::<Option<String>>("value")?.or(pair.get::<Option<String>>(2)?);
            match (name, value) {
                (Some(name), Some(value)) => parsed.runtime_parameters.push((name, value)),
                _ => return Err(call_error("new", "options.other_options: each entry is {name, value}")),
            }
        }
    }
    Ok(parsed)
}

impl UserData for Handle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("execute", |lua, this, (sql, params): (String, Option<Table>)| {
            let params = params_from(lua, params.as_ref())?;
            this.with("execute", |database| database.execute(&sql, &params))
        });
        methods.add_method("query_one", |lua, this, (sql, params): (String, Option<Table>)| {
            let params = params_from(lua, params.as_ref())?;
            let rows = this.with("query_one", |database| database.query(&sql, &params, Some(1)))?;
            rows_to_lua(lua, rows).map(|list| list.get::<Value>(1))?
        });
        methods.add_method("query_all", |lua, this, (sql, params): (String, Option<Table>)| {
            let params = params_from(lua, params.as_ref())?;
            let rows = this.with("query_all", |database| database.query(&sql, &params, None))?;
            rows_to_lua(lua, rows)
        });
        methods.add_method("query_pragma_int", |_, this, sql: String| {
            match first_value(this, "query_pragma_int", &sql)? {
                None | Some(sql::Value::Null) => Ok(None),
                Some(sql::Value::Integer(n)) => i32::try_from(n)
                    .map(Some)
                    .map_err(|_| call_error("query_pragma_int", format!("{n} does not fit a 32-bit integer"))),
                Some(other) => {
                    Err(call_error("query_pragma_int", format!("the value is {}, not an integer", kind_of(&other))))
                }
            }
        });
        methods.add_method("query_pragma_text", |_, this, sql: String| {
            match first_value(this, "query_pragma_text", &sql)? {
                None | Some(sql::Value::Null) => Ok(None),
                Some(sql::Value::Text(text) | sql::Value::Json(text)) => Ok(Some(text)),
                Some(sql::Value::Integer(n)) => Ok(Some(n.to_string())),
                Some(sql::Value::Real(x)) => Ok(Some(x.to_string())),
                Some(other) => {
                    Err(call_error("query_pragma_text", format!("the value is {}, not text", kind_of(&other))))
                }
            }
        });
        methods.add_method("close", |_, this, ()| {
            if let Some(database) = this.0.borrow_mut().take() {
                database.close();
            }
            Ok(())
        });
    }
}

impl Handle {
    fn with<T>(&self, call: &str, run: impl FnOnce(&Database) -> Result<T, sql::Error>) -> mlua::Result<T> {
        let open = self.0.borrow();
        let database = open.as_ref().ok_or_else(|| mlua::Error::runtime("The connection is closed"))?;
        run(database).map_err(|e| call_error(call, describe(e)))
    }
}

fn first_value(handle: &Handle, call: &str, sql: &str) -> mlua::Result<Option<sql::Value>> {
    let rows = handle.with(call, |database| database.query(sql, &[], Some(1)))?;
    Ok(rows.rows.into_iter().next().and_then(|row| row.into_iter().next()))
}

/// The sequence part of `params`, as Astra binds it.
fn params_from(lua: &Lua, params: Option<&Table>) -> mlua::Result<Vec<sql::Value>> {
    let Some(params) = params else { return Ok(Vec::new()) };
    let mut values = Vec::new();
    for index in 1.. {
        let value = match params.raw_get::<Value>(index)? {
            Value::Nil => break,
            Value::Integer(n) => sql::Value::Integer(n),
            Value::Number(x) => sql::Value::Real(x),
            Value::Boolean(b) => sql::Value::Boolean(b),
            Value::String(text) => match text.to_str() {
                Ok(text) => sql::Value::Text(text.to_string()),
                Err(_) => sql::Value::Blob(text.as_bytes().to_vec()),
            },
            table @ Value::Table(_) => {
                let json = crate::stdlib::serde::json::encode(lua, table)
                    .map_err(|_| mlua::Error::runtime("Unsupported table parameter: cannot serialize to JSON"))?;
                sql::Value::Json(String::from_utf8_lossy(&json).into_owned())
            }
            other => return Err(mlua::Error::runtime(format!("Unsupported parameter type: {}", other.type_name()))),
        };
        values.push(value);
    }
    Ok(values)
}

fn rows_to_lua(lua: &Lua, rows: sql::Rows) -> mlua::Result<Table> {
    let list = lua.create_table_with_capacity(rows.rows.len(), 0)?;
    let names: Vec<mlua::LuaString> =
        rows.columns.iter().map(|name| lua.create_string(name)).collect::<Result<_, _>>()?;
    for (index, row) in rows.rows.into_iter().enumerate() {
        let table = lua.create_table_with_capacity(0, names.len())?;
        for (name, value) in names.iter().zip(row) {
            let value = match value {
                sql::Value::Null => continue,
                sql::Value::Integer(n) => Value::Integer(n),
                sql::Value::Real(x) => Value::Number(x),
                sql::Value::Boolean(b) => Value::Boolean(b),
                sql::Value::Text(text) => Value::String(lua.create_string(&text)?),
                sql::Value::Blob(bytes) => Value::Table(lua.create_sequence_from(bytes)?),
                sql::Value::Json(text) => crate::stdlib::serde::json::decode(lua, text.as_bytes(), "a JSON column")?,
            };
            // Duplicate column names: the last wins, as in Astra.
            table.raw_set(name, value)?;
        }
        list.raw_set(index + 1, table)?;
    }
    Ok(list)
}

fn describe(error: sql::Error) -> String {
    match error {
        sql::Error::Denied(message) => format!("not allowed: {message}"),
        sql::Error::Limit(message) | sql::Error::Invalid(message) | sql::Error::Failed(message) => message,
    }
}

fn kind_of(value: &sql::Value) -> &'static str {
    match value {
        sql::Value::Null => "null",
        sql::Value::Integer(_) => "an integer",
        sql::Value::Real(_) => "a real",
        sql::Value::Text(_) => "text",
        sql::Value::Blob(_) => "a blob",
        sql::Value::Boolean(_) => "a boolean",
        sql::Value::Json(_) => "JSON",
    }
}

fn call_error(call: &str, message: impl std::fmt::Display) -> mlua::Error {
    let separator = if call == "new" { '.' } else { ':' };
    mlua::Error::runtime(format!("database{separator}{call}: {message}"))
}
