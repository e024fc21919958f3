//! Lua values to JSON text, for route return values and `serde.json.encode`.
//!
//! The table is walked with Lua's C API inside one protected call, rather than value by
//! value through mlua's handles: for a 100-item table that was most of a JSON route's
//! cost. Only calls that cannot raise a Lua error are used (`lua_next` on keys it produced
//! itself, `lua_rawgeti`, `lua_tolstring` on strings only), so no error can unwind
//! through the Rust frames. The mapping is mlua's: a table with a sequence part is an
//! array (its other keys are ignored), any other table an object, an empty table `{}`;
//! NaN and infinities are null; functions, threads and userdata are errors.

use std::ffi::c_int;
use std::io::Write as _;

use mlua::{Lua, Value, ffi};

/// Deeper than this is almost surely a table that contains itself.
const MAX_DEPTH: usize = 128;

pub fn encode(lua: &Lua, value: Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(256);
    let mut failure = None;
    // SAFETY: the closure uses only C API calls that do not raise errors (see above), on
    // stack slots it checked for.
    let called = unsafe {
        lua.exec_raw::<()>(value, |state| {
            if let Err(error) = write_value(state, ffi::lua_gettop(state), &mut out, 0) {
                failure = Some(error);
            }
            ffi::lua_settop(state, 0);
        })
    };
    called.map_err(|e| e.to_string())?;
    match failure {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

unsafe fn write_value(state: *mut ffi::lua_State, index: c_int, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    unsafe {
        match ffi::lua_type(state, index) {
            ffi::LUA_TNIL => out.extend_from_slice(b"null"),
            ffi::LUA_TBOOLEAN => {
                out.extend_from_slice(if ffi::lua_toboolean(state, index) != 0 { b"true" } else { b"false" })
            }
            ffi::LUA_TNUMBER => write_number(state, index, out, false),
            ffi::LUA_TSTRING => write_string(string_at(state, index), out),
            ffi::LUA_TTABLE => write_table(state, index, out, depth + 1)?,
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(state, index).is_null() => out.extend_from_slice(b"null"),
            kind => return Err(format!("a {} cannot be sent as JSON", type_name(state, kind))),
        }
    }
    Ok(())
}

unsafe fn write_number(state: *mut ffi::lua_State, index: c_int, out: &mut Vec<u8>, quoted: bool) {
    unsafe {
        let quote = if quoted { "\"" } else { "" };
        if ffi::lua_isinteger(state, index) != 0 {
            out.extend_from_slice(quote.as_bytes());
            write_integer(ffi::lua_tointegerx(state, index, std::ptr::null_mut()), out);
            out.extend_from_slice(quote.as_bytes());
        } else {
            let n = ffi::lua_tonumberx(state, index, std::ptr::null_mut());
            if n.is_finite() {
                let _ = write!(out, "{quote}{n}{quote}");
            } else {
                out.extend_from_slice(if quoted { b"\"null\"" } else { b"null" });
            }
        }
    }
}

unsafe fn write_table(state: *mut ffi::lua_State, index: c_int, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    unsafe {
        if depth > MAX_DEPTH || ffi::lua_checkstack(state, 3) == 0 {
            return Err("tables nest too deeply (does a table contain itself?)".into());
        }
        let table = ffi::lua_absindex(state, index);
        let len = ffi::lua_rawlen(state, table);
        if len > 0 {
            out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    out.push(b',');
                }
                ffi::lua_rawgeti(state, table, i as ffi::lua_Integer);
                write_value(state, ffi::lua_gettop(state), out, depth)?;
                ffi::lua_pop(state, 1);
            }
            out.push(b']');
            return Ok(());
        }
        out.push(b'{');
        let mut first = true;
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, table) != 0 {
            if !first {
                out.push(b',');
            }
            first = false;
            let key = ffi::lua_gettop(state) - 1;
            match ffi::lua_type(state, key) {
                ffi::LUA_TSTRING => write_string(string_at(state, key), out),
                ffi::LUA_TNUMBER => write_number(state, key, out, true),
                kind => return Err(format!("a {} key cannot be sent as JSON", type_name(state, kind))),
            }
            out.push(b':');
            write_value(state, key + 1, out, depth)?;
            ffi::lua_pop(state, 1);
        }
        out.push(b'}');
    }
    Ok(())
}

/// The bytes of the string at `index`, which must be a string (not a number, which
/// `lua_tolstring` would convert in place).
unsafe fn string_at<'a>(state: *mut ffi::lua_State, index: c_int) -> &'a [u8] {
    unsafe {
        let mut len = 0;
        let bytes = ffi::lua_tolstring(state, index, &mut len);
        std::slice::from_raw_parts(bytes.cast::<u8>(), len)
    }
}

unsafe fn type_name(state: *mut ffi::lua_State, kind: c_int) -> String {
    unsafe { std::ffi::CStr::from_ptr(ffi::lua_typename(state, kind)).to_string_lossy().into_owned() }
}

/// A JSON string; bytes that are not UTF-8 become U+FFFD. Everything JSON escapes is
/// ASCII, so valid UTF-8 can be copied in runs between escapes.
fn write_string(bytes: &[u8], out: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(bytes);
    let bytes = text.as_bytes();
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => br#"\""#,
            b'\\' => br"\\",
            b'\n' => br"\n",
            b'\r' => br"\r",
            b'\t' => br"\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.extend_from_slice(escaped);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Decimal digits of an integer, without going through `fmt`.
fn write_integer(n: i64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

