//! Content codings, by tower-http: responses compressed (gzip, brotli, zstd, chosen from
//! `Accept-Encoding`) and request bodies decompressed (from `Content-Encoding`).
//!
//! tower-http offers both as layers; here they are applied to one request or response at a
//! time, because whether to compress is decided per route after routing. Decompression is
//! streaming, so the route's body limit applies to the decompressed size.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, Request, header};
use tower::{Layer, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

pub async fn compressed(response: Response, accept_encoding: Option<HeaderValue>) -> Response {
    let mut request = Request::new(());
    if let Some(accept_encoding) = accept_encoding {
        request.headers_mut().insert(header::ACCEPT_ENCODING, accept_encoding);
    }
    let mut slot = Some(response);
    let service = tower::service_fn(move |_: Request<()>| {
        let response = slot.take().unwrap_or_default();
        async move { Ok::<_, Infallible>(response) }
    });
    match CompressionLayer::new().layer(service).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// The request, which has a `Content-Encoding`, with its body decoded; or the 415 answer
/// for a coding tower-http lacks.
pub async fn decompressed(request: Request<Body>) -> Result<Request<Body>, Response> {
    let decoded = Arc::new(Mutex::new(None));
    let slot = decoded.clone();
    let service = tower::service_fn(move |request: Request<_>| {
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(request.map(Body::new));
        async move { Ok::<_, Infallible>(Response::new(Body::empty())) }
    });
    let answer = match RequestDecompressionLayer::new().layer(service).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    let decoded = decoded.lock().unwrap_or_else(PoisonError::into_inner).take();
    decoded.ok_or(answer)
}
