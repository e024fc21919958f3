//! JSON between Lua values and text: route return values, `request:body():json()` and
//! `serde.json`.
//!
//! Both directions use Lua's C API inside one protected call, rather than value by value
//! through mlua's handles, each of which is a protected call of its own: for a 100-item
//! table that was most of a JSON route's cost. Encoding uses only calls that cannot raise
//! a Lua error (`lua_next` on keys it produced itself, `lua_rawgeti`, `lua_tolstring` on
//! strings only). Decoding parses with serde_json first, then only pushes values; the one
//! error that can then be raised, out of memory, unwinds to the protected call through
//! frames that own nothing. The mapping is mlua's: a table with a sequence part is an
//! array (its other keys are ignored), any other table an object, an empty table `{}`;
//! NaN and infinities are null; functions, threads and userdata are errors; `null` reads
//! back as nil.

use std::cell::Cell;
use std::ffi::c_int;
use std::io::Write as _;

use mlua::{Lua, Value, ffi};

/// Deeper than this is almost surely a table that contains itself.
const MAX_DEPTH: usize = 128;

thread_local! {
    /// The length of the last encoding: routes tend to send alike documents, so the next
    /// one is written into a buffer that size instead of growing one step by step.
    static LAST_LENGTH: Cell<usize> = const { Cell::new(256) };
}

pub fn encode(lua: &Lua, value: Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(LAST_LENGTH.get());
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
        None => {
            LAST_LENGTH.set(out.len().clamp(64, 1 << 20));
            Ok(out)
        }
    }
}

/// `what` names the input in the error: "the body", "the text".
pub fn decode(lua: &Lua, bytes: &[u8], what: &str) -> mlua::Result<Value> {
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| mlua::Error::runtime(format!("{what} is not valid JSON: {e}")))?;
    let mut too_deep = false;
    // SAFETY: see the module note: the closure only pushes, on stack slots it checked for.
    let value = unsafe {
        lua.exec_raw::<Value>((), |state| {
            // serde_json nests at most 128 levels; each takes a table, a key and a value.
            if ffi::lua_checkstack(state, 3 * 130) == 0 {
                too_deep = true;
                return;
            }
            push_json(state, &json);
        })
    }?;
    if too_deep {
        return Err(mlua::Error::runtime(format!("{what} nests too deeply to read")));
    }
    Ok(value)
}

unsafe fn push_json(state: *mut ffi::lua_State, value: &serde_json::Value) {
    use serde_json::Value as Json;
    unsafe {
        match value {
            Json::Null => ffi::lua_pushnil(state),
            Json::Bool(b) => ffi::lua_pushboolean(state, c_int::from(*b)),
            Json::Number(n) => match n.as_i64() {
                Some(n) => ffi::lua_pushinteger(state, n),
                None => ffi::lua_pushnumber(state, n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => push_bytes(state, s.as_bytes()),
            Json::Array(items) => {
                ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(0), 0);
                for (i, item) in items.iter().enumerate() {
                    push_json(state, item);
                    ffi::lua_rawseti(state, -2, i as ffi::lua_Integer + 1);
                }
            }
            Json::Object(fields) => {
                ffi::lua_createtable(state, 0, c_int::try_from(fields.len()).unwrap_or(0));
                for (key, field) in fields {
                    push_bytes(state, key.as_bytes());
                    push_json(state, field);
                    ffi::lua_rawset(state, -3);
                }
            }
        }
    }
}

unsafe fn push_bytes(state: *mut ffi::lua_State, bytes: &[u8]) {
    unsafe {
        ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
    }
}

/// Writes the value at `top`, the top of the stack; whatever it pushes goes above it, so
/// every index is known without asking Lua.
unsafe fn write_value(state: *mut ffi::lua_State, top: c_int, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    unsafe {
        match ffi::lua_type(state, top) {
            ffi::LUA_TNIL => append(out, b"null"),
            ffi::LUA_TBOOLEAN => append(out, if ffi::lua_toboolean(state, top) != 0 { b"true" } else { b"false" }),
            ffi::LUA_TNUMBER => write_number(state, top, out, false),
            ffi::LUA_TSTRING => write_string(string_at(state, top), out),
            ffi::LUA_TTABLE => write_table(state, top, out, depth + 1)?,
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(state, top).is_null() => append(out, b"null"),
            kind => return Err(format!("a {} cannot be sent as JSON", type_name(state, kind))),
        }
    }
    Ok(())
}

unsafe fn write_number(state: *mut ffi::lua_State, index: c_int, out: &mut Vec<u8>, quoted: bool) {
    unsafe {
        let quote = if quoted { "\"" } else { "" };
        if ffi::lua_isinteger(state, index) != 0 {
            append(out, quote.as_bytes());
            write_integer(ffi::lua_tointegerx(state, index, std::ptr::null_mut()), out);
            append(out, quote.as_bytes());
        } else {
            let n = ffi::lua_tonumberx(state, index, std::ptr::null_mut());
            if n.is_finite() {
                let _ = write!(out, "{quote}{n}{quote}");
            } else {
                append(out, if quoted { b"\"null\"" } else { b"null" });
            }
        }
    }
}

/// Writes the table at `table`, the top of the stack.
unsafe fn write_table(state: *mut ffi::lua_State, table: c_int, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    unsafe {
        if depth > MAX_DEPTH || ffi::lua_checkstack(state, 3) == 0 {
            return Err("tables nest too deeply (does a table contain itself?)".into());
        }
        let len = ffi::lua_rawlen(state, table);
        if len > 0 {
            out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    out.push(b',');
                }
                ffi::lua_rawgeti(state, table, i as ffi::lua_Integer);
                write_value(state, table + 1, out, depth)?;
                ffi::lua_settop(state, table);
            }
            out.push(b']');
            return Ok(());
        }
        out.push(b'{');
        let (key, value) = (table + 1, table + 2);
        let mut first = true;
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, table) != 0 {
            if !first {
                out.push(b',');
            }
            first = false;
            match ffi::lua_type(state, key) {
                ffi::LUA_TSTRING => write_string(string_at(state, key), out),
                ffi::LUA_TNUMBER => write_number(state, key, out, true),
                kind => return Err(format!("a {} key cannot be sent as JSON", type_name(state, kind))),
            }
            out.push(b':');
            write_value(state, value, out, depth)?;
            ffi::lua_settop(state, key);
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

/// A JSON string; bytes that are not UTF-8 become U+FFFD.
fn write_string(bytes: &[u8], out: &mut Vec<u8>) {
    if is_plain(bytes) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        append(out, bytes);
        out.push(b'"');
    } else {
        write_escaped(&String::from_utf8_lossy(bytes), out);
    }
}

