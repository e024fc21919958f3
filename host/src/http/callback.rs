//! Routes served by a Lua callback: admit the request, read its body, borrow an instance,
//! call the guest, answer.
//!
//! One deadline, `request_timeout` from the start, bounds reading the body, waiting for an
//! instance and the call together.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body::Body as _;

use super::bodies;
use super::encoding;
use super::reply::{self, RequestLabel};
use crate::apps::app::{App, Ready};
use crate::apps::routes::Target;
use crate::bindings::astra::host::runtime::Level;
use crate::sandbox::instance::CallError;
use crate::services::request::RequestState;

pub async fn serve(
    app: &App,
    ready: &Ready,
    target: &Target,
    params: Vec<(String, String)>,
    request: Request<Body>,
    client: SocketAddr,
) -> Response {
    let pool = &ready.pool;
    let deadline = Instant::now() + pool.limits().request_timeout.0;
    let body_limit = ready.body_limit(target);
    if declared_length(&request).is_some_and(|length| length > body_limit as u64) {
        return bodies::Unread::TooLarge(body_limit).answer();
    }
    let label = RequestLabel::request(request.method(), request.uri());
    let admission = match pool.admit() {
        Ok(admission) => admission,
        Err(error) => return reply::unavailable(pool.log(), &label, error),
    };
    // Boxed, as the decoder's future is large and few requests have a Content-Encoding.
    let request = if request.headers().contains_key(header::CONTENT_ENCODING) {
        match Box::pin(encoding::decompressed(request)).await {
            Ok(request) => request,
            Err(refusal) => return refusal,
        }
    } else {
        request
    };
    let (parts, body) = request.into_parts();
    // Nearly every request has no body: no timer is armed for those.
    let body = if body.is_end_stream() {
        Bytes::new()
    } else {
        let reading = bodies::read_ahead(body, body_limit, &ready.buffers);
        match tokio::time::timeout_at(deadline.into(), Box::pin(reading)).await {
            Ok(Ok(body)) => body,
            Ok(Err(unread)) => return unread.answer(),
            Err(_) => return body_timed_out(),
        }
    };
    let state = RequestState::new(parts, body, params, client.ip());

    let mut lease = match admission.instance(deadline).await {
        Ok(lease) => lease,
        Err(error) => return reply::unavailable(pool.log(), &label, error),
    };
    match lease.instance.handle(target.id, state, pool.call_limits(deadline)).await {
        Ok(response) => {
            lease.finish();
            let response_limit = pool.limits().response_limit;
            if response.body.len() as u64 > response_limit.0 {
                let too_large = format_args!("{label}: the response body is larger than the {response_limit} limit");
                pool.log().report(Level::Error, too_large);
                return reply::plain(StatusCode::INTERNAL_SERVER_ERROR, "response size limit exceeded");
            }
            let to = reply::Answering { log: pool.log(), buffers: &ready.buffers, route: &label, hosts: &app.hosts };
            reply::from_guest(&to, response, &target.options.headers)
        }
        Err(CallError::Lua(error)) => {
            lease.finish();
            reply::lua_error(pool.log(), &label, &error)
        }
        Err(CallError::Fault(fault)) => reply::fault(pool.log(), &label, &fault),
    }
}

/// 408, and the connection closed: what the client sends after is not a request.
fn body_timed_out() -> Response {
    let mut response =
        reply::plain(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive within the request timeout");
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn declared_length(request: &Request<Body>) -> Option<u64> {
    request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}
