//! Request routing: the request's host to app, then method and path to the app's route.
//!
//! Which host a request is for is read as RFC 9112 §3.2 says, strictly: a front proxy that
//! routes or authorises on one reading while astra-host serves another would send one
//! tenant's requests to another. An absolute-form target's authority wins over `Host`;
//! several `Host` headers, or one that is not a host and a port, are refused (400).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{Request, StatusCode, Version, header};

use super::bodies::held_frames;
use super::encoding::ChargedTo;
use super::reply::RequestLabel;
use super::{callback, encoding, reply, static_files, websocket};
use crate::apps::Registry;
use crate::apps::app::{App, AppState};
use crate::apps::routes::{Lookup, TargetKind, static_rest};

pub async fn dispatch(registry: &Registry, client: SocketAddr, request: Request<Body>) -> Response {
    let host = match requested_host(&request) {
        Ok(host) => host,
        Err(refusal) => {
            // What else this client sends on the connection cannot be trusted to be read alike.
            let mut response = reply::plain(StatusCode::BAD_REQUEST, refusal);
            response.headers_mut().insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            return response;
        }
    };
    if let Some(expectation) = request.headers().get(header::EXPECT)
        && !expectation.as_bytes().eq_ignore_ascii_case(b"100-continue")
    {
        return reply::plain(StatusCode::EXPECTATION_FAILED, "the only expectation served is 100-continue");
    }
    match registry.find(host) {
        Some(app) => serve_app(app, request, client).await,
        None => reply::plain(StatusCode::NOT_FOUND, "no app is served at this host name"),
    }
}

/// The host a request is for (with its port, if the client gave one), or why the request is
/// refused. None only for HTTP/1.0 without a Host, which the default app answers.
fn requested_host(request: &Request<Body>) -> Result<Option<&str>, &'static str> {
    if let Some(authority) = request.uri().authority() {
        return Ok(Some(authority.host()));
    }
    let mut values = request.headers().get_all(header::HOST).iter();
    let value = match (values.next(), values.next()) {
        (Some(value), None) => value,
        (None, _) if request.version() == Version::HTTP_10 => return Ok(None),
        (None, _) => return Err("a request needs a Host header"),
        (Some(_), Some(_)) => return Err("a request may have only one Host header"),
    };
    value.to_str().ok().filter(|value| is_host_and_port(value)).map(Some).ok_or("the Host header is not a host name")
}

/// `uri-host [":" port]`: a name or an IPv4 address (RFC 3986's reg-name characters) or a
/// bracketed IPv6 address, then an optional port of digits.
fn is_host_and_port(value: &str) -> bool {
    let reg_name = |b: u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b);
    let (host_ok, after_host) = match value.strip_prefix('[').and_then(|bracketed| bracketed.split_once(']')) {
        Some((address, rest)) => (address.parse::<std::net::Ipv6Addr>().is_ok(), rest),
        None => {
            let end = value.find(':').unwrap_or(value.len());
            (end > 0 && value[..end].bytes().all(reg_name), &value[end..])
        }
    };
    let port_ok = match after_host.strip_prefix(':') {
        Some(port) => port.bytes().all(|b| b.is_ascii_digit()),
        None => after_host.is_empty(),
    };
    host_ok && port_ok
}

async fn serve_app(app: &Arc<App>, request: Request<Body>, client: SocketAddr) -> Response {
    if app.shutdown.is_requested() {
        return reply::plain(StatusCode::SERVICE_UNAVAILABLE, "this app has shut down");
    }
    let state = app.state();
    let ready = match &*state {
        AppState::Ready(ready) => ready,
        AppState::Failed(_) | AppState::Finished => {
            return reply::plain(StatusCode::SERVICE_UNAVAILABLE, "this app failed to start; the host log says why");
        }
    };
    let limits = ready.pool.limits();
    if request.headers().len() > limits.max_headers as usize {
        return reply::plain(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "too many request headers");
    }
    let wants_upgrade = websocket::is_upgrade(request.headers());
    let lookup = ready.routes.lookup(request.method(), request.uri().path(), wants_upgrade);
    let (target, params) = match lookup {
        Lookup::Found { target, params } => (target, params),
        Lookup::NotFound => return reply::plain(StatusCode::NOT_FOUND, "not found"),
        Lookup::MethodNotAllowed { allow } => {
            let mut response = reply::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            if let Ok(allow) = allow.parse() {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            return response;
        }
    };
    let compress = target.options.compression.unwrap_or(ready.manifest.settings.compression);
    let compressing = compress.then(|| {
        let accept_encoding = request.headers().get(header::ACCEPT_ENCODING).cloned();
        (accept_encoding, RequestLabel::request(request.method(), request.uri()))
    });
    // Every path but the callback one is boxed: a request's future is moved whole several
    // times on its way through hyper and axum, and these would make it kilobytes larger.
    let response = match &target.kind {
        TargetKind::Callback => callback::serve(app, ready, target, params, request, client).await,
        TargetKind::WebSocket => return Box::pin(websocket::serve(ready, target, params, request, client)).await,
        TargetKind::StaticDir(dir) => Box::pin(static_files::serve_dir(dir, static_rest(&params), request)).await,
        TargetKind::StaticFile(file) => Box::pin(static_files::serve_file(file, request)).await,
    };
    let response = reply::with_route_headers(response, &target.options.headers);
    // A callback's body is held against the app's buffers already (see `reply::from_guest`);
    // a file's, or what compressing a body made, is held frame by frame.
    let mut held = matches!(target.kind, TargetKind::Callback);
    let response = match compressing {
        Some((accept_encoding, route)) => {
            let was_encoded = response.headers().contains_key(header::CONTENT_ENCODING);
            let charged_to = ChargedTo { work: ready.pool.host_work(), log: ready.pool.log().clone(), route };
            let response = Box::pin(encoding::compressed(response, accept_encoding, charged_to)).await;
            held &= was_encoded || !response.headers().contains_key(header::CONTENT_ENCODING);
            response
        }
        None => response,
    };
    if held { response } else { response.map(|body| held_frames(body, ready.buffers.clone())) }
}

#[cfg(test)]
mod tests {
    use super::is_host_and_port;

    #[test]
    fn host_headers() {
        for good in
            ["good.localhost", "good.localhost:8080", "GOOD.LOCALHOST.:9", "127.0.0.1:80", "[::1]", "[::1]:80", "a:"]
        {
            assert!(is_host_and_port(good), "{good}");
        }
        for bad in [
            "",
            ":80",
            "good.localhost:evil.localhost",
            "evil@good.localhost",
            "a b",
            "[::1",
            "[nope]",
            "[::1]x",
            "a:1:2",
        ] {
            assert!(!is_host_and_port(bad), "{bad}");
        }
    }
}
