//! Installs the Astra Lua API into a fresh Lua state.
//!
//! Most of the API is plain Lua (`lua/*.lua`, compiled into the component): the server
//! table, route methods, middleware, status codes. Lua modules receive one table of Rust
//! functions as their chunk argument, so those never appear as globals an app could
//! overwrite.

use std::hash::{BuildHasher, RandomState};
use std::time::Instant;

use mlua::{Function, Lua, Table, Value};

use crate::astra::host::runtime;
use crate::globals;

/// Registry slot of the server whose `run` was called.
pub const SERVER_KEY: &str = "astra.server";

const PRELUDE: &str = include_str!("../lua/prelude.lua");
const HTTP: &str = include_str!("../lua/http.lua");
const VIEW: &str = include_str!("../lua/view.lua");
const REQUIRE: &str = include_str!("../lua/require.lua");
const BIT: &str = include_str!("../lua/bit.lua");
const STORES: &str = include_str!("../lua/stores.lua");
const TEST: &str = include_str!("../lua/test.lua");
const VALIDATION: &str = include_str!("../lua/validation.lua");
const TEMPLATES: &str = include_str!("../lua/templates.lua");

/// Sets up globals and `require`-able modules; returns the error handler that every call
/// into Lua runs under (see `errors`).
pub fn install(lua: &Lua, script: &globals::Script<'_>) -> mlua::Result<Function> {
    let internal = internal_functions(lua)?;
    let error_handler: Function = lua.load(PRELUDE).set_name("@astra/prelude.lua").call(internal.clone())?;
    globals::install(lua, script)?;
    lua.load(VIEW).set_name("@astra/view.lua").call::<()>(internal.clone())?;
    lua.load(REQUIRE).set_name("@astra/require.lua").call::<()>(internal.clone())?;

    let package: Table = lua.globals().get("package")?;
    let preload: Table = package.get("preload")?;
    // Astra's docs use `http` without requiring it in places, so it is loaded up front, as
    // a global; `require("http")` gives the same table, unless the app has an http.lua.
    let http: Table = lua.load(HTTP).set_name("@astra/http.lua").call(internal)?;
    http.set("request", lua.create_function(crate::http::client::request)?)?;
    lua.globals().set("http", &http)?;
    let require: Function = lua.globals().get("require")?;
    // `astra.<name>` is the same module as `<name>`, loaded once.
    let module = |name: &'static str, loader: Function| -> mlua::Result<()> {
        let require = require.clone();
        preload.set(format!("astra.{name}"), lua.create_function(move |_, ()| require.call::<mlua::Value>(name))?)?;
        preload.set(name, loader)
    };
    module("http", lua.create_function(move |_, ()| Ok(http.clone()))?)?;
    module("datetime", lua.create_function(|lua, ()| crate::stdlib::datetime::module(lua))?)?;
    module("fs", lua.create_function(|lua, ()| crate::stdlib::fs::module(lua))?)?;
    module("crypto", lua.create_function(|lua, ()| crate::stdlib::crypto::module(lua))?)?;
    module("database", lua.create_function(|lua, ()| crate::stdlib::database::module(lua))?)?;
    module("serde", lua.create_function(|lua, ()| crate::stdlib::serde::module(lua))?)?;
    module("utils", lua.create_function(|lua, ()| crate::stdlib::utils::module(lua))?)?;
    preload.set("bit", lua_module(lua, "bit", BIT, None)?)?;
    module(
        "stores",
        lua.create_function(|lua, ()| {
            let internal = crate::stdlib::pubsub::internal(lua)?;
            lua.load(STORES).set_name("@astra/stores.lua").call::<Value>(internal)
        })?,
    )?;
    module("test", lua_module(lua, "test", TEST, None)?)?;
    module(
        "templates",
        lua.create_function(|lua, ()| {
            let internal = crate::stdlib::templates::internal(lua)?;
            lua.load(TEMPLATES).set_name("@astra/templates.lua").call::<Value>(internal)
        })?,
    )?;
    let validation = lua.create_table()?;
    validation.set("regex", lua.create_function(crate::stdlib::regex::new)?)?;
    module("validation", lua_module(lua, "validation", VALIDATION, Some(validation))?)?;
    seed_math_random(lua)?;
    Ok(error_handler)
}

/// The loader of a module written in Lua (`lua/<name>.lua`), which gets `internal` (its
/// Rust functions) as its chunk argument. Nothing runs until an app requires it.
fn lua_module(lua: &Lua, name: &'static str, source: &'static str, internal: Option<Table>) -> mlua::Result<Function> {
    lua.create_function(move |lua, ()| {
        lua.load(source).set_name(format!("@astra/{name}.lua")).call::<mlua::Value>(internal.clone())
    })
}

/// Lua seeds `math.random` from the time and the address of its state, and every instance
/// of an app starts from the same memory image: instances started within one second drew
/// the same numbers. The host's random source (behind `RandomState`) tells them apart.
fn seed_math_random(lua: &Lua) -> mlua::Result<()> {
    let keys = RandomState::new();
    let seeds = (keys.hash_one(1u8).cast_signed(), keys.hash_one(2u8).cast_signed());
    let math: Table = lua.globals().get("math")?;
    math.get::<Function>("randomseed")?.call(seeds)
}

fn internal_functions(lua: &Lua) -> mlua::Result<Table> {
    let internal = lua.create_table()?;
    internal.set("version", env!("CARGO_PKG_VERSION"))?;
    // WASI has no clock of a process's CPU time; time since the instance started stands in
    // for `os.clock`, which apps read twice and subtract.
    let started = Instant::now();
    internal.set("clock", lua.create_function(move |_, ()| Ok(started.elapsed().as_secs_f64()))?)?;
    internal.set("run", lua.create_function(|lua, server: Table| lua.set_named_registry_value(SERVER_KEY, server))?)?;
    crate::view::install(lua, &internal)?;
    internal.set(
        "local_offset",
        lua.create_function(|_, epoch_seconds: i64| {
            let offset = crate::timezone::offset_at(epoch_seconds);
            Ok((offset.seconds, offset.abbreviation, offset.daylight_saving))
        })?,
    )?;
    internal.set(
        "offset_of_local",
        lua.create_function(|_, (year, month, day, hour, minute, second): (i32, u32, u32, u32, u32, u32)| {
            Ok(match crate::timezone::offset_of_local(year, month, day, hour, minute, second) {
                crate::timezone::LocalTime::Offset(seconds) => Some(seconds),
                crate::timezone::LocalTime::Gap => None,
            })
        })?,
    )?;
    internal.set(
        "shutdown",
        lua.create_function(|_, ()| {
            runtime::shutdown();
            Ok(())
        })?,
    )?;
    Ok(internal)
}
