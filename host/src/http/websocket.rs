//! WebSocket routes: the upgrade is answered by axum, then the Lua handler runs on a
//! borrowed instance for as long as it keeps the connection.
//!
//! The instance is taken before the upgrade, so a busy app refuses with 503 instead of
//! accepting a socket it cannot serve. Sockets may hold at most `max_instances - 1` of the
//! app's instances, so that its HTTP routes always keep one, and a socket whose client
//! sends nothing for `websocket_idle_timeout` is closed. What the host queues for a client
//! is bounded: a message is at most `response_limit`, and tungstenite's write buffer at
//! most one such message more than its usual size (by default it had no bound, and a
//! client sending pings without reading its pongs grew the host by 52 MB a second).

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Request, header};

use super::reply::{self, RequestLabel};
use crate::apps::app::Ready;
use crate::apps::routes::Target;
use crate::sandbox::instance::{CallError, CallLimits};
use crate::services::request::RequestState;
use crate::services::websocket::{SocketLimits, SocketState};

/// tungstenite's usual write buffer, before it flushes.
const WRITE_BUFFER: usize = 128 * 1024;

/// The message the guest raises once a handler reads past the end of its connection:
/// the normal way for `while true do socket:recv() end` to finish.
const CLOSED: &str = "the WebSocket connection is closed";

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

pub async fn serve(
    ready: &Ready,
    target: &Target,
    params: Vec<(String, String)>,
    request: Request<Body>,
    client: SocketAddr,
) -> Response {
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let label = RequestLabel::websocket(&parts);
    let pool = ready.pool.clone();
    let limits = pool.limits();
    let deadline = Instant::now() + limits.request_timeout.0;
    let admitted = match pool.admit() {
        Ok(admission) => admission.socket_instance(deadline).await,
        Err(error) => Err(error),
    };
    let mut lease = match admitted {
        Ok(lease) => lease,
        Err(error) => return reply::unavailable(pool.log(), &label, error),
    };
    // A message received is bounded like a request body, one sent like a response.
    let received = ready.body_limit(target);
    let sent = limits.response_limit.as_usize();
    let upgrade = upgrade
        .max_message_size(received)
        .max_frame_size(received)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(WRITE_BUFFER + sent);
    let socket_limits = SocketLimits { idle: limits.websocket_idle_timeout.0, largest_sent: sent };
    let request = RequestState::new(parts, Bytes::new(), params, client.ip());
    let call_limits = CallLimits { cpu_time: limits.cpu_time.0, wall_time: None };
    let route = target.id;
    upgrade.on_upgrade(move |socket| async move {
        let socket = SocketState::new(socket, socket_limits);
        let outcome = lease.instance.websocket(route, request, socket, call_limits).await;
        match outcome {
            Ok(()) => lease.finish(),
            Err(CallError::Lua(error)) => {
                lease.finish();
                if !error.message.contains(CLOSED) {
                    reply::log_lua_error(pool.log(), &label, &error);
                }
            }
            Err(CallError::Fault(fault)) => reply::log_fault(pool.log(), &label, &fault),
        }
    })
}
