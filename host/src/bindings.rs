//! Host-side Rust bindings of `wit/`. The imports that wait on a client or a database
//! (WebSocket receive, send and close; opening a database and running a statement; sending an
//! HTTP request; sleeping) are
//! async, so they wait without blocking a runtime thread; the rest answer at once (the request body is read before the call) and are plain calls,
//! which cross the boundary for a fraction of an async call's cost.

wasmtime::component::bindgen!({
    world: "guest",
    path: "../wit",
    imports: {
        "astra:host/websocket.[method]socket.recv": async | trappable,
        "astra:host/websocket.[method]socket.send": async | trappable,
        "astra:host/websocket.[drop]socket": async | trappable,
        "astra:host/sql.[static]database.open": async | trappable,
        "astra:host/sql.[method]database.execute": async | trappable,
        "astra:host/sql.[method]database.query": async | trappable,
        "astra:host/outbound-http.send": async | trappable,
        "astra:host/tasks.sleep": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    with: {
        "astra:host/request.incoming-request": crate::services::request::RequestState,
        "astra:host/websocket.socket": crate::services::websocket::SocketState,
        "astra:host/sql.database": crate::services::sql::DatabaseState,
    },
});

pub use astra::host::types::{BodyKind, Cookie, CookieChange, LuaError, Response};
pub use exports::astra::host::app::{EnvFile, Manifest, Route, RouteConfig, RouteKind, StartConfig, TimeZone};
