//! `require("serde")`: `serde.json.encode(value)` and `serde.json.decode(text)`.

use mlua::{Lua, Table, Value};

use crate::convert;

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let json = lua.create_table()?;
    json.set(
        "encode",
        lua.create_function(|lua, value: Value| {
            let json = crate::json::encode(lua, value).map_err(|e| mlua::Error::runtime(format!("cannot encode as JSON: {e}")))?;
            lua.create_string(json)
        })?,
    )?;
    json.set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| convert::json_to_lua(lua, &text.as_bytes(), "the text"))?,
    )?;
    let module = lua.create_table()?;
    module.set("json", json)?;
    Ok(module)
}
