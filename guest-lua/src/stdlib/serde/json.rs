//! JSON between Lua values and text: route return values, `request:body():json()` and
//! `serde.json`.
//!
//! Neither direction goes value by value through mlua's handles, each of which is a
//! protected call of its own. Encoding walks Lua's tables in C (`c/json_encode.c`), reading
//! keys and values in place, and leaves floats and strings that need escaping to Rust,
//! here. Decoding parses with serde_json first, into a flat list of tokens, then pushes the
//! values through Lua's C API in one protected call; the one error that can then be raised,
//! out of memory, unwinds to it through frames that own nothing. The mapping is mlua's: a
//! table with a sequence part is an array (its other keys are ignored), any other table an
//! object, an empty table `{}`; NaN and infinities are null; functions, threads and
//! userdata are errors; `null` reads back as nil; object keys are written in byte order.

use std::borrow::Cow;
use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::io::Write as _;

use mlua::{Lua, Value, ffi};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

thread_local! {
    /// The length of the last encoding: routes tend to send alike documents, so the next
    /// one is written into a buffer that size instead of growing one step by step.
    static LAST_LENGTH: Cell<usize> = const { Cell::new(256) };
}

pub fn encode(lua: &Lua, value: Value) -> Result<Vec<u8>, String> {
    let mut vec = Vec::with_capacity(LAST_LENGTH.get());
    let mut failure = None;
    // SAFETY: `astra_json_encode` reads the value on top of the stack, raises no Lua error
    // and keeps `out` in step with `vec` (through `astra_json_reserve`).
    let called = unsafe {
        lua.exec_raw::<()>(value, |state| {
            let mut out = Output::of(&mut vec);
            let status = astra_json_encode(state, &mut out);
            vec.set_len(out.len);
            failure = match status {
                JSON_OK => None,
                JSON_BAD_VALUE => Some(format!("a {} cannot be sent as JSON", type_name(state, out.bad_type))),
                JSON_BAD_KEY => Some(format!("a {} key cannot be sent as JSON", type_name(state, out.bad_type))),
                JSON_NO_MEMORY => Some(crate::errors::OUT_OF_MEMORY.into()),
                _ => Some("tables nest too deeply (does a table contain itself?)".into()),
            };
            ffi::lua_settop(state, 0);
        })
    };
    called.map_err(|e| e.to_string())?;
    match failure {
        Some(error) => Err(error),
        None => {
            LAST_LENGTH.set(vec.len().clamp(64, 1 << 20));
            Ok(vec)
        }
    }
}

// The encoder's walk over Lua's tables is C (`c/json_encode.c`), built against Lua's
// internal headers; the text it cannot write byte for byte is written here.
const JSON_OK: c_int = 0;
const JSON_BAD_VALUE: c_int = 1;
const JSON_BAD_KEY: c_int = 2;
const JSON_NO_MEMORY: c_int = 4;

unsafe extern "C" {
    fn astra_json_encode(state: *mut ffi::lua_State, out: *mut Output) -> c_int;
}

/// A `Vec<u8>` as the C encoder writes into it: `json_out` in `c/json_encode.c`.
#[repr(C)]
struct Output {
    data: *mut u8,
    len: usize,
    cap: usize,
    vec: *mut c_void,
    bad_type: c_int,
}

impl Output {
    fn of(vec: &mut Vec<u8>) -> Output {
        Output {
            data: vec.as_mut_ptr(),
            len: vec.len(),
            cap: vec.capacity(),
            vec: (vec as *mut Vec<u8>).cast(),
            bad_type: 0,
        }
    }

