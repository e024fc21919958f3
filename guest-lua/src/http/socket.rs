//! `socket`, the argument of a WebSocket handler.
//!
//! `recv` returns nil once the client is gone, as Astra documents. Handlers are often
//! written as `while true do pprint(socket:recv()) end`, which would then spin forever, so
//! a second `recv` after that nil raises an error that ends the handler.

use std::cell::Cell;

use mlua::{Lua, Table, UserData, UserDataMethods, Value};

use crate::astra::host::websocket::{CloseFrame, Message, Received, Socket};
use crate::convert;
use crate::scoped::Scoped;

pub const CLOSED: &str = "the WebSocket connection is closed";

pub struct LuaSocket {
    socket: Scoped<Socket>,
    saw_end: Cell<bool>,
}

impl LuaSocket {
    pub fn new(socket: &Scoped<Socket>) -> Self {
        LuaSocket { socket: socket.share(), saw_end: Cell::new(false) }
    }

    fn send(&self, message: Message) -> mlua::Result<()> {
        self.socket.with(CLOSED, |socket| socket.send(&message))?.map_err(|_| mlua::Error::runtime(CLOSED))
    }
}

impl UserData for LuaSocket {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("recv", |lua, this, ()| {
            if this.saw_end.get() {
                return Err(mlua::Error::runtime(CLOSED));
            }
            loop {
                match this.socket.with(CLOSED, Socket::recv)? {
                    Received::Message(message) => return message_table(lua, message).map(Some),
                    Received::Closed => {
                        this.saw_end.set(true);
                        return Ok(None);
                    }
                    // Other instances published to this one's subscribers, who may well
                    // send on this socket: they run now, then the wait goes on.
                    Received::Published => crate::stdlib::pubsub::deliver_pending(lua),
                }
            }
        });
        methods.add_method("send", |_, this, (kind, payload): (String, Value)| {
            let message = match kind.as_str() {
                "text" => Message::Text(text(payload)?),
                "bytes" | "binary" => Message::Binary(bytes(payload)?),
                "ping" => Message::Ping(bytes(payload)?),
                "pong" => Message::Pong(bytes(payload)?),
                "close" => Message::Close(close_frame(payload)?),
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "unknown WebSocket message type {other:?} (expected text, bytes, ping, pong or close)"
                    )));
                }
            };
            this.send(message)
        });
        methods.add_method("send_text", |_, this, payload: Value| this.send(Message::Text(text(payload)?)));
        methods.add_method("send_bytes", |_, this, payload: Value| this.send(Message::Binary(bytes(payload)?)));
        methods.add_method("send_ping", |_, this, payload: Value| this.send(Message::Ping(bytes(payload)?)));
        methods.add_method("send_pong", |_, this, payload: Value| this.send(Message::Pong(bytes(payload)?)));
        methods.add_method("send_close", |_, this, frame: Value| this.send(Message::Close(close_frame(frame)?)));
    }
}

fn message_table(lua: &Lua, message: Message) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let (kind, value) = match message {
        Message::Text(text) => ("text", Value::String(lua.create_string(text)?)),
        Message::Binary(data) => ("bytes", Value::String(lua.create_string(data)?)),
        Message::Ping(data) => ("ping", Value::String(lua.create_string(data)?)),
        Message::Pong(data) => ("pong", Value::String(lua.create_string(data)?)),
        Message::Close(frame) => (
            "close",
            match frame {
                Some(frame) => {
                    let t = lua.create_table()?;
                    t.set("code", frame.code)?;
                    t.set("reason", frame.reason)?;
                    Value::Table(t)
                }
                None => Value::Nil,
            },
        ),
    };
    table.set("type", kind)?;
    table.set("value", value)?;
    Ok(table)
}

fn text(payload: Value) -> mlua::Result<String> {
    match payload {
        Value::String(s) => Ok(s.to_str()?.to_string()),
        other => Err(mlua::Error::runtime(format!("a text message must be a string, got {}", other.type_name()))),
    }
}

/// A payload given as a string, or as a table of 8-bit numbers.
fn bytes(payload: Value) -> mlua::Result<Vec<u8>> {
    match payload {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Nil => Ok(Vec::new()),
        Value::Table(table) if table.raw_len() == 0 => Ok(Vec::new()),
        Value::Table(table) => convert::byte_list(&table)
            .ok_or_else(|| mlua::Error::runtime("a byte table must hold only numbers from 0 to 255")),
        other => Err(mlua::Error::runtime(format!("expected a string or a table of bytes, got {}", other.type_name()))),
    }
}

/// `{code = 1000, reason = "..."}`, a bare code, or nothing (an unclean close).
fn close_frame(frame: Value) -> mlua::Result<Option<CloseFrame>> {
    match frame {
        Value::Nil => Ok(None),
        Value::Integer(_) | Value::Number(_) => {
            Ok(Some(CloseFrame { code: close_code(frame)?, reason: String::new() }))
        }
        Value::Table(table) => Ok(Some(CloseFrame {
            code: close_code(table.get("code")?)?,
            reason: table.get::<Option<String>>("reason")?.unwrap_or_default(),
        })),
        other => {
            Err(mlua::Error::runtime(format!("a close frame must be a table or a code, got {}", other.type_name())))
        }
    }
}

fn close_code(value: Value) -> mlua::Result<u16> {
    match value {
        Value::Integer(n) => u16::try_from(n).ok(),
        Value::Number(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Some(n as u16),
        _ => None,
    }
    .ok_or_else(|| mlua::Error::runtime("a close code must be a whole number from 0 to 65535"))
}
