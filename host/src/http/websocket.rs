//! WebSocket routes: the upgrade is answered by axum, then the Lua handler runs on a
//! borrowed instance for as long as it keeps the connection.
//!
//! The instance is taken before the upgrade, so a busy app refuses with 503 instead of
//! accepting a socket it cannot serve: an app has at most `max_instances` sockets open.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Request, header};

use super::reply::{self, RequestLabel};
use crate::apps::app::Ready;
use crate::apps::routes::Target;
use crate::sandbox::instance::{CallError, CallLimits};
use crate::services::request::RequestState;
use crate::services::websocket::SocketState;

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
    let (mut parts, body) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let label = RequestLabel::websocket(&parts);
    let pool = ready.pool.clone();
    let mut lease = match pool.acquire().await {
        Ok(lease) => lease,
        Err(error) => return reply::unavailable(pool.log(), &label, error),
    };
    // A message is bounded like a request body; open sockets are bounded by
    // max_instances, since each holds an instance for as long as it is open.
    let body_limit = target.options.body_limit.unwrap_or(pool.limits().body_limit.as_usize());
    let upgrade = upgrade.max_message_size(body_limit).max_frame_size(body_limit);
    let request = RequestState::new(parts, body, params, client.ip(), body_limit);
    let limits = CallLimits { cpu_time: pool.limits().cpu_time.0, wall_time: None };
    let route = target.id;
    upgrade.on_upgrade(move |socket| async move {
        let outcome = lease.instance.websocket(route, request, SocketState::new(socket), limits).await;
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
