//! What the operator and the apps configure: units, limits, and each app's own files.
//!
//! Everything here is parsing and checking, no I/O beyond reading the files: a raw serde
//! table (`deny_unknown_fields`) is read first and then validated into a typed value, so
//! that every error can name the file and the key.

pub mod app;
pub mod hosts;
pub mod limits;
pub mod operator;
pub mod timezone;
pub mod units;
