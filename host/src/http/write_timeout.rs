//! A connection's write timeout: a client that takes none of what the host writes for the
//! timeout is cut off.
//!
//! hyper has no write timeout. A response waits in memory until its client reads it, and a
//! WebSocket handler sending to a client that does not read waits for ever with the app's
//! instance; so the connection's socket is wrapped, and a write that makes no progress for
//! the timeout fails, which ends the connection (upgraded ones included: hyper hands the
//! same socket to the WebSocket). A client that reads slowly but steadily is not cut off.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pin_project! {
    pub struct WriteTimeout<T> {
        #[pin]
        io: T,
        timeout: Duration,
        // Armed when a write cannot go on, disarmed by the next one that does.
        stalled: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> WriteTimeout<T> {
    pub fn new(io: T, timeout: Duration) -> Self {
        WriteTimeout { io, timeout, stalled: None }
    }
}

/// `polled`, unless the write has not gone on for the timeout.
fn unless_stalled<R>(
    polled: Poll<io::Result<R>>,
    stalled: &mut Option<Pin<Box<Sleep>>>,
    timeout: Duration,
    context: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    if polled.is_ready() {
        *stalled = None;
        return polled;
    }
    let timer = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
    match timer.as_mut().poll(context) {
        Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client took nothing the host wrote for the write timeout",
        ))),
        Poll::Pending => Poll::Pending,
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteTimeout<T> {
    fn poll_write(self: Pin<&mut Self>, context: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write(context, buf);
        unless_stalled(polled, this.stalled, *this.timeout, context)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write_vectored(context, bufs);
        unless_stalled(polled, this.stalled, *this.timeout, context)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let polled = this.io.poll_flush(context);
        unless_stalled(polled, this.stalled, *this.timeout, context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(context)
    }
}

impl<T: AsyncRead> AsyncRead for WriteTimeout<T> {
    fn poll_read(self: Pin<&mut Self>, context: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_read(context, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_write_that_cannot_go_on_fails_after_the_timeout() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut near = WriteTimeout::new(near, Duration::from_secs(30));
        near.write_all(&[1; 1024]).await.unwrap();
        // The far end reads slowly but steadily: every write goes on.
        let mut taken = [0; 512];
        for _ in 0..4 {
            let (written, read) = tokio::join!(near.write_all(&[2; 512]), async {
                tokio::time::sleep(Duration::from_secs(20)).await;
                far.read_exact(&mut taken).await
            });
            written.unwrap();
            read.unwrap();
        }
        // Now it reads nothing.
        let started = tokio::time::Instant::now();
        let error = near.write_all(&[3; 2048]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }
}
