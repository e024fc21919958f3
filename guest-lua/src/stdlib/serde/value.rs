//! Lua values through serde's data model, for every format but JSON (which has its own
//! faster path in `json.rs`).
//!
//! Decoding drives the format's deserializer straight into Lua tables, with no value tree
//! in between; it bounds nesting itself, since not every parser does and a parser that
//! recurses past the guest's stack traps the instance. Encoding hands mlua's serializable
//! view of the value to the format, keys sorted, as Astra's ordered intermediate map
//! writes them.

use std::fmt;

use mlua::{Lua, Table, Value};
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

/// Deeper documents are refused rather than risk the guest's stack.
pub const MAX_DEPTH: usize = 128;

/// What a map does with a key it has seen before.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RepeatedKeys {
    /// The last value wins, as in a Lua table constructor.
    Replace,
    /// The values gather in an array: XML's repeated sibling elements.
    Collect,
}

/// Decodes one value from `deserializer` into Lua.
pub fn decode<'de, D: Deserializer<'de>>(
    lua: &Lua,
    deserializer: D,
    repeated: RepeatedKeys,
) -> Result<Value, D::Error> {
    ToLua { lua, depth: 0, repeated }.deserialize(deserializer)
}

/// The value as the format's serializer will see it. A table's function, thread and
/// userdata values are dropped at the top level, as Astra drops them (a module table or an
/// object with methods encodes as its data); deeper down they are an error.
pub fn encodable(lua: &Lua, value: Value) -> mlua::Result<Value> {
    let Value::Table(table) = &value else { return Ok(value) };
    let unsupported =
        |v: &Value| matches!(v, Value::Function(_) | Value::Thread(_) | Value::UserData(_) | Value::Error(_));
    if !table.pairs::<Value, Value>().any(|pair| pair.is_ok_and(|(_, v)| unsupported(&v))) {
        return Ok(value);
    }
    let copy = lua.create_table()?;
    for pair in table.pairs::<Value, Value>() {
        let (key, v) = pair?;
        if !unsupported(&v) {
            copy.raw_set(key, v)?;
        }
    }
    Ok(Value::Table(copy))
}

/// Encodes with `to_string`, keys sorted; an error is the format's message.
pub fn encode<E: fmt::Display>(
    lua: &Lua,
    value: Value,
    to_string: impl FnOnce(&mlua::SerializableValue) -> Result<String, E>,
) -> Result<String, String> {
    let value = encodable(lua, value).map_err(|e| e.to_string())?;
    to_string(&value.to_serializable().sort_keys(true)).map_err(|e| e.to_string())
}

struct ToLua<'a> {
    lua: &'a Lua,
    depth: usize,
    repeated: RepeatedKeys,
}

impl ToLua<'_> {
    fn nested<E: de::Error>(&self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("the document nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(ToLua { lua: self.lua, depth: self.depth + 1, repeated: self.repeated })
    }

    fn table<E: de::Error>(&self) -> Result<Table, E> {
        self.lua.create_table().map_err(E::custom)
    }

    fn string<E: de::Error>(&self, bytes: &[u8]) -> Result<Value, E> {
        self.lua.create_string(bytes).map(Value::String).map_err(E::custom)
    }
}

impl<'de> DeserializeSeed<'de> for ToLua<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ToLua<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Boolean(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Integer(n))
    }

    /// Past `i64::MAX`, a float, as Lua itself reads such a literal.
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Number(n as f64), Value::Integer))
    }

    fn visit_i128<E>(self, n: i128) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Number(n as f64), Value::Integer))
    }

    fn visit_u128<E>(self, n: u128) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Number(n as f64), Value::Integer))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.string(s.as_bytes())
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Value, E> {
        self.string(bytes)
    }

    /// null, `~`, an absent optional: nil (decision 8).
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut items: S) -> Result<Value, S::Error> {
        let table = self.table()?;
        let mut index = 0;
        while let Some(item) = items.next_element_seed(self.nested()?)? {
            index += 1;
            table.raw_set(index, item).map_err(de::Error::custom)?;
        }
        Ok(Value::Table(table))
    }

    fn visit_map<M: MapAccess<'de>>(self, mut fields: M) -> Result<Value, M::Error> {
        let table = self.table()?;
        // Keys whose values are already gathered in a list.
        let mut collected: Vec<Value> = Vec::new();
        while let Some(key) = fields.next_key_seed(self.nested()?)? {
            let value = fields.next_value_seed(self.nested()?)?;
            let key = match key {
                Value::Nil => return Err(de::Error::custom("a map key is null")),
                Value::Number(n) if n.is_nan() => return Err(de::Error::custom("a map key is NaN")),
                key => key,
            };
            let earlier: Value = table.raw_get(&key).map_err(de::Error::custom)?;
            let value = match (self.repeated, earlier) {
                (RepeatedKeys::Collect, Value::Table(list)) if collected.contains(&key) => {
                    list.raw_push(value).map_err(de::Error::custom)?;
                    continue;
                }
                (RepeatedKeys::Collect, earlier) if !earlier.is_nil() => {
                    let list = self.lua.create_sequence_from([earlier, value]).map_err(de::Error::custom)?;
                    collected.push(key.clone());
                    Value::Table(list)
                }
                _ => value,
            };
            table.raw_set(key, value).map_err(de::Error::custom)?;
        }
        Ok(Value::Table(table))
    }

    /// A tagged value (YAML's `!Tag value`): a one-key table, tag to value.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, variant) = data.variant_seed(self.nested()?)?;
        let value = variant.newtype_variant_seed(self.nested()?)?;
        let table = self.table()?;
        table.raw_set(tag, value).map_err(de::Error::custom)?;
        Ok(Value::Table(table))
    }
}
