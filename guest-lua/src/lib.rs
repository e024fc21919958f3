//! The Lua guest: a Lua 5.4 interpreter with the Astra Lua API, compiled to a wasm32-wasip2
//! component. The host calls `start` once per instance and then `handle` or `websocket`
//! per request (see `wit/`, one file per interface).
//!
//! An instance is single-threaded and serves one request at a time, so the app lives in
//! one thread-local slot; nothing here needs locks.
//!
//! # Layout
//!
//! - `app`: the app's Lua state and the calls the host makes into it; `errors`, `convert`
//!   and `scoped` are its plumbing, `allocator` Lua's memory.
//! - `modules`: what every app sees (globals, `require`), and which module is where.
//! - `http/`: Lua's `http` on the server side: request, response, socket, cookie, multipart.
//! - `stdlib/`: one file per Astra module (`serde/` a folder, one file per format), beside
//!   its Lua half in `../lua/`.
//! - `view` and `timezone`: the file view and the local time zone apps see, under the
//!   modules and the Lua functions alike.

wit_bindgen::generate!({ world: "guest", path: "../wit" });

mod allocator;
mod app;
mod convert;
mod errors;
mod globals;
mod http;
mod modules;
mod scoped;
mod stdlib;
mod timezone;
mod view;

use std::cell::RefCell;

use exports::astra::host::app::{Guest, IncomingRequest, LuaError, Manifest, Response, Socket, StartConfig};

thread_local! {
    static APP: RefCell<Option<app::App>> = const { RefCell::new(None) };
}

struct Component;

impl Guest for Component {
    fn start(config: StartConfig) -> Result<Option<Manifest>, LuaError> {
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

    fn run_tasks() -> Result<(), LuaError> {
        with_app(|app| {
            app.deliver_published();
            stdlib::tasks::run_due();
            Ok(())
        })
    }
}

fn with_app<T>(f: impl FnOnce(&app::App) -> Result<T, LuaError>) -> Result<T, LuaError> {
    APP.with_borrow(|slot| match slot {
        Some(app) => f(app),
        None => Err(errors::plain("the app was not started")),
    })
}

export!(Component);
