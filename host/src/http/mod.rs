//! The HTTP front: one axum server for every app.
//!
//! axum only accepts connections and hands each request to `dispatch`, which picks the app
//! by Host and the route by the app's own table; the protocol pieces (building responses,
//! static files, WebSockets, compression) each live in their own module here.

mod callback;
mod dispatch;
mod encoding;
mod reply;
mod static_files;
mod websocket;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::extract::Request;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;
use tower::service_fn;

use crate::apps::Registry;

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // A plain service per connection rather than a `Router`: there is nothing for axum to
    // route, and its router would look up the state and the client address per request.
    let per_connection = service_fn(move |incoming: IncomingStream<'_, TcpListener>| {
        let (registry, client) = (registry.clone(), *incoming.remote_addr());
        let serve = service_fn(move |request: Request| {
            let registry = registry.clone();
            async move { Ok::<_, Infallible>(dispatch::dispatch(&registry, client, request).await) }
        });
        std::future::ready(Ok::<_, Infallible>(serve))
    });
    axum::serve(listener, per_connection).with_graceful_shutdown(shutdown).await
}
