//! Content codings, by tower-http: responses compressed (gzip, brotli, zstd, chosen from
//! `Accept-Encoding`) and request bodies decompressed (from `Content-Encoding`).
//!
//! tower-http offers both as layers; here they are applied to one request or response at a
//! time, because whether to compress is decided per route after routing. Decompression is
//! streaming, so the route's body limit applies to the decompressed size.
//!
//! Compressing is work the host does for the app, and can be long (0.54 s for 16 MiB of
//! gzip): the compressed body is polled under a `HostWork` meter, as a guest call runs.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Request, header};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tower::{Layer, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use super::reply::RequestLabel;
use crate::bindings::astra::host::runtime::Level;
use crate::sandbox::scheduler::HostWork;
use crate::services::runtime::AppLog;

/// Who the work of compressing a response is charged to.
pub struct ChargedTo {
    pub work: HostWork,
    pub log: Arc<AppLog>,
    pub route: RequestLabel,
}

/// The response compressed as `accept_encoding` asks, if its content type is worth it;
/// the work charged to the app.
pub async fn compressed(response: Response, accept_encoding: Option<HeaderValue>, charged_to: ChargedTo) -> Response {
    let response = compressed_by_tower(response, accept_encoding).await;
    response.map(|body| Body::new(Metered { inner: body, charged_to: Some(charged_to) }))
}

async fn compressed_by_tower(response: Response, accept_encoding: Option<HeaderValue>) -> Response {
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

/// A body polled under a `HostWork` meter; ended with an error once the app's CPU budget is
/// spent, which closes the connection mid-response.
struct Metered {
    inner: Body,
    /// None once the budget is spent.
    charged_to: Option<ChargedTo>,
}

impl HttpBody for Metered {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let Some(charged) = &mut this.charged_to else { return Poll::Ready(None) };
        if ready!(charged.work.poll_slice(context)).is_err() {
            let spent = crate::config::units::Span(charged.work.total());
            let stopped = format_args!(
                "{}: compressing the response took its CPU time limit ({spent}); the connection was closed",
                charged.route
            );
            charged.log.report(Level::Warn, stopped);
            this.charged_to = None;
            return Poll::Ready(Some(Err(axum::Error::new("the response took its app's CPU time limit to compress"))));
        }
        let started = Instant::now();
        let polled = Pin::new(&mut this.inner).poll_frame(context);
        charged.work.spent(started.elapsed());
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.charged_to.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
