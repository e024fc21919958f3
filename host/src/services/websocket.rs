//! `astra:host/websocket`: the guest's end of an upgraded connection.
//!
//! The guest holds the socket for the whole handler call; `recv` waits on the network
//! without consuming the app's CPU budget, and every message received starts a fresh
//! budget, so a chat that runs for hours is fine while a handler that spins is not. Every
//! call that waits on the client first gives back the long-call lane it may hold (see
//! `sandbox::scheduler`): a handler that sent to a client that does not read held the one
//! lane of a two-core host, and stalled every app's longer requests.
//!
//! `recv` also ends when pub/sub messages arrive for the instance (`received.published`):
//! a chat handler waits on its client, and must still pass on what other sockets said.

use std::time::Duration;

use axum::extract::ws::{self, WebSocket};
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::astra::host::runtime::Level;
use crate::bindings::astra::host::websocket::{CloseFrame, Host, HostSocket, Message, Received};
use crate::sandbox::store::GuestState;

/// How long a closing handshake may take before the connection is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The close code for a socket closed for being idle: "going away".
const GOING_AWAY: u16 = 1001;

#[derive(Clone, Copy)]
pub struct SocketLimits {
    /// How long `recv` waits for the client's next message before closing the socket.
    pub idle: Duration,
    /// The largest message the app may send: what it may send as a response.
    pub largest_sent: usize,
}

pub struct SocketState {
    socket: WebSocket,
    open: bool,
    limits: SocketLimits,
}

impl SocketState {
    pub fn new(socket: WebSocket, limits: SocketLimits) -> Self {
        SocketState { socket, open: true, limits }
    }

    async fn close(&mut self, code: u16, reason: &str) {
        self.open = false;
        let close = ws::Message::Close(Some(ws::CloseFrame { code, reason: reason.into() }));
        let _ = tokio::time::timeout(CLOSE_GRACE, self.socket.send(close)).await;
    }
}

impl Host for GuestState {}

impl HostSocket for GuestState {
    async fn recv(&mut self, this: Resource<SocketState>) -> Result<Received> {
        self.clock.release();
        if self.pubsub.has_deliveries() {
            return Ok(Received::Published);
        }
        let inbox = self.pubsub.inbox.clone();
        let state = self.table.get_mut(&this)?;
        let idle = state.limits.idle;
        let received = loop {
            if !state.open {
                break Received::Closed;
            }
            // Pub/sub messages for this instance's subscribers end the wait too: a chat
            // handler must pass on what the app's other sockets said.
            let next = tokio::select! {
                next = tokio::time::timeout(idle, state.socket.recv()) => next,
                () = inbox.arrived.notified() => break Received::Published,
            };
            match next {
                Ok(Some(Ok(message))) => {
                    if let ws::Message::Close(_) = message {
                        state.open = false;
                    }
                    break Received::Message(from_axum(message));
                }
                Ok(Some(Err(_)) | None) => state.open = false,
                Err(_) => {
                    state.close(GOING_AWAY, "idle for too long").await;
                    let idle = crate::config::units::Span(idle);
                    let closed =
                        format_args!("a WebSocket was closed after {idle} without a message (websocket_idle_timeout)");
                    self.log.report(Level::Info, closed);
                    break Received::Closed;
                }
            }
        };
        self.clock.restart();
        Ok(received)
    }

    async fn send(&mut self, this: Resource<SocketState>, message: Message) -> Result<Result<(), String>> {
        self.clock.release();
        let state = self.table.get_mut(&this)?;
        if !state.open {
            return Ok(Err("the connection is closed".into()));
        }
        let size = match &message {
            Message::Text(text) => text.len(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data.len(),
            Message::Close(frame) => frame.as_ref().map_or(0, |frame| frame.reason.len()),
        };
        if size > state.limits.largest_sent {
            let limit = crate::config::units::ByteSize(state.limits.largest_sent as u64);
            return Ok(Err(format!("a message of {size} bytes is larger than the response_limit of {limit}")));
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
        self.clock.release();
        let mut state = self.table.delete(this)?;
        if state.open {
            state.close(1000, "").await;
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
