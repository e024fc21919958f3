//! Routes served by a Lua callback: borrow an instance, call the guest, answer.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::response::Response;
use http::{Request, StatusCode, header};

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
    let body_limit = target.options.body_limit.unwrap_or(pool.limits().body_limit.as_usize());
    if declared_length(&request).is_some_and(|length| length > body_limit as u64) {
        return reply::plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than this route's limit of {body_limit} bytes"),
        );
    }
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
    let label = RequestLabel::request(&parts);
    let state = RequestState::new(parts, body, params, client.ip(), body_limit);
    let body_too_large = state.body_too_large.clone();

    let mut lease = match pool.acquire().await {
        Ok(lease) => lease,
        Err(error) => return reply::unavailable(pool.log(), &label, error),
    };
    match lease.instance.handle(target.id, state, pool.call_limits()).await {
        Ok(response) => {
            lease.finish();
            let response_limit = pool.limits().response_limit;
            if response.body.len() as u64 > response_limit.0 {
                let too_large = format_args!("{label}: the response body is larger than the {response_limit} limit");
                pool.log().report(Level::Error, too_large);
                return reply::plain(StatusCode::INTERNAL_SERVER_ERROR, "response size limit exceeded");
            }
            let to = reply::Answering { log: pool.log(), route: &label, hosts: &app.hosts };
            reply::from_guest(&to, response, &target.options.headers)
        }
        Err(CallError::Lua(error)) => {
            lease.finish();
            if body_too_large.load(Ordering::Relaxed) {
                return reply::plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is larger than this route's limit",
                );
            }
            reply::lua_error(pool.log(), &label, &error)
        }
        Err(CallError::Fault(fault)) => reply::fault(pool.log(), &label, &fault),
    }
}

fn declared_length(request: &Request<Body>) -> Option<u64> {
    request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}
