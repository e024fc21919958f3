//! `serde.csv.decode(text, options?)`: `{ headers = first record, body = the records }`,
//! each field read as a boolean, an integer, a float or else kept as its string.
//!
//! As in Astra, a record the reader rejects (a wrong field count when not `flexible`) is
//! left out rather than failing the whole document, and there is no encoder.

use mlua::{Lua, Table, Value};

/// The reader's buffer is the app's to size, up to this.
const MAX_BUFFER: usize = 1 << 20;

pub fn decode(lua: &Lua, (text, options): (mlua::LuaString, Option<Table>)) -> mlua::Result<Table> {
    let mut builder = csv::ReaderBuilder::new();
    if let Some(options) = &options {
        configure(&mut builder, options)?;
    }
    let bytes = text.as_bytes();
    let mut reader = builder.from_reader(&bytes[..]);
    let result = lua.create_table()?;
    if let Ok(headers) = reader.byte_headers()
        && !headers.is_empty()
    {
        result.set("headers", record(lua, headers)?)?;
    }
    let body = lua.create_table()?;
    for row in reader.byte_records().flatten() {
        body.raw_push(record(lua, &row)?)?;
    }
    result.set("body", body)?;
    Ok(result)
}

fn configure(builder: &mut csv::ReaderBuilder, options: &Table) -> mlua::Result<()> {
    if let Some(capacity) = options.get::<Option<usize>>("buffer_capacity")? {
        builder.buffer_capacity(capacity.clamp(1, MAX_BUFFER));
    }
    if let Some(byte) = first_byte(options, "delimiter")? {
        builder.delimiter(byte);
    }
    if let Some(byte) = first_byte(options, "quote")? {
        builder.quote(byte);
    }
    builder.escape(first_byte(options, "escape")?);
    builder.comment(first_byte(options, "comment")?);
    if let Some(flexible) = options.get::<Option<bool>>("flexible")? {
        builder.flexible(flexible);
    }
    if let Some(quoting) = options.get::<Option<bool>>("quoting")? {
        builder.quoting(quoting);
    }
    if let Some(double_quote) = options.get::<Option<bool>>("double_quote")? {
        builder.double_quote(double_quote);
    }
    if let Some(has_headers) = options.get::<Option<bool>>("has_headers")? {
        builder.has_headers(has_headers);
    }
    Ok(())
}

/// An option given as a one-character string; its first byte counts, as in Astra.
fn first_byte(options: &Table, name: &str) -> mlua::Result<Option<u8>> {
    match options.get::<Option<mlua::LuaString>>(name)? {
        None => Ok(None),
        Some(text) => match text.as_bytes().first() {
            Some(&byte) => Ok(Some(byte)),
            None => Err(mlua::Error::runtime(format!("serde.csv.decode: the {name} option is an empty string"))),
        },
    }
}

fn record(lua: &Lua, fields: &csv::ByteRecord) -> mlua::Result<Table> {
    lua.create_sequence_from(fields.iter().map(|field| typed(lua, field)).collect::<mlua::Result<Vec<_>>>()?)
}

/// `true`/`false`, then a whole number, then a finite float; anything else stays a string.
fn typed(lua: &Lua, field: &[u8]) -> mlua::Result<Value> {
    if let Ok(text) = std::str::from_utf8(field) {
        if let Ok(b) = text.parse::<bool>() {
            return Ok(Value::Boolean(b));
        }
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Integer(n));
        }
        if let Ok(n) = text.parse::<f64>()
            && n.is_finite()
        {
            return Ok(Value::Number(n));
        }
    }
    lua.create_string(field).map(Value::String)
}
