//! The HTTP front: one HTTP/1 server for every app.
//!
//! The server only accepts connections and hands each request to `dispatch`, which picks
//! the app by Host and the route by the app's own table; the protocol pieces (building
//! responses, static files, WebSockets, compression, all with axum's types) each live in
//! their own module here.

mod bodies;
mod callback;
mod dispatch;
mod encoding;
pub mod listener;
mod reply;
mod static_files;
mod websocket;
mod write_timeout;

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use self::listener::Listener;
use self::write_timeout::WriteTimeout;
use crate::apps::Registry;

/// The largest request line and headers a client may send (431 beyond): real ones take a
/// few KiB, and hyper's read buffer alone let one header take 400 KiB.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// How long a client may take to send, and to take what is sent.
#[derive(Clone, Copy)]
pub struct ConnectionTimeouts {
    /// For a request's headers; also how long an idle keep-alive connection stays open.
    pub header: Duration,
    /// For a write to go on (see `write_timeout`).
    pub write: Duration,
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
///
/// The header timeout stops a client sending its headers a byte at a time from holding a
/// connection for as long as it likes, and the write timeout one that reads nothing.
/// axum::serve cannot set the first, so connections are served by hyper's HTTP/1 builder.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    timeouts: ConnectionTimeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(timeouts.header).max_header_size(MAX_REQUEST_HEAD);
    // Every connection task holds a receiver: once all are dropped, every connection is done.
    let (stopping, stop_signal) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut listener = Listener::new(listener);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let stream = WriteTimeout::new(stream, timeouts.write);
        let connection = serve_connection(http.clone(), stream, registry.clone(), client, stop_signal.clone());
        tokio::spawn(connection);
    }
    drop((listener, stop_signal));
    let _ = stopping.send(true);
    stopping.closed().await;
    Ok(())
}

async fn serve_connection(
    http: http1::Builder,
    stream: WriteTimeout<TcpStream>,
    registry: Arc<Registry>,
    client: std::net::SocketAddr,
    mut stop_signal: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let registry = registry.clone();
        async move { Ok::<_, Infallible>(dispatch::dispatch(&registry, client, request.map(Body::new)).await) }
    });
    let mut connection = pin!(http.serve_connection(TokioIo::new(stream), service).with_upgrades());
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stop_signal.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}