/// Whether every byte is printable ASCII other than `"` and `\\`, so the string is copied
/// as it is (most are). Checked eight bytes at a time; a string shorter than that is read
/// as overlapping pieces, so that no string takes a loop.
fn is_plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let word = |at: usize| bytes.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes);
    let half = |at: usize| bytes.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_le_bytes);
    match n {
        0 => true,
        1..=3 => plain_word(u64::from_le_bytes([bytes[0], bytes[n / 2], bytes[n - 1], b'a', b'a', b'a', b'a', b'a'])),
        4..=7 => match (half(0), half(n - 4)) {
            (Some(head), Some(tail)) => plain_word(u64::from(head) | u64::from(tail) << 32),
            _ => false,
        },
        _ => {
            word(n - 8).is_some_and(plain_word)
                && bytes.chunks_exact(8).all(|chunk| chunk.try_into().is_ok_and(|w| plain_word(u64::from_le_bytes(w))))
        }
    }
}

/// No byte of the word is a control character, `"`, `\\` or above 0x7f (the classic
/// "has a byte less than n" and "has a zero byte" bit tricks, exact once every byte is
/// known to be below 0x80).
fn plain_word(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let control = word.wrapping_sub(ONES * 0x20);
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    (word | control | quote | backslash) & HIGHS == 0
}

/// The quoted string, escaped: everything JSON escapes is ASCII, so the UTF-8 text is
/// copied in runs between escapes.
#[cold]
fn write_escaped(text: &str, out: &mut Vec<u8>) {
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

/// `out.extend_from_slice(bytes)`, with short slices copied as one or two machine words:
/// in the sandbox a variable-length copy is a `memory.copy`, which is a call out to the
/// runtime and dearer than the copy itself when the slice is a JSON key.
#[inline(always)]
fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if n > 16 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(16);
    let len = out.len();
    // SAFETY: `reserve` made room for 16 more bytes at `len`; every read is inside
    // `bytes` (the two words overlap when n < 16) and every write inside that room.
    unsafe {
        let (src, dst) = (bytes.as_ptr(), out.as_mut_ptr().add(len));
        use std::ptr::{read_unaligned as read, write_unaligned as write};
        match n {
            8..=16 => {
                let (head, tail) = (read(src.cast::<u64>()), read(src.add(n - 8).cast::<u64>()));
                write(dst.cast::<u64>(), head);
                write(dst.add(n - 8).cast::<u64>(), tail);
            }
            4..=7 => {
                let (head, tail) = (read(src.cast::<u32>()), read(src.add(n - 4).cast::<u32>()));
                write(dst.cast::<u32>(), head);
                write(dst.add(n - 4).cast::<u32>(), tail);
            }
            1..=3 => {
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
            _ => {}
        }
        out.set_len(len + n);
    }
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
    append(out, &digits[at..]);
}