    /// Runs `write` on the Vec with the bytes written so far, then takes up its new state.
    ///
    /// # Safety
    /// `self.vec` must point to the live Vec this `Output` was made `of`.
    unsafe fn with_vec(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        // SAFETY: the caller keeps `vec` alive; the C side wrote only `len` bytes of its
        // capacity, all initialised.
        let vec = unsafe {
            let vec = &mut *self.vec.cast::<Vec<u8>>();
            vec.set_len(self.len);
            vec
        };
        write(vec);
        *self = Output { bad_type: self.bad_type, ..Output::of(vec) };
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn astra_json_reserve(out: *mut Output, additional: usize) {
    // SAFETY: called by the encoder with the `Output` made in `encode`.
    unsafe { (*out).with_vec(|vec| vec.reserve(additional)) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn astra_json_write_float(out: *mut Output, n: f64, quoted: c_int) {
    // Shortest round-trip form with a fraction or exponent (`5.0`, `1e21`), as serde_json
    // writes floats (with the same ryu), so that a float reads back as a float.
    let mut digits = ryu::Buffer::new();
    let text = if n.is_finite() { digits.format_finite(n) } else { "null" };
    // SAFETY: as above.
    unsafe {
        (*out).with_vec(|vec| {
            if quoted != 0 {
                vec.push(b'"');
                vec.extend_from_slice(text.as_bytes());
                vec.push(b'"');
            } else {
                vec.extend_from_slice(text.as_bytes());
            }
        });
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn astra_json_write_escaped(out: *mut Output, bytes: *const u8, len: usize) {
    // SAFETY: as above; `bytes` is a Lua string's contents, alive during the encoding.
    unsafe {
        let bytes = std::slice::from_raw_parts(bytes, len);
        (*out).with_vec(|vec| write_escaped(&String::from_utf8_lossy(bytes), vec));
    }
}

/// `what` names the input in the error: "the body", "the text".
pub fn decode(lua: &Lua, bytes: &[u8], what: &str) -> mlua::Result<Value> {
    let tape = Tape::parse(bytes).map_err(|e| mlua::Error::runtime(format!("{what} is not valid JSON: {e}")))?;
    let mut too_deep = false;
    // SAFETY: see the module note: the closure only pushes, on stack slots it checked for.
    let value = unsafe {
        lua.exec_raw::<Value>((), |state| {
            // serde_json nests at most 128 levels; each takes a table, a key and a value.
            if ffi::lua_checkstack(state, 3 * 130) == 0 {
                too_deep = true;
                return;
            }
            push_tokens(state, &mut tape.0.iter());
        })
    }?;
    if too_deep {
        return Err(mlua::Error::runtime(format!("{what} nests too deeply to read")));
    }
    Ok(value)
}

/// A parsed document as one flat list of tokens in document order: strings without
/// escapes borrow from the input, so parsing allocates little beyond the list itself
/// (a `serde_json::Value` allocates a map node or a `String` for nearly every token).
struct Tape<'a>(Vec<Token<'a>>);

enum Token<'a> {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(Cow<'a, str>),
    /// This many items follow, each one value.
    Array(usize),
    /// This many fields follow, each a `String` key and then one value.
    Object(usize),
}

impl<'a> Tape<'a> {
    fn parse(bytes: &'a [u8]) -> serde_json::Result<Tape<'a>> {
        // About one token in every 5 to 10 bytes of typical JSON; a large body grows the
        // list rather than reserving for its worst case up front.
        let mut tokens = Vec::with_capacity((bytes.len() / 8).min(4096));
        let mut parser = serde_json::Deserializer::from_slice(bytes);
        Recorder(&mut tokens).deserialize(&mut parser)?;
        parser.end()?;
        Ok(Tape(tokens))
    }
}

/// Appends the tokens of one value to the list it holds.
struct Recorder<'t, 'a>(&'t mut Vec<Token<'a>>);

impl<'a> DeserializeSeed<'a> for Recorder<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, parser: D) -> Result<(), D::Error> {
        parser.deserialize_any(self)
    }
}

impl<'a> Visitor<'a> for Recorder<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push(Token::Null);
        Ok(())
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.0.push(Token::Bool(b));
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.0.push(Token::Integer(n));
        Ok(())
    }

    /// Past `i64::MAX`, a float, as Lua itself reads such a literal.
    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.0.push(i64::try_from(n).map_or(Token::Float(n as f64), Token::Integer));
        Ok(())
    }

    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        self.0.push(Token::Float(n));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, s: &'a str) -> Result<(), E> {
        self.0.push(Token::String(Cow::Borrowed(s)));
        Ok(())
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.0.push(Token::String(Cow::Owned(s.to_owned())));
        Ok(())
    }

    fn visit_string<E>(self, s: String) -> Result<(), E> {
        self.0.push(Token::String(Cow::Owned(s)));
        Ok(())
    }

    fn visit_seq<S: SeqAccess<'a>>(self, mut items: S) -> Result<(), S::Error> {
        record_container(self.0, Token::Array, |tokens| Ok(items.next_element_seed(Recorder(tokens))?.is_some()))
    }

    fn visit_map<M: MapAccess<'a>>(self, mut fields: M) -> Result<(), M::Error> {
        record_container(self.0, Token::Object, |tokens| {
            if fields.next_key_seed(Recorder(&mut *tokens))?.is_none() {
                return Ok(false);
            }
            fields.next_value_seed(Recorder(tokens))?;
            Ok(true)
        })
    }
}

/// Records an array or object: its token, counting the entries `next_entry` records after
/// it (it returns false once there are no more).
fn record_container<'a, E>(
    tokens: &mut Vec<Token<'a>>,
    token: fn(usize) -> Token<'a>,
    mut next_entry: impl FnMut(&mut Vec<Token<'a>>) -> Result<bool, E>,
) -> Result<(), E> {
    let at = tokens.len();
    tokens.push(token(0));
    let mut count = 0;
    while next_entry(tokens)? {
        count += 1;
    }
    tokens[at] = token(count);
    Ok(())
}

/// Pushes the value whose tokens come next. The tape is well formed (the recorder wrote
/// it), so a missing token cannot happen; it would push nil.
unsafe fn push_tokens<'a>(state: *mut ffi::lua_State, tokens: &mut std::slice::Iter<'_, Token<'a>>) {
    unsafe {
        match tokens.next() {
            None | Some(Token::Null) => ffi::lua_pushnil(state),
            Some(Token::Bool(b)) => ffi::lua_pushboolean(state, c_int::from(*b)),
            Some(Token::Integer(n)) => ffi::lua_pushinteger(state, *n),
            Some(Token::Float(n)) => ffi::lua_pushnumber(state, *n),
            Some(Token::String(s)) => push_bytes(state, s.as_bytes()),
            Some(Token::Array(count)) => {
                ffi::lua_createtable(state, c_int::try_from(*count).unwrap_or(0), 0);
                for i in 1..=*count {
                    push_tokens(state, tokens);
                    ffi::lua_rawseti(state, -2, i as ffi::lua_Integer);
                }
            }
            Some(Token::Object(count)) => {
                ffi::lua_createtable(state, 0, c_int::try_from(*count).unwrap_or(0));
                for _ in 0..*count {
                    push_tokens(state, tokens);
                    push_tokens(state, tokens);
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

unsafe fn type_name(state: *mut ffi::lua_State, kind: c_int) -> String {
    unsafe { std::ffi::CStr::from_ptr(ffi::lua_typename(state, kind)).to_string_lossy().into_owned() }
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
