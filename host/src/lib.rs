//! astra-host: many untrusted Astra Lua web apps on one machine, each in its own
//! WebAssembly sandbox, behind one HTTP server.
//!
//! # Layout
//!
//! Dependencies point one way: `config` and `bindings` ← `services` ← `sandbox` ← `apps`
//! ← `http` ← `main`.
//!
//! - `config/`: units, limits, an app's `astra.toml` and `.env`.
//! - `bindings`: the Rust side of `wit/`, which every other module uses.
//! - `services/`: the host side of each WIT interface the guest imports: `sql/`
//!   (`database`), `outbound_http/` (`http.request`), `tasks` (timers), `pubsub` (app-wide
//!   topics); `net/` holds the egress rules every service that dials out goes through.
//! - `sandbox/`: the wasmtime engine, instances and their limits, the instance pool, CPU
//!   fairness, the data-folder limit.
//! - `apps/`: the hosted apps, each one's route table, and which Host reaches which app.
//! - `http/`: the HTTP front: one server, routing, responses, static files, WebSockets.
//! - `logging`: the host's log, one line per record whatever an app writes.
//!
//! Errors use wasmtime's own `Error`/`Result` (wasmtime 48 does not use anyhow's), so
//! traps and I/O errors travel through one type and can still be told apart by downcasting.

pub mod apps;
pub mod bindings;
pub mod cli;
pub mod config;
pub mod export;
pub mod http;
pub mod logging;
pub mod rate;
pub mod sandbox;
pub mod services;
pub mod shutdown;
