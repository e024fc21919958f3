//! `require("utils")`: `uuid`, `env.get`/`env.set`, `dotenv_load` and `clean_require`; the
//! task functions are `tasks`' (decision 3).
//!
//! The environment is the instance's own: WASI gives it the app's configured variables
//! (`astra.toml [env]`), then the app folder's `.env` files are loaded over them in Astra's
//! order (`load_env_files`, before the entry script runs), and `env.set` changes only this
//! instance. dotenvy's `${VAR}` substitution can see that environment and nothing else.

use mlua::{Lua, Table, Value};

use crate::exports::astra::host::app::EnvFile;
use crate::view::ViewPath;

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let utils = lua.create_table()?;
    utils.set("uuid", lua.create_function(|_, ()| Ok(uuid::Uuid::new_v4().hyphenated().to_string()))?)?;
    let env = lua.create_table()?;
    env.set("get", lua.create_function(get_env)?)?;
    env.set("set", lua.create_function(set_env)?)?;
    utils.set("env", env)?;
    utils.set("dotenv_load", lua.create_function(dotenv_load)?)?;
    utils.set(
        "clean_require",
        lua.create_function(|lua, name: String| {
            let package: Table = lua.globals().get("package")?;
            package.get::<Table>("loaded")?.set(name, Value::Nil)
        })?,
    )?;
    crate::stdlib::tasks::install(lua, &utils)?;
    Ok(utils)
}

/// `getenv(key)` and `utils.env.get(key)`.
pub fn get_env(_: &Lua, key: String) -> mlua::Result<Option<String>> {
    Ok(std::env::var(key).ok())
}

/// `setenv(key, value)` and `utils.env.set(key, value)`.
pub fn set_env(_: &Lua, (key, value): (String, String)) -> mlua::Result<()> {
    if key.is_empty() || key.contains(['=', '\0']) || value.contains('\0') {
        return Err(mlua::Error::runtime(format!("setenv: {key:?} is not a variable name")));
    }
    // SAFETY: an instance runs on one thread, and its environment is its own.
    unsafe { std::env::set_var(key, value) };
    Ok(())
}

/// `dotenv_load(path)`: a file of the view, loaded over the environment. As in Astra, a
/// file that cannot be read or parsed is passed over (the lines before a bad one count).
pub fn dotenv_load(_: &Lua, path: String) -> mlua::Result<()> {
    let place = ViewPath::parse(&path).map_err(|reason| mlua::Error::runtime(format!("dotenv_load: {reason}")))?;
    if let Ok(text) = std::fs::read(place.for_reading()) {
        load_env_text(&text);
    }
    Ok(())
}

/// The app folder's `.env`, `.env.production`, ... as the host read them, in that order,
/// each over the ones before. The host has reported any error in them to the app's log.
pub fn load_env_files(files: &[EnvFile]) {
    for file in files {
        load_env_text(file.text.as_bytes());
    }
}

fn load_env_text(text: &[u8]) {
    for (key, value) in dotenvy::from_read_iter(text).map_while(Result::ok) {
        if !key.is_empty() && !key.contains(['=', '\0']) && !value.contains('\0') {
            // SAFETY: as in `set_env`.
            unsafe { std::env::set_var(key, value) };
        }
    }
}
