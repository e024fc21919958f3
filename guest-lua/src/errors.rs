//! Lua errors as the host sees them: a message that names file and line, and a traceback.
//!
//! Callbacks run under a message handler (in `lua/prelude.lua`) that captures both
//! while the failing frame is still on the stack; errors raised by Rust methods carry no
//! position of their own, so the handler prefixes the innermost Lua frame's.

use crate::exports::astra::host::app::LuaError;

/// Lua's own message for a failed allocation.
pub const OUT_OF_MEMORY: &str = "not enough memory";

pub fn plain(message: impl Into<String>) -> LuaError {
    let message = message.into();
    LuaError { out_of_memory: message == OUT_OF_MEMORY, message, traceback: String::new() }
}

/// Converts an error that escaped to Rust (not through the prelude's handler).
pub fn from_mlua(error: &mlua::Error) -> LuaError {
    match error {
        mlua::Error::CallbackError { traceback, cause } => {
            LuaError { traceback: traceback.clone(), ..from_mlua(root_cause(cause)) }
        }
        mlua::Error::MemoryError(_) => plain(OUT_OF_MEMORY),
        other => plain(other.to_string()),
    }
}

fn root_cause(error: &mlua::Error) -> &mlua::Error {
    match error {
        mlua::Error::CallbackError { cause, .. } => root_cause(cause),
        other => other,
    }
}
