//! `require("serde")`: `json`, `json5`, `yaml`, `toml`, `ini` and `xml`, each with
//! `encode(value)` and `decode(text)` (`xml.encode(root, value)`), and `csv.decode`.
//!
//! Every decoder reads null as nil (decision 8) and every error names the format; the
//! formats' own messages say where in the text. Encoders write map keys sorted.

pub mod csv;
pub mod json;
pub mod value;

use mlua::{Lua, LuaString, Table, Value};
use serde::ser::{Serialize, SerializeMap, Serializer};

use self::value::RepeatedKeys;

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;

    let json = lua.create_table()?;
    json.set(
        "encode",
        lua.create_function(|lua, value: Value| {
            let text = json::encode(lua, value).map_err(|e| encode_error("JSON", e))?;
            lua.create_string(text)
        })?,
    )?;
    json.set("decode", lua.create_function(|lua, text: LuaString| json::decode(lua, &text.as_bytes(), "the text"))?)?;
    module.set("json", json)?;

    module.set(
        "json5",
        format(
            lua,
            "JSON5",
            |lua, value| value::encode(lua, value, |v| serde_json5::to_string(v)),
            |lua, text| {
                json5_nesting_within(text, value::MAX_DEPTH)?;
                let mut parser = serde_json5::Deserializer::from_str(text).map_err(|e| e.to_string())?;
                value::decode(lua, &mut parser, RepeatedKeys::Replace).map_err(|e| e.to_string())
            },
        )?,
    )?;
    module.set(
        "yaml",
        format(
            lua,
            "YAML",
            |lua, value| value::encode(lua, value, |v| serde_yaml::to_string(v)),
            |lua, text| {
                let parser = serde_yaml::Deserializer::from_str(text);
                value::decode(lua, parser, RepeatedKeys::Replace).map_err(|e| e.to_string())
            },
        )?,
    )?;
    module.set(
        "toml",
        format(
            lua,
            "TOML",
            |lua, value| value::encode(lua, value, |v| toml::to_string(v)),
            |lua, text| {
                let parser = toml::Deserializer::parse(text).map_err(|e| e.to_string())?;
                value::decode(lua, parser, RepeatedKeys::Replace).map_err(|e| e.to_string())
            },
        )?,
    )?;
    module.set(
        "ini",
        format(lua, "INI", encode_ini, |lua, text| {
            let mut parser = serde_ini::Deserializer::new(serde_ini::Parser::from_str(text));
            value::decode(lua, &mut parser, RepeatedKeys::Replace).map_err(|e| e.to_string())
        })?,
    )?;

    let xml = lua.create_table()?;
    xml.set(
        "encode",
        lua.create_function(|lua, (root, value): (String, Value)| {
            let text = value::encode(lua, value, |value| quick_xml::se::to_string_with_root(&root, value))
                .map_err(|e| encode_error("XML", e))?;
            lua.create_string(text)
        })?,
    )?;
    xml.set(
        "decode",
        lua.create_function(|lua, text: LuaString| {
            let text = text.to_str().map_err(|_| decode_error("XML", "the text is not UTF-8"))?;
            let mut parser = quick_xml::de::Deserializer::from_str(&text);
            value::decode(lua, &mut parser, RepeatedKeys::Collect).map_err(|e| decode_error("XML", e))
        })?,
    )?;
    module.set("xml", xml)?;

    let csv = lua.create_table()?;
    csv.set("decode", lua.create_function(csv::decode)?)?;
    module.set("csv", csv)?;
    Ok(module)
}

/// INI has its plain keys before the first `[section]`: a table's other values are written
/// before its tables, each group in key order.
fn encode_ini(lua: &Lua, value: Value) -> Result<String, String> {
    struct Document(Vec<(Value, Value)>);
    impl Serialize for Document {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, value) in &self.0 {
                map.serialize_entry(&key.to_serializable(), &value.to_serializable().sort_keys(true))?;
            }
            map.end()
        }
    }
    let Value::Table(table) = value::encodable(lua, value).map_err(|e| e.to_string())? else {
        return Err("an INI document is a table".into());
    };
    let mut entries = table.pairs::<Value, Value>().collect::<mlua::Result<Vec<_>>>().map_err(|e| e.to_string())?;
    entries.sort_by_cached_key(|(key, value)| (value.is_table(), key.to_string().unwrap_or_default()));
    serde_ini::to_string(&Document(entries)).map_err(|e| e.to_string())
}

/// The JSON5 parser recurses once per level before any value reaches `value::decode`, so
/// the nesting is measured first: brackets outside strings and comments.
fn json5_nesting_within(text: &str, limit: usize) -> Result<(), String> {
    let mut depth = 0usize;
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(format!("the document nests deeper than {limit} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' | b'\'' => {
                while let Some(inner) = bytes.next() {
                    match inner {
                        b'\\' => {
                            bytes.next();
                        }
                        _ if inner == byte => break,
                        _ => {}
                    }
                }
            }
            b'/' => match bytes.clone().next() {
                Some(b'/') => {
                    bytes.find(|&b| b == b'\n');
                }
                Some(b'*') => {
                    bytes.next();
                    let mut previous = 0;
                    bytes.find(|&b| std::mem::replace(&mut previous, b) == b'*' && b == b'/');
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(())
}

/// `{ encode, decode }` for a format whose text is UTF-8; errors name the format.
fn format(
    lua: &Lua,
    name: &'static str,
    encode: impl Fn(&Lua, Value) -> Result<String, String> + 'static,
    decode: impl Fn(&Lua, &str) -> Result<Value, String> + 'static,
) -> mlua::Result<Table> {
    let functions = lua.create_table()?;
    functions.set(
        "encode",
        lua.create_function(move |lua, value: Value| {
            lua.create_string(encode(lua, value).map_err(|e| encode_error(name, e))?)
        })?,
    )?;
    functions.set(
        "decode",
        lua.create_function(move |lua, text: LuaString| {
            let text = text.to_str().map_err(|_| decode_error(name, "the text is not UTF-8"))?;
            decode(lua, &text).map_err(|e| decode_error(name, e))
        })?,
    )?;
    Ok(functions)
}

fn encode_error(format: &str, error: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("cannot encode as {format}: {error}"))
}

fn decode_error(format: &str, error: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("the text is not valid {format}: {error}"))
}
