//! The network as apps reach it: the egress rules (`policy`, pure) and the one way to open
//! a connection under them (`connect`). Every service that dials out (PostgreSQL today,
//! outbound HTTP next) goes through here, so the rules are checked in one place.

pub mod config;
pub mod connect;
pub mod policy;

pub use connect::{ConnectError, connect};
pub use policy::{AllowList, EgressPolicy};
