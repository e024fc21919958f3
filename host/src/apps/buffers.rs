//! The bytes the host holds on one app's behalf for its clients: request bodies read before
//! the app's code runs, and response bodies waiting for a client to take them.
//!
//! A response stays in host memory until its client has read it, and a client that does
//! not read keeps it there: 100 such clients of a 16 MiB response held 1.6 GB. So every
//! body is counted against its app's `buffer_limit` from the moment the host holds it until
//! its last byte is sent or thrown away. The count travels with the bytes
//! (`Bytes::from_owner`): hyper may keep slices of a body in its write queue after the body
//! itself is done, and the room is given back only when the last slice is dropped.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::units::ByteSize;

pub struct Buffers {
    /// One permit a byte.
    room: Arc<Semaphore>,
    limit: usize,
}

/// Room taken for bytes the host holds; given back when dropped. The default is none.
#[derive(Default)]
pub struct Room(Option<OwnedSemaphorePermit>);

impl Buffers {
    pub fn new(limit: ByteSize) -> Buffers {
        let limit = limit.as_usize().min(Semaphore::MAX_PERMITS);
        Buffers { room: Arc::new(Semaphore::new(limit)), limit }
    }

    /// Room for `bytes`, if the app has it now.
    pub fn try_take(&self, bytes: usize) -> Option<Room> {
        if bytes == 0 {
            return Some(Room(None));
        }
        let bytes = u32::try_from(bytes).ok()?;
        self.room.clone().try_acquire_many_owned(bytes).ok().map(|permit| Room(Some(permit)))
    }

    /// Room for `bytes` once the app has it: for bytes not yet made (a file not yet read),
    /// whose reader can wait. More than the whole limit waits for all of it.
    pub async fn take(&self, bytes: usize) -> Room {
        let bytes = bytes.min(self.limit);
        if bytes == 0 {
            return Room(None);
        }
        // The semaphore is never closed; `bytes` fits in a u32 once clamped to a frame.
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        Room(self.room.clone().acquire_many_owned(bytes).await.ok())
    }
}

impl Room {
    pub fn merge(&mut self, other: Room) {
        match (&mut self.0, other.0) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }

    /// `data` as `Bytes` that keep this room taken until they and every slice of them are
    /// dropped.
    pub fn hold<T: AsRef<[u8]> + Send + 'static>(self, data: T) -> Bytes {
        match self.0 {
            Some(permit) => Bytes::from_owner(Held { data, _room: permit }),
            None => Bytes::from_owner(data),
        }
    }
}

struct Held<T> {
    data: T,
    _room: OwnedSemaphorePermit,
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Held<T> {
    fn as_ref(&self) -> &[u8] {
        self.data.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_given_back_when_the_last_slice_is_dropped() {
        let buffers = Buffers::new(ByteSize(100));
        let bytes = buffers.try_take(60).unwrap().hold(vec![1u8; 60]);
        assert!(buffers.try_take(60).is_none(), "40 bytes of room are left");
        let slice = bytes.slice(10..20);
        drop(bytes);
        assert!(buffers.try_take(60).is_none(), "a slice still holds the body");
        drop(slice);
        let mut room = buffers.try_take(60).unwrap();
        room.merge(buffers.try_take(40).unwrap());
        assert!(buffers.try_take(1).is_none());
        drop(room);
        assert!(buffers.try_take(100).is_some());
        assert!(buffers.try_take(101).is_none(), "more than the limit never fits");
    }
}
