//! Request bodies read ahead, and response bodies held for slow clients; both counted
//! against the app's `buffer_limit` (see `apps::buffers`).
//!
//! A request's body is read before an instance is taken, as nginx reads one before it
//! passes the request on: a client sending its body a byte a second then holds a
//! connection, not one of the app's few instances (eight such clients took every instance
//! of an app). A body that cannot be read (a broken chunked encoding) is the client's
//! fault, answered 400, not an error of the app's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use bytes::Bytes;
use http::StatusCode;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;

use super::reply;
use crate::apps::buffers::{Buffers, Room};

/// Why a request body was not read.
pub enum Unread {
    /// Over the route's body limit.
    TooLarge(usize),
    /// The app already holds its `buffer_limit` of bodies.
    NoRoom,
    /// The client sent something that is not a body.
    Broken(String),
}

impl Unread {
    pub fn answer(self) -> axum::response::Response {
        match self {
            Unread::TooLarge(limit) => reply::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the request body is larger than this route's limit of {limit} bytes"),
            ),
            Unread::NoRoom => reply::no_room(),
            Unread::Broken(error) => {
                reply::plain(StatusCode::BAD_REQUEST, &format!("the request body is broken: {error}"))
            }
        }
    }
}

/// The whole body, at most `limit` bytes of it once decoded, held against `buffers`.
pub async fn read_ahead(body: Body, limit: usize, buffers: &Buffers) -> Result<Bytes, Unread> {
    let expected = body.size_hint().exact().and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut data = Vec::with_capacity(expected.min(limit));
    let mut room = Room::default();
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| Unread::Broken(error.to_string()))?;
        let Ok(chunk) = frame.into_data() else { continue };
        if data.len() + chunk.len() > limit {
            return Err(Unread::TooLarge(limit));
        }
        room.merge(buffers.try_take(chunk.len()).ok_or(Unread::NoRoom)?);
        data.extend_from_slice(&chunk);
    }
    Ok(room.hold(data))
}

/// A streamed response body (a static file, a compressed response) whose frames are each
/// held against the app's buffers until sent: a frame waits for room, so a file is read
/// from disk only as fast as the app's clients take what was read before.
pub struct HeldFrames {
    inner: Body,
    buffers: std::sync::Arc<Buffers>,
    /// A frame read, and the wait for its room.
    waiting: Option<(Bytes, RoomWait)>,
}

type RoomWait = Pin<Box<dyn Future<Output = Room> + Send>>;

/// `inner`, each of its frames held against `buffers` until sent.
pub fn held_frames(inner: Body, buffers: std::sync::Arc<Buffers>) -> Body {
    Body::new(HeldFrames { inner, buffers, waiting: None })
}

impl HttpBody for HeldFrames {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.waiting.is_none() {
            let frame = match ready!(Pin::new(&mut this.inner).poll_frame(context)) {
                Some(Ok(frame)) => frame,
                other => return Poll::Ready(other),
            };
            let data = match frame.into_data() {
                Ok(data) => data,
                Err(frame) => return Poll::Ready(Some(Ok(frame))),
            };
            if let Some(room) = this.buffers.try_take(data.len()) {
                return Poll::Ready(Some(Ok(Frame::data(room.hold(data)))));
            }
            let buffers = this.buffers.clone();
            let length = data.len();
            this.waiting = Some((data, Box::pin(async move { buffers.take(length).await })));
        }
        let Some((_, wait)) = &mut this.waiting else { return Poll::Pending };
        let room = ready!(wait.as_mut().poll(context));
        let Some((data, _)) = this.waiting.take() else { return Poll::Pending };
        Poll::Ready(Some(Ok(Frame::data(room.hold(data)))))
    }

    fn is_end_stream(&self) -> bool {
        self.waiting.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
