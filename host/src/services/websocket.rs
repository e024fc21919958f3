//! `astra:host/websocket`: the guest's end of an upgraded connection.
//!
//! The guest holds the socket for the whole handler call; `recv` waits on the network
//! without consuming the app's CPU budget, and every message received starts a fresh
//! budget, so a chat that runs for hours is fine while a handler that spins is not.

use axum::extract::ws::{self, WebSocket};
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::astra::host::websocket::{CloseFrame, Host, HostSocket, Message};
use crate::sandbox::store::GuestState;

/// How long a closing handshake may take before the connection is simply dropped.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

pub struct SocketState {
    socket: WebSocket,
    open: bool,
}

impl SocketState {
    pub fn new(socket: WebSocket) -> Self {
        SocketState { socket, open: true }
    }
}

impl Host for GuestState {}

impl HostSocket for GuestState {
    async fn recv(&mut self, this: Resource<SocketState>) -> Result<Option<Message>> {
        self.clock.release();
        let state = self.table.get_mut(&this)?;
        let message = loop {
            if !state.open {
                break None;
            }
            match state.socket.recv().await {
                Some(Ok(message)) => {
                    if let ws::Message::Close(_) = message {
                        state.open = false;
                    }
                    break Some(from_axum(message));
                }
                Some(Err(_)) | None => state.open = false,
            }
        };
        self.clock.restart();
        Ok(message)
    }

    async fn send(&mut self, this: Resource<SocketState>, message: Message) -> Result<Result<(), String>> {
        let state = self.table.get_mut(&this)?;
        if !state.open {
            return Ok(Err("the connection is closed".into()));
        }
        let closing = matches!(message, Message::Close(_));
        let sent = state.socket.send(into_axum(message)).await;
        if closing || sent.is_err() {
            state.open = false;
        }
        Ok(sent.map_err(|e| e.to_string()))
    }

    /// The handler is done with the socket: close it properly if it is still open.
    async fn drop(&mut self, this: Resource<SocketState>) -> Result<()> {
        let mut state = self.table.delete(this)?;
        if state.open {
            let close = ws::Message::Close(Some(ws::CloseFrame { code: 1000, reason: "".into() }));
            let _ = tokio::time::timeout(CLOSE_GRACE, state.socket.send(close)).await;
        }
        Ok(())
    }
}

fn from_axum(message: ws::Message) -> Message {
    match message {
        ws::Message::Text(text) => Message::Text(text.to_string()),
        ws::Message::Binary(data) => Message::Binary(data.to_vec()),
        ws::Message::Ping(data) => Message::Ping(data.to_vec()),
        ws::Message::Pong(data) => Message::Pong(data.to_vec()),
        ws::Message::Close(frame) => {
            Message::Close(frame.map(|f| CloseFrame { code: f.code, reason: f.reason.to_string() }))
        }
    }
}

fn into_axum(message: Message) -> ws::Message {
    match message {
        Message::Text(text) => ws::Message::Text(text.into()),
        Message::Binary(data) => ws::Message::Binary(data.into()),
        Message::Ping(data) => ws::Message::Ping(data.into()),
        Message::Pong(data) => ws::Message::Pong(data.into()),
        Message::Close(frame) => {
            ws::Message::Close(frame.map(|f| ws::CloseFrame { code: f.code, reason: f.reason.into() }))
        }
    }
}
