//! The Lua guest: a Lua 5.4 interpreter with the Astra Lua API, compiled to a wasm32-wasip2
//! component. The host calls `start` once per instance and then `handle` or `websocket`
//! per request (see `wit/astra.wit`).
//!
//! An instance is single-threaded and serves one request at a time, so the app lives in
//! one thread-local slot; nothing here needs locks.

wit_bindgen::generate!({ world: "guest", path: "../wit" });

mod allocator;
mod app;
mod convert;
mod cookie;
mod crypto;
mod datetime;
mod errors;
mod json;
mod lua_modules;
mod multipart;
mod request;
mod response;
mod scoped;
mod serde_module;
mod socket;

use std::cell::RefCell;

use exports::astra::host::app::{Guest, IncomingRequest, LuaError, Manifest, Response, Socket, StartConfig};

thread_local! {
    static APP: RefCell<Option<app::App>> = const { RefCell::new(None) };
}

struct Component;

impl Guest for Component {
    fn start(config: StartConfig) -> Result<Manifest, LuaError> {
        let (app, manifest) = app::App::start(&config)?;
        APP.with_borrow_mut(|slot| *slot = Some(app));
        Ok(manifest)
    }

    fn handle(route: u32, request: IncomingRequest) -> Result<Response, LuaError> {
        with_app(|app| app.handle(route, request))
    }

    fn websocket(route: u32, request: IncomingRequest, socket: Socket) -> Result<(), LuaError> {
        with_app(|app| app.websocket(route, request, socket))
    }
}

fn with_app<T>(f: impl FnOnce(&app::App) -> Result<T, LuaError>) -> Result<T, LuaError> {
    APP.with_borrow(|slot| match slot {
        Some(app) => f(app),
        None => Err(errors::plain("the app was not started")),
    })
}

export!(Component);
