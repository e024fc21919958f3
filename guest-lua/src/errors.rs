//! Lua errors as the host sees them: a message that names file and line, and a traceback.
//!
//! Callbacks run under `xpcall` with a handler (in `lua/prelude.lua`) that captures both
//! while the failing frame is still on the stack; errors raised by Rust methods carry no
//! position of their own, so the handler prefixes the innermost Lua frame's.

use crate::exports::astra::host::app::LuaError;

pub fn plain(message: impl Into<String>) -> LuaError {
    LuaError { message: message.into(), traceback: String::new() }
}

/// Converts an error that escaped to Rust (not through the prelude's handler).
pub fn from_mlua(error: &mlua::Error) -> LuaError {
    match error {
        mlua::Error::CallbackError { traceback, cause } => {
            LuaError { message: root_cause(cause).to_string(), traceback: traceback.clone() }
        }
        mlua::Error::MemoryError(_) => plain("not enough memory"),
        other => plain(other.to_string()),
    }
}

fn root_cause(error: &mlua::Error) -> &mlua::Error {
    match error {
        mlua::Error::CallbackError { cause, .. } => root_cause(cause),
        other => other,
    }
}
