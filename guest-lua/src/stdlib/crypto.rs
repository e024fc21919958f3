//! `require("crypto")`: hashes (hex digests) and Base64, as in Astra.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use mlua::{Lua, Table};
use sha2::Digest as _;

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;
    module.set(
        "hash",
        lua.create_function(|_, (kind, input): (String, mlua::LuaString)| {
            let input = input.as_bytes();
            let digest = match kind.as_str() {
                "sha2_256" => sha2::Sha256::digest(&*input).to_vec(),
                "sha2_512" => sha2::Sha512::digest(&*input).to_vec(),
                "sha3_256" => sha3::Sha3_256::digest(&*input).to_vec(),
                "sha3_512" => sha3::Sha3_512::digest(&*input).to_vec(),
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "unknown hash {other:?} (expected sha2_256, sha2_512, sha3_256 or sha3_512)"
                    )));
                }
            };
            Ok(digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
        })?,
    )?;
    let base64 = lua.create_table()?;
    for (name, engine) in [("", &STANDARD), ("_urlsafe", &URL_SAFE)] {
        base64.set(
            format!("encode{name}"),
            lua.create_function(move |_, input: mlua::LuaString| Ok(engine.encode(&*input.as_bytes())))?,
        )?;
        base64.set(
            format!("decode{name}"),
            lua.create_function(move |lua, input: mlua::LuaString| {
                let decoded = engine
                    .decode(&*input.as_bytes())
                    .map_err(|e| mlua::Error::runtime(format!("invalid Base64: {e}")))?;
                lua.create_string(decoded)
            })?,
        )?;
    }
    module.set("base64", base64)?;
    Ok(module)
}
