//! A token bucket per app: `requests_per_second` tokens a second, holding at most one
//! second's worth, so short bursts pass and a sustained flood gets 429.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub struct TokenBucket {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(rate: f64) -> TokenBucket {
        TokenBucket { rate, state: Mutex::new((rate.max(1.0), Instant::now())) }
    }

    /// Takes a token, or says how long until one is free.
    pub fn take(&self) -> Result<(), Duration> {
        self.take_many(1.0)
    }

    /// Takes `count` tokens at once, or none and says how long until there are enough.
    /// More than the bucket holds is taken once it is full.
    pub fn take_many(&self, count: f64) -> Result<(), Duration> {
        let capacity = self.rate.max(1.0);
        let count = count.min(capacity);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, last) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(capacity);
        *last = now;
        if *tokens >= count {
            *tokens -= count;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((count - *tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refuses() {
        let bucket = TokenBucket::new(3.0);
        assert!(bucket.take().is_ok());
        assert!(bucket.take().is_ok());
        assert!(bucket.take().is_ok());
        let wait = bucket.take().unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(334), "{wait:?}");
    }

    #[test]
    fn takes_many_at_once_or_none() {
        let bucket = TokenBucket::new(100.0);
        assert!(bucket.take_many(60.0).is_ok());
        assert!(bucket.take_many(60.0).is_err(), "40 are left");
        assert!(bucket.take_many(40.0).is_ok());
        let bucket = TokenBucket::new(10.0);
        assert!(bucket.take_many(1000.0).is_ok(), "more than the bucket holds passes once it is full");
        assert!(bucket.take().is_err());
    }
}
