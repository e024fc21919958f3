//! One app inside one instance: its Lua state, the callbacks its entry script registered,
//! and the calls the host makes into it.
//!
//! Route ids are indexes into the `server.routes` list as it stood when `server:run()`
//! returned, so the host and the guest agree on them without sending functions across.

use std::ffi::c_int;

use mlua::chunk::ChunkMode;
use mlua::state::{GcGenParams, GcMode};
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value, ffi};

use crate::errors::{self, plain};
use crate::exports::astra::host::app::{
    IncomingRequest, LuaError, Manifest, Response, Route, RouteConfig, RouteKind, ServerSettings, Socket, StartConfig,
};
use crate::http::{request, response, socket};
use crate::scoped::Scoped;
use crate::{allocator, convert, globals, modules};

pub struct App {
    lua: Lua,
    /// The prelude's error handler, which every call into Lua runs under: see `errors`.
    error_handler: Function,
    /// Per route id: the Lua function to call, if the route has one.
    callbacks: Vec<Option<Callback>>,
}

/// A route's Lua function, how many of its arguments it can see, and where it is defined.
struct Callback {
    function: Function,
    /// A Lua function without `...` cannot reach arguments past its parameters, so
    /// `function() return "hi" end` gets no request or response built for it (building
    /// the two is most of what a small route costs). 2 for varargs and C functions.
    visible_arguments: u8,
    /// `file:line` of the function, for errors in what it returned, which have no line
    /// of their own. None for C functions.
    defined_at: Option<String>,
}

impl Callback {
    fn new(lua: &Lua, function: Function) -> Result<Callback, LuaError> {
        let mut visible_arguments = 2;
        let mut defined_at = None;
        // SAFETY: `lua_getinfo` with '>' pops the function exec_raw pushed, and 'u' and
        // 'S' only read its prototype; neither raises an error. `short_src` is a
        // NUL-terminated string inside `info`.
        unsafe {
            lua.exec_raw::<()>(&function, |state| {
                let mut info: ffi::lua_Debug = std::mem::zeroed();
                if ffi::lua_getinfo(state, c">uS".as_ptr(), &mut info) == 0 {
                    return;
                }
                if info.isvararg == 0 {
                    visible_arguments = info.nparams.min(2);
                }
                if info.linedefined > 0 {
                    let file = std::ffi::CStr::from_ptr(info.short_src.as_ptr()).to_string_lossy();
                    defined_at = Some(format!("{file}:{}", info.linedefined));
                }
            })
        }
        .map_err(|e| errors::from_mlua(&e))?;
        Ok(Callback { function, visible_arguments, defined_at })
    }
}

