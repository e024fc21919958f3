//! Lua's `http` module: on the server side, the request and response a route callback
//! gets, the WebSocket a handler holds, cookies and multipart bodies (the Lua half is
//! `lua/http.lua`); and the client, `http.request`.

pub mod client;
pub mod cookie;
pub mod multipart;
pub mod request;
pub mod response;
pub mod socket;
