//! The host services apps reach through their own WIT interface, one module per capability,
//! each against real servers: SQLite files, a PostgreSQL cluster and HTTP servers the tests
//! start.

mod outbound_http;
mod pubsub;
mod sql;
mod tasks;
