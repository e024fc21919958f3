//! The Astra standard library inside the sandbox, end to end: the real binary runs real Lua
//! apps and scripts (`tests/apps/stdlib/`), one module here per Astra module.

mod lua_suite;
mod modules;
mod runtime;
