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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::apps::Registry;

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new().fallback(dispatch::dispatch).with_state(registry);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