impl App {
    /// Runs the entry script; the manifest of the server it ran, if it ran one.
    pub fn start(config: &StartConfig) -> Result<(App, Option<Manifest>), LuaError> {
        // SAFETY: the debug library is the one unsafe one; the prelude keeps what it needs
        // and leaves apps only its read-only half (traceback, getinfo).
        let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL_SAFE | StdLib::DEBUG, LuaOptions::default()) };
        // Every request leaves userdata whose finalizers free memory Lua cannot see. The
        // incremental collector runs only a few finalizers per step, so they fell behind
        // and an instance grew to its memory cap after some 400,000 requests; the
        // generational collector runs all pending finalizers after each minor collection,
        // and suits short-lived request garbage besides.
        lua.gc_set_mode(GcMode::Generational(GcGenParams::default()));
        let lua_error = |e: mlua::Error| errors::from_mlua(&e);
        allocator::install(&lua, usize::try_from(config.lua_memory_limit).unwrap_or(usize::MAX)).map_err(lua_error)?;
        crate::stdlib::utils::load_env_files(&config.env_files);
        crate::timezone::install(config.time_zone.as_ref()).map_err(plain)?;
        crate::stdlib::tasks::configure(config.max_tasks, config.min_task_interval_ms);
        let script = globals::Script { entry: &config.entry, arguments: &config.arguments };
        let error_handler = modules::install(&lua, &script).map_err(lua_error)?;

        let mut source = std::fs::read(format!("/app/{}", config.entry))
            .map_err(|e| plain(format!("cannot read {}: {}", config.entry, io_reason(&e))))?;
        // A first `#!` line is not Lua: it goes, its line break stays, so lines keep their numbers.
        if source.starts_with(b"#") {
            let end = source.iter().position(|&b| b == b'\n').unwrap_or(source.len());
            source.drain(..end);
        }
        let chunk = lua.load(source).set_name(format!("@{}", config.entry)).set_mode(ChunkMode::Text);
        let chunk = chunk.into_function().map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => plain(message),
            other => errors::from_mlua(&other),
        })?;
        let app = App { lua, error_handler, callbacks: Vec::new() };
        let ran = app.protected(chunk, ());
        crate::stdlib::tasks::entry_script_done(config.background);
        ran?;

        let server: Option<Table> = app.lua.named_registry_value(modules::SERVER_KEY).map_err(lua_error)?;
        match server {
            Some(server) => app.into_manifest(&server).map(|(app, manifest)| (app, Some(manifest))),
            None => Ok((app, None)),
        }
    }

    pub fn handle(&self, route: u32, incoming: IncomingRequest) -> Result<Response, LuaError> {
        let callback = self.callback(route)?;
        let incoming = Scoped::new(incoming);
        let response = response::LuaResponse::default();
        let response_state = response.state();
        let function = callback.function.clone();
        let outcome = match callback.visible_arguments {
            0 => self.protected(function, ()),
            1 => self
                .create_userdata(request::LuaRequest::new(&incoming))
                .and_then(|request| self.protected(function, request)),
            _ => self.create_userdata(request::LuaRequest::new(&incoming)).and_then(|request| {
                let response = self.create_userdata(response)?;
                self.protected(function, (request, response))
            }),
        };
        incoming.end();
        let returned = outcome?;
        let state = response_state.take();
        convert::into_response(&self.lua, state, returned).map_err(|mut error| {
            if let Some(place) = &callback.defined_at {
                error.message = format!("{place}: {}", error.message);
            }
            error
        })
    }

    pub fn websocket(&self, route: u32, incoming: IncomingRequest, socket: Socket) -> Result<(), LuaError> {
        let callback = self.callback(route)?;
        let (incoming, socket) = (Scoped::new(incoming), Scoped::new(socket));
        let outcome = self.create_userdata(socket::LuaSocket::new(&socket)).and_then(|lua_socket| {
            let request = self.create_userdata(request::LuaRequest::new(&incoming))?;
            self.protected(callback.function.clone(), (lua_socket, request))
        });
        // The connection closes when the handler returns, whatever Lua still refers to.
        socket.end();
        incoming.end();
        outcome.map(drop)
    }

    /// Hands what the app's other instances published to this one's subscribers.
    pub fn deliver_published(&self) {
        crate::stdlib::pubsub::deliver_pending(&self.lua);
    }

    fn callback(&self, route: u32) -> Result<&Callback, LuaError> {
        self.callbacks
            .get(route as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| plain(format!("route {route} has no Lua callback")))
    }

    fn create_userdata<T: mlua::UserData + 'static>(&self, value: T) -> Result<mlua::AnyUserData, LuaError> {
        self.lua.create_userdata(value).map_err(|e| errors::from_mlua(&e))
    }

    /// Calls `f` under the prelude's error handler, as `xpcall` would but without a Lua
    /// frame of its own; its first result, if any.
    fn protected(&self, f: Function, args: impl mlua::IntoLuaMulti) -> Result<Value, LuaError> {
        // SAFETY: the stack holds the handler, `f` and its arguments, pushed by `exec_raw`;
        // `lua_pcall` catches whatever the call raises, and leaves one value, which a flag
        // then joins in the handler's slot.
        let called = unsafe {
            self.lua.exec_raw::<(bool, Value)>((&self.error_handler, f, args), |state| {
                let status = ffi::lua_pcall(state, ffi::lua_gettop(state) - 2, 1, 1);
                ffi::lua_pushboolean(state, c_int::from(status == ffi::LUA_OK));
                ffi::lua_replace(state, 1);
            })
        };
        let (succeeded, value) = called.map_err(|e| errors::from_mlua(&e))?;
        if succeeded { Ok(value) } else { Err(error_value(value)) }
    }

    fn into_manifest(mut self, server: &Table) -> Result<(App, Manifest), LuaError> {
        let settings = ServerSettings {
            hostname: field_or(server, "hostname", "127.0.0.1".to_string())?,
            port: field_or(server, "port", 8080u16)?,
            compression: field_or(server, "compression", false)?,
        };
        let list: Table = field_or(server, "routes", self.lua.create_table().map_err(|e| errors::from_mlua(&e))?)?;
        let mut routes = Vec::new();
        for (index, entry) in list.sequence_values::<Table>().enumerate() {
            let entry = entry.map_err(|e| plain(format!("server.routes[{}]: {e}", index + 1)))?;
            let (route, callback) =
                route_from_table(&entry).map_err(|e| plain(format!("server.routes[{}]: {}", index + 1, e.message)))?;
            routes.push(route);
            let callback = callback.map(|function| Callback::new(&self.lua, function)).transpose()?;
            self.callbacks.push(callback);
        }
        Ok((self, Manifest { settings, routes }))
    }
}

