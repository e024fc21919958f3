//! The host services apps reach through their own WIT interface, one module per capability,
//! each against real servers: SQLite files and a PostgreSQL cluster the test starts.

mod sql;
