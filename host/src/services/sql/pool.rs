//! A connection pool small enough to read: a semaphore bounds the connections open at once,
//! idle ones wait in a list, and a lease gives its connection back only when told the
//! connection is sound. A lease dropped half-way (the request's time ran out mid-query)
//! takes its connection with it, so no pooled connection is ever in an unknown state.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Pool<C> {
    idle: Mutex<Vec<C>>,
    permits: Arc<Semaphore>,
}

impl<C> Pool<C> {
    pub fn new(max_connections: u32) -> Pool<C> {
        Pool { idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(max_connections.max(1) as usize)) }
    }

    /// An idle connection, or a new one from `connect`, once fewer than the maximum are in
    /// use. Waiting counts against the caller's time, not its CPU.
    pub async fn lease<E>(self: &Arc<Self>, connect: impl AsyncFnOnce() -> Result<C, E>) -> Result<Lease<C>, E> {
        // The semaphore is never closed, so acquiring fails only if it were.
        let permit = self.permits.clone().acquire_owned().await.ok();
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => connect().await?,
        };
        Ok(Lease { connection: Some(connection), pool: self.clone(), _permit: permit })
    }

    /// An idle connection, if one is free now; never waits and never connects.
    pub fn try_lease_idle(self: &Arc<Self>) -> Option<Lease<C>> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        let connection = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()?;
        Some(Lease { connection: Some(connection), pool: self.clone(), _permit: Some(permit) })
    }

    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

pub struct Lease<C> {
    connection: Option<C>,
    pool: Arc<Pool<C>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<C> Lease<C> {
    pub fn connection(&mut self) -> &mut C {
        // Only `release` and `Drop` take it, and both consume the lease.
        self.connection.as_mut().expect("a lease holds its connection until released")
    }

    /// The connection is sound: back into the pool with it.
    pub fn release(mut self) {
        if let Some(connection) = self.connection.take() {
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn released_connections_are_reused_and_dropped_leases_close_theirs() {
        let pool = Arc::new(Pool::new(2));
        let made = std::sync::atomic::AtomicU32::new(0);
        let connect = async || Ok::<_, ()>(made.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
        let mut first = pool.lease(connect).await.unwrap();
        assert_eq!(*first.connection(), 0);
        first.release();
        let mut again = pool.lease(connect).await.unwrap();
        assert_eq!(*again.connection(), 0, "the released connection is reused");
        let second = pool.lease(connect).await.unwrap();
        // Both permits are taken: a third lease waits.
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), pool.lease(connect)).await;
        assert!(third.is_err());
        drop(second);
        assert_eq!(pool.idle_count(), 0, "a dropped lease does not give its connection back");
        again.release();
        assert_eq!(pool.idle_count(), 1);
    }
}
