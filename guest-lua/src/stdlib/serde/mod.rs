//! `require("serde")`: `serde.json.encode(value)` and `serde.json.decode(text)`.

pub mod json;

use mlua::{Lua, Table, Value};

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let json_functions = lua.create_table()?;
    json_functions.set(
        "encode",
        lua.create_function(|lua, value: Value| {
            let text =
                json::encode(lua, value).map_err(|e| mlua::Error::runtime(format!("cannot encode as JSON: {e}")))?;
            lua.create_string(text)
        })?,
    )?;
    json_functions.set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| json::decode(lua, &text.as_bytes(), "the text"))?,
    )?;
    let module = lua.create_table()?;
    module.set("json", json_functions)?;
    Ok(module)
}