fn route_from_table(entry: &Table) -> Result<(Route, Option<Function>), LuaError> {
    let method: String = field(entry, "method")?;
    let path: String = field_or(entry, "path", String::new())?;
    let func: Value = field_or(entry, "func", Value::Nil)?;
    let (kind, callback) = match method.as_str() {
        "static_dir" => (RouteKind::StaticDir(static_target(entry, "static_dir", &func)?), None),
        "static_file" => (RouteKind::StaticFile(static_target(entry, "static_file", &func)?), None),
        _ => {
            let Value::Function(func) = func else {
                return Err(plain(format!("{} {path}: the callback is not a function", method.to_uppercase())));
            };
            let kind = if method == "web_socket" { RouteKind::Websocket } else { RouteKind::Callback };
            (kind, Some(func))
        }
    };
    let config: Option<Table> = field_or(entry, "config", None)?;
    let config = match config {
        Some(config) => RouteConfig {
            body_limit: field_or(&config, "body_limit", None)?,
            compression: field_or(&config, "compression", None)?,
            headers: field_or::<Option<Table>>(&config, "headers", None)?
                .map(|headers| headers.pairs::<String, String>().collect::<Result<Vec<_>, _>>())
                .transpose()
                .map_err(|e| plain(format!("config.headers: {e}")))?
                .unwrap_or_default(),
        },
        None => RouteConfig { body_limit: None, compression: None, headers: Vec::new() },
    };
    Ok((Route { method, path, kind, config }, callback))
}

/// The folder or file of a static route: its own field, or (as some apps write it) `func`.
fn static_target(entry: &Table, key: &str, func: &Value) -> Result<String, LuaError> {
    match field_or::<Option<String>>(entry, key, None)? {
        Some(target) => Ok(target),
        None => match func {
            Value::String(s) => Ok(s.to_string_lossy()),
            _ => Err(plain(format!("{key} route without a path to serve"))),
        },
    }
}

fn field<T: mlua::FromLua>(table: &Table, key: &str) -> Result<T, LuaError> {
    table.get(key).map_err(|e| plain(format!("field `{key}`: {}", short(&e))))
}

fn field_or<T: mlua::FromLua>(table: &Table, key: &str, default: T) -> Result<T, LuaError> {
    match table.get::<Value>(key) {
        Ok(Value::Nil) => Ok(default),
        Ok(_) => field(table, key),
        Err(e) => Err(plain(format!("field `{key}`: {}", short(&e)))),
    }
}

fn short(error: &mlua::Error) -> String {
    match error {
        mlua::Error::FromLuaConversionError { from, to, .. } => format!("expected {to}, got {from}"),
        other => other.to_string(),
    }
}

/// What a failed call left: the handler's `{message, traceback}` table, or a bare value
/// when the handler could not run (out of memory).
fn error_value(value: Value) -> LuaError {
    match value {
        Value::Table(t) => LuaError {
            traceback: t.get::<String>("traceback").unwrap_or_default(),
            ..plain(t.get::<String>("message").unwrap_or_else(|_| "unknown error".into()))
        },
        Value::String(s) => plain(s.to_string_lossy()),
        Value::Error(e) => errors::from_mlua(&e),
        other => plain(format!("error object is a {}", other.type_name())),
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file in the app folder".into(),
        _ => error.to_string(),
    }
}
