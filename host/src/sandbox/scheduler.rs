//! CPU time between apps: the per-call budget, and fairness between short and long calls.
//!
//! Every call yields to the executor at each epoch tick, which is fair between *tasks*
//! but not between *apps*: an app running eight CPU-bound requests would hold both
//! worker threads of a two-core machine, and every other app's requests would queue
//! behind its time slices. So a call that has run for more than a few ticks becomes
//! "long" and must hold one of `workers - 1` lanes to go on running. Short calls, which
//! is nearly all of them, never wait; long ones share all worker threads but one, so
//! short requests of any app always find a free worker. With a single worker there is
//! one lane, and short requests run between a long call's ticks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};
use wasmtime::UpdateDeadline;

use crate::sandbox::engine::TICK;

/// A call becomes long after this much CPU time.
const LONG_AFTER: Duration = Duration::from_millis(5);

/// The lanes long calls run in; one per engine.
#[derive(Clone)]
pub struct Lanes(Arc<Semaphore>);

impl Lanes {
    /// One lane fewer than the runtime has worker threads (outside a runtime: cores).
    pub fn for_this_runtime() -> Lanes {
        let workers = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.metrics().num_workers(),
            Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        Lanes(Arc::new(Semaphore::new(workers.saturating_sub(1).max(1))))
    }
}

/// One instance's CPU accounting for the call it is running.
pub struct CallClock {
    lanes: Lanes,
    budget: u64,
    left: u64,
    run: u64,
    lane: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl CallClock {
    pub fn new(lanes: Lanes) -> CallClock {
        CallClock { lanes, budget: 0, left: 0, run: 0, lane: Arc::new(Mutex::new(None)) }
    }

    /// A new call: a fresh budget, counted as short again.
    pub fn start(&mut self, cpu_time: Duration) {
        self.budget = (cpu_time.as_micros() / TICK.as_micros()).max(1) as u64;
        self.restart();
    }

    /// A fresh budget for the same call (a WebSocket handler, per message received), and
    /// its lane given back while it waits.
    pub fn restart(&mut self) {
        self.left = self.budget;
        self.run = 0;
        self.release();
    }

    pub fn release(&mut self) {
        self.lane.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// Called by wasmtime at every epoch tick the guest runs through.
    pub fn tick(&mut self) -> UpdateDeadline {
        if self.left == 0 {
            return UpdateDeadline::Interrupt;
        }
        self.left -= 1;
        self.run += 1;
        let holds_lane = self.lane.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        if self.run * TICK.as_micros() as u64 >= LONG_AFTER.as_micros() as u64 && !holds_lane {
            let (lanes, slot) = (self.lanes.0.clone(), self.lane.clone());
            return UpdateDeadline::YieldCustom(
                1,
                Box::pin(async move {
                    if let Ok(permit) = lanes.acquire_owned().await {
                        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(permit);
                    }
                }),
            );
        }
        UpdateDeadline::Yield(1)
    }
}

/// Work the host does for an app outside its instance (compressing its response), under
/// the rules of a call: it gives the executor back at every tick, runs in a lane once it
/// has taken `LONG_AFTER`, and stops at the app's CPU budget. Done inline, one 16 MiB
/// response took 0.54 s of a worker thread in one poll, outside the budget and the lanes,
/// and a good app's p99 went from 0.6 ms to 1.1 s.
///
/// The work comes in slices (a poll of a body); a lane is held for one slice at a time, so
/// that work waiting on its client holds none.
pub struct HostWork {
    lanes: Lanes,
    budget: Duration,
    spent: Duration,
    since_yield: Duration,
    lane: Option<OwnedSemaphorePermit>,
    waiting: Option<LaneWait>,
}

type LaneWait = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

/// The work took the app's whole CPU budget.
#[derive(Debug)]
pub struct BudgetSpent;

impl HostWork {
    pub fn new(lanes: Lanes, budget: Duration) -> HostWork {
        HostWork { lanes, budget, spent: Duration::ZERO, since_yield: Duration::ZERO, lane: None, waiting: None }
    }

    /// Ready when the next slice may run: after a yield if a tick's worth ran since the
    /// last, and in a lane once the work is long.
    pub fn poll_slice(&mut self, context: &mut Context<'_>) -> Poll<Result<(), BudgetSpent>> {
        if self.spent >= self.budget {
            return Poll::Ready(Err(BudgetSpent));
        }
        if self.since_yield >= TICK && self.waiting.is_none() {
            self.since_yield = Duration::ZERO;
            context.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.spent >= LONG_AFTER && self.lane.is_none() {
            let lanes = self.lanes.0.clone();
            let waiting = self.waiting.get_or_insert_with(|| Box::pin(lanes.acquire_owned()));
            match waiting.as_mut().poll(context) {
                Poll::Ready(permit) => {
                    self.waiting = None;
                    self.lane = permit.ok();
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// A slice took `time`; its lane, if any, is given back.
    pub fn spent(&mut self, time: Duration) {
        self.spent += time;
        self.since_yield += time;
        self.lane = None;
    }

    pub fn total(&self) -> Duration {
        self.spent
    }
}
