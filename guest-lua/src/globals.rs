//! Astra 0.52's globals: `print` as it formats, `getenv`/`setenv`/`dotenv_load`, `_RUNTIME`, `MAIN_SCRIPT`,
//! `CURRENT_SCRIPT`, `arg`; the Lua half (the seed's `Astra`, `pprint`, the LuaJIT shim) is
//! in `lua/prelude.lua`.
//!
//! Astra prints with mlua's pretty `Debug`, so the same mlua here could print alike with
//! `format!("{value:#?}")`; but that recurses on the Rust stack without a bound, and a table
//! nested 200,000 deep would overflow the instance's stack. So tables are walked here, as
//! mlua walks them, to `MAX_DEPTH`, and everything else is mlua's own formatting.

use std::collections::HashSet;
use std::ffi::c_void;
use std::fmt::Write as _;

use mlua::{Lua, MultiValue, Table, Value};

use crate::astra::host::runtime::{self, Level};
use crate::stdlib::utils;

/// The Astra API version this guest implements.
pub const API_VERSION: (u32, u32, u32) = (0, 52, 0);

/// Tables nested deeper than this print as `table: 0x...`, as ones already printed do.
const MAX_DEPTH: usize = 200;

/// What the host tells an instance about how it was started.
pub struct Script<'a> {
    /// The entry script, as `MAIN_SCRIPT` and `arg[1]`.
    pub entry: &'a str,
    /// `arg[2]`, ...
    pub arguments: &'a [String],
}

pub fn install(lua: &Lua, script: &Script<'_>) -> mlua::Result<()> {
    let globals = lua.globals();
    let print = lua.create_function(|_, values: MultiValue| {
        runtime::log(Level::Info, &print_line(&values));
        Ok(())
    })?;
    globals.set("pprint", &print)?;
    globals.set("print", print)?;
    globals.set("getenv", lua.create_function(utils::get_env)?)?;
    globals.set("setenv", lua.create_function(utils::set_env)?)?;
    globals.set("dotenv_load", lua.create_function(utils::dotenv_load)?)?;
    globals.set("_RUNTIME", runtime_table(lua)?)?;
    globals.set("MAIN_SCRIPT", script.entry)?;
    globals.set("CURRENT_SCRIPT", script.entry)?;
    let arg =
        lua.create_sequence_from(std::iter::once(script.entry).chain(script.arguments.iter().map(String::as_str)))?;
    globals.set("arg", arg)?;
    let astra: Table = globals.get("Astra")?;
    astra.set("main_script", script.entry)?;
    astra.set("current_script", script.entry)?;
    Ok(())
}

/// `_RUNTIME`, as Astra 0.52 has it, naming astra-host and the API version it implements
/// (which is what apps compare), with astra-host's own version beside.
fn runtime_table(lua: &Lua) -> mlua::Result<Table> {
    let (major, minor, patch) = API_VERSION;
    let semantic = lua.create_table()?;
    semantic.set("major", major)?;
    semantic.set("minor", minor)?;
    semantic.set("patch", patch)?;
    let version = lua.create_table()?;
    version.set("display", format!("{major}.{minor}.{patch}"))?;
    version.set("semantic", semantic)?;
    let host = lua.create_table()?;
    host.set("name", "astra-host")?;
    host.set("version", env!("CARGO_PKG_VERSION"))?;
    let runtime = lua.create_table()?;
    runtime.set("name", "astra-host")?;
    runtime.set("url", "https://astra.arkforge.net")?;
    runtime.set("version", version)?;
    runtime.set("host", host)?;
    Ok(runtime)
}

/// One call of `print`: each value followed by a space; strings as they are, anything
/// else pretty-printed.
pub fn print_line(values: &MultiValue) -> String {
    let mut line = String::new();
    for value in values {
        match value {
            Value::String(text) => line.push_str(&text.to_string_lossy()),
            Value::Error(error) => line.push_str(&error.to_string()),
            other => pretty(other, 0, &mut HashSet::new(), &mut line),
        }
        line.push(' ');
    }
    line
}

/// `value` as mlua's `{:#?}` writes it: a table on several lines, its keys sorted, two
/// spaces an indent; a table already printed (or too deep) as its address.
fn pretty(value: &Value, indent: usize, printed: &mut HashSet<*const c_void>, out: &mut String) {
    let Value::Table(table) = value else {
        let _ = write!(out, "{value:#?}");
        return;
    };
    if indent / 2 >= MAX_DEPTH || !printed.insert(table.to_pointer()) {
        let _ = write!(out, "table: {:?}", table.to_pointer());
        return;
    }
    let mut pairs: Vec<(Value, Value)> = table.pairs::<Value, Value>().flatten().collect();
    if pairs.is_empty() {
        out.push_str("{}");
        return;
    }
    pairs.sort_by(|(a, _), (b, _)| sort_order(a, b));
    let is_sequence =
        pairs.iter().enumerate().all(|(i, (key, _))| matches!(key, Value::Integer(n) if *n == i as i64 + 1));
    out.push_str("{\n");
    let pad = " ".repeat(indent + 2);
    for (key, value) in &pairs {
        out.push_str(&pad);
        if !is_sequence {
            match key {
                Value::String(name) if is_simple_key(&name.as_bytes()) => {
                    let _ = write!(out, "{} = ", name.to_string_lossy());
                }
                other => {
                    out.push('[');
                    pretty_key(other, out);
                    out.push_str("] = ");
                }
            }
        }
        pretty(value, indent + 2, printed, out);
        out.push_str(",\n");
    }
    out.push_str(&" ".repeat(indent));
    out.push('}');
}

/// A key that is not a name: as mlua writes it, without walking into a table.
fn pretty_key(key: &Value, out: &mut String) {
    match key {
        Value::Table(table) => {
            let _ = write!(out, "table: {:?}", table.to_pointer());
        }
        other => {
            let _ = write!(out, "{other:#?}");
        }
    }
}

fn is_simple_key(key: &[u8]) -> bool {
    key.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && key.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// mlua's order of keys: booleans, then numbers, then strings, then the rest by address.
fn sort_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let rank = |value: &Value| match value {
        Value::Nil => 0,
        Value::LightUserData(ud) if ud.0.is_null() => 1,
        Value::Boolean(_) => 2,
        Value::Integer(_) | Value::Number(_) => 3,
        Value::String(_) => 4,
        _ => 5,
    };
    match (a, b) {
        (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
        (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
        (Value::Integer(a), Value::Number(b)) => (*a as f64).partial_cmp(b).unwrap_or(Ordering::Equal),
        (Value::Number(a), Value::Integer(b)) => a.partial_cmp(&(*b as f64)).unwrap_or(Ordering::Equal),
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        (Value::String(a), Value::String(b)) => a.as_bytes().cmp(&b.as_bytes()),
        _ => rank(a).cmp(&rank(b)).then_with(|| a.to_pointer().cmp(&b.to_pointer())),
    }
}
