//! The Astra standard library's modules, one file each, named as Lua requires them; each
//! beside its Lua half in `lua/` where it has one. `modules.rs` registers them.

pub mod crypto;
pub mod database;
pub mod datetime;
pub mod fs;
pub mod pubsub;
pub mod regex;
pub mod tasks;
pub mod templates;
pub mod utils;

pub mod serde;
