//! Host-side Rust bindings of `wit/astra.wit`. Imports are async so that host calls (body
//! reads, WebSocket receives) wait without blocking a runtime thread.

wasmtime::component::bindgen!({
    world: "guest",
    path: "../wit",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "astra:host/request.incoming-request": crate::api::request::RequestState,
        "astra:host/websocket.socket": crate::api::websocket::SocketState,
    },
});

pub use astra::host::types::{Cookie, CookieChange, LuaError, Response};
pub use exports::astra::host::app::{Manifest, Route, RouteConfig, RouteKind, StartConfig};
