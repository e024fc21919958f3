//! Request routing: Host header to app, then method and path to the app's route.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{Request, StatusCode, header};

use super::{callback, encoding, reply, static_files, websocket};
use crate::apps::Registry;
use crate::apps::app::{App, AppState};
use crate::apps::routes::{Lookup, TargetKind, static_rest};

pub async fn dispatch(registry: &Registry, client: SocketAddr, request: Request<Body>) -> Response {
    let host =
        request.headers().get(header::HOST).and_then(|value| value.to_str().ok()).or_else(|| request.uri().host());
    match registry.find(host) {
        Some(app) => serve_app(app, request, client).await,
        None => reply::plain(StatusCode::NOT_FOUND, "no app is served at this host name"),
    }
}

async fn serve_app(app: &Arc<App>, request: Request<Body>, client: SocketAddr) -> Response {
    if app.shutdown.is_requested() {
        return reply::plain(StatusCode::SERVICE_UNAVAILABLE, "this app has shut down");
    }
    let state = app.state();
    let ready = match &*state {
        AppState::Ready(ready) => ready,
        AppState::Failed(_) => {
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
    let accept_encoding = compress.then(|| request.headers().get(header::ACCEPT_ENCODING).cloned()).flatten();
    // Every path but the callback one is boxed: a request's future is moved whole several
    // times on its way through hyper and axum, and these would make it kilobytes larger.
    let response = match &target.kind {
        TargetKind::Callback => callback::serve(app, ready, target, params, request, client).await,
        TargetKind::WebSocket => return Box::pin(websocket::serve(ready, target, params, request, client)).await,
        TargetKind::StaticDir(dir) => Box::pin(static_files::serve_dir(dir, static_rest(&params), request)).await,
        TargetKind::StaticFile(file) => Box::pin(static_files::serve_file(file, request)).await,
    };
    let response = reply::with_route_headers(response, &target.options.headers);
    if compress { Box::pin(encoding::compressed(response, accept_encoding)).await } else { response }
}
