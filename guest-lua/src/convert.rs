//! Conversions between Lua values and what crosses the boundary: route return values into
//! response bodies, path parameters into numbers.

use mlua::{Lua, Table, Value};

use crate::astra::host::types::BodyKind;
use crate::errors::plain;
use crate::exports::astra::host::app::{LuaError, Response};
use crate::http::response::ResponseState;

/// The callback's return value, as Astra reads it: nil is an empty body, a string is
/// text, a list of byte numbers is binary, any other table is JSON.
pub fn into_response(lua: &Lua, state: ResponseState, returned: Value) -> Result<Response, LuaError> {
    let (body, body_kind) = match &returned {
        Value::Nil => (Vec::new(), None),
        Value::String(s) => (s.as_bytes().to_vec(), Some(BodyKind::Text)),
        Value::Integer(_) | Value::Number(_) | Value::Boolean(_) => {
            (describe(&returned).into_bytes(), Some(BodyKind::Text))
        }
        Value::Table(table) => match byte_list(table) {
            Some(bytes) => (bytes, Some(BodyKind::Bytes)),
            None => {
                let json = crate::stdlib::serde::json::encode(lua, returned.clone()).map_err(|e| {
                    plain(format!("the route callback returned a table that cannot be sent as JSON: {e}"))
                })?;
                (json, Some(BodyKind::Json))
            }
        },
        other => {
            return Err(plain(format!(
                "the route callback returned a {}; expected nil, a string or a table",
                other.type_name()
            )));
        }
    };
    Ok(Response { status: state.status, headers: state.headers, cookies: state.cookies, body_kind, body })
}

/// A non-empty sequence whose every value is a whole number from 0 to 255.
pub fn byte_list(table: &Table) -> Option<Vec<u8>> {
    let len = table.raw_len();
    // Most tables are JSON: rule them out on the first element before walking them.
    if len == 0 || !matches!(table.raw_get::<Value>(1), Ok(Value::Integer(0..=255))) {
        return None;
    }
    if table.pairs::<Value, Value>().count() != len {
        return None;
    }
    table
        .sequence_values::<Value>()
        .map(|value| match value.ok()? {
            Value::Integer(n) => u8::try_from(n).ok(),
            Value::Number(n) if n.fract() == 0.0 && (0.0..=255.0).contains(&n) => Some(n as u8),
            _ => None,
        })
        .collect()
}

/// Path parameters that read as numbers become numbers, as in Astra.
pub fn number_or_string(lua: &Lua, text: &str) -> mlua::Result<Value> {
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Value::Integer(n));
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && text.bytes().any(|b| b.is_ascii_digit()) => Ok(Value::Number(n)),
        _ => lua.create_string(text).map(Value::String),
    }
}

/// A value as Lua's `tostring` would show a scalar.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.1}"),
        Value::Number(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) => format!("{:?}", s.to_string_lossy()),
        Value::Nil => "nil".into(),
        other => other.type_name().into(),
    }
}
