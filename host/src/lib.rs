//! astra-host: many untrusted Astra Lua web apps on one machine, each in its own
//! WebAssembly sandbox, behind one HTTP server.
//!
//! Errors use wasmtime's own `Error`/`Result` (wasmtime 48 does not use anyhow's), so
//! traps and I/O errors travel through one type and can still be told apart by downcasting.

pub mod api;
pub mod app;
pub mod app_config;
pub mod apps;
pub mod bindings;
pub mod cli;
pub mod data_quota;
pub mod engine;
pub mod export;
pub mod http;
pub mod instance;
pub mod limits;
pub mod pool;
pub mod rate;
pub mod routes;
pub mod scheduler;
pub mod shutdown;
pub mod store;
pub mod units;
