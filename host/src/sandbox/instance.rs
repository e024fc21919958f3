//! One live guest instance and the three calls into it, each under the app's limits.
//!
//! A Lua error is an answer: the instance stays usable, unless Lua ran out of memory (its
//! heap is then likely still full, so it is replaced). Anything else that ends a call
//! early (a trap, the CPU budget, the memory cap, `os.exit`, the wall-clock timeout, or
//! the caller giving up mid-call) leaves the instance unusable, so it is marked poisoned
//! and the pool drops it instead of reusing it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use wasmtime::component::{Resource, ResourceTableError};
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::bindings::{Guest, LuaError, Manifest, Response, StartConfig};
use crate::sandbox::engine::Sandbox;
use crate::sandbox::store::{GuestState, InstanceSpec};
use crate::services::request::RequestState;
use crate::services::websocket::SocketState;

const INSTANTIATION_CPU_TIME: Duration = Duration::from_secs(1);

pub struct Instance {
    store: Store<GuestState>,
    guest: Guest,
    poisoned: bool,
    /// Set while this instance lives (the pool's background instance has one).
    alive: Option<Arc<AtomicBool>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(alive) = &self.alive {
            alive.store(false, Ordering::Relaxed);
        }
    }
}

/// Why a call did not produce an answer.
#[derive(Debug)]
pub enum CallError {
    /// The Lua code raised an error; the instance is fine.
    Lua(LuaError),
    /// The instance was stopped and is discarded.
    Fault(Fault),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    CpuTime,
    Timeout,
    Memory,
    DataLimit,
    OpenFiles,
    StackOverflow,
    /// `os.exit`; WASI carries only success or failure, not the code, so neither is kept.
    Exit,
    Crash(String),
}

impl Fault {
    /// Limits answer 503 (the app may well succeed on a lighter request); crashes 500.
    pub fn is_limit(&self) -> bool {
        matches!(self, Fault::CpuTime | Fault::Timeout | Fault::Memory | Fault::DataLimit | Fault::OpenFiles)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::CpuTime => f.write_str("CPU time limit exceeded"),
            Fault::Timeout => f.write_str("request timeout exceeded"),
            Fault::Memory => f.write_str("memory limit exceeded"),
            Fault::DataLimit => f.write_str("data folder limit exceeded"),
            Fault::OpenFiles => f.write_str("open files limit exceeded"),
            Fault::StackOverflow => f.write_str("the guest stack overflowed"),
            Fault::Exit => f.write_str("the app called os.exit"),
            Fault::Crash(reason) => write!(f, "the instance crashed: {reason}"),
        }
    }
}

/// The limits of one call.
#[derive(Clone, Copy)]
pub struct CallLimits {
    pub cpu_time: Duration,
    /// None for WebSocket handlers, which live as long as their connection.
    pub wall_time: Option<Duration>,
}

impl CallLimits {
    /// For a script `astra-host run` runs to its end, as `astra run` does: no CPU or wall
    /// time limit (its memory limit stays), and Ctrl-C stops it.
    pub const SCRIPT: CallLimits = CallLimits { cpu_time: Duration::from_secs(100 * 365 * 24 * 3600), wall_time: None };
}

impl Instance {
    pub async fn new(sandbox: &Sandbox, spec: &InstanceSpec) -> wasmtime::Result<Instance> {
        let mut store = Store::new(&sandbox.engine, GuestState::new(spec, sandbox.lanes.clone())?);
        store.limiter(|state| &mut state.memory);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            if state.data_writable && state.data_quota.is_over() {
                // The folder went over its limit during this call: stop writing to it.
                state.data_limit_hit = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            Ok(state.clock.tick())
        });
        // Instantiation runs the guest's initialisers: give them a budget of their own.
        store.data_mut().clock.start(INSTANTIATION_CPU_TIME);
        store.set_epoch_deadline(1);
        let guest = sandbox.pre.instantiate_async(&mut store).await?;
        Ok(Instance { store, guest, poisoned: false, alive: None })
    }

    /// `alive` is set now and cleared when the instance is dropped.
    pub fn mark_alive(&mut self, alive: Arc<AtomicBool>) {
        alive.store(true, Ordering::Relaxed);
        self.alive = Some(alive);
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    pub fn data_writable(&self) -> bool {
        self.store.data().data_writable
    }

    /// Runs the entry script; the manifest of the server it ran, if it ran one.
    pub async fn start(&mut self, config: StartConfig, limits: CallLimits) -> Result<Option<Manifest>, CallError> {
        self.begin(limits)?;
        let call = self.guest.astra_host_app().call_start(&mut self.store, &config);
        let outcome = within(limits.wall_time, call).await;
        self.finish(outcome)
    }

    pub async fn handle(
        &mut self,
        route: u32,
        request: RequestState,
        limits: CallLimits,
    ) -> Result<Response, CallError> {
        let request = self.push(request)?;
        self.begin(limits)?;
        let call = self.guest.astra_host_app().call_handle(&mut self.store, route, request);
        let outcome = within(limits.wall_time, call).await;
        self.finish(outcome)
    }

    pub async fn websocket(
        &mut self,
        route: u32,
        request: RequestState,
        socket: SocketState,
        limits: CallLimits,
    ) -> Result<(), CallError> {
        let request = self.push(request)?;
        let socket = self.push(socket)?;
        self.begin(limits)?;
        let call = self.guest.astra_host_app().call_websocket(&mut self.store, route, request, socket);
        let outcome = within(limits.wall_time, call).await;
        self.finish(outcome)
    }

    /// Runs the tasks that are due (see `services::tasks`).
    pub async fn run_tasks(&mut self, limits: CallLimits) -> Result<(), CallError> {
        self.begin(limits)?;
        let call = self.guest.astra_host_app().call_run_tasks(&mut self.store);
        let outcome = within(limits.wall_time, call).await;
        self.finish(outcome)
    }

    /// Whether pub/sub messages wait for the instance's subscribers.
    pub fn has_deliveries(&self) -> bool {
        self.store.data().pubsub.has_deliveries()
    }

    /// When the instance's next background task is due, if it has one.
    pub fn next_task(&self) -> Option<std::time::Instant> {
        self.store.data().tasks.next_due
    }

    fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>, CallError> {
        self.store
            .data_mut()
            .table
            .push(value)
            .map_err(|e| CallError::Fault(Fault::Crash(format!("resource table: {e}"))))
    }

    /// Starts the call's CPU clock. The instance counts as poisoned until `finish` sees the
    /// call return normally, so a call whose future is dropped half-way is never reused.
    fn begin(&mut self, limits: CallLimits) -> Result<(), CallError> {
        if self.poisoned {
            return Err(CallError::Fault(Fault::Crash("the instance was already stopped".into())));
        }
        let state = self.store.data_mut();
        state.clock.start(limits.cpu_time);
        // A refusal the guest's allocator survived in an earlier call says nothing of a
        // trap in this one.
        state.memory.refused = false;
        self.store.set_epoch_deadline(1);
        self.poisoned = true;
        Ok(())
    }

    /// Sorts out how a call ended; `None` is the wall-clock limit.
    fn finish<T>(&mut self, outcome: Option<wasmtime::Result<Result<T, LuaError>>>) -> Result<T, CallError> {
        self.store.data_mut().clock.release();
        match outcome {
            Some(Ok(Ok(value))) => {
                self.poisoned = false;
                Ok(value)
            }
            Some(Ok(Err(lua_error))) => {
                self.poisoned = lua_error.out_of_memory;
                Err(CallError::Lua(lua_error))
            }
            Some(Err(error)) => Err(CallError::Fault(classify(&error, self.store.data()))),
            None => Err(CallError::Fault(Fault::Timeout)),
        }
    }
}

/// Runs `call` under the wall-clock `limit`; `None` if the limit came first. Nearly every
/// call finishes within its first poll (a call yields only at an epoch tick or on a host
/// call that waits), so the timer is made only for calls that did not.
fn within<F: Future>(limit: Option<Duration>, call: F) -> Within<F> {
    Within { call, deadline: limit.map(|limit| Instant::now() + limit), timer: None }
}

pin_project! {
    /// A plain future rather than an `async fn`: an `async fn` keeps its argument and the
    /// pinned copy of it side by side, and every request's future carries this one.
    struct Within<F> {
        #[pin]
        call: F,
        deadline: Option<Instant>,
        timer: Option<Pin<Box<Sleep>>>,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(value) = this.call.poll(context) {
            return Poll::Ready(Some(value));
        }
        let Some(deadline) = *this.deadline else { return Poll::Pending };
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(context).map(|()| None)
    }
}

fn classify(error: &wasmtime::Error, state: &GuestState) -> Fault {
    if error.downcast_ref::<wasmtime_wasi::I32Exit>().is_some() {
        return Fault::Exit;
    }
    if matches!(error.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)) {
        return Fault::OpenFiles;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) if state.data_limit_hit => Fault::DataLimit,
        Some(Trap::Interrupt) => Fault::CpuTime,
        Some(Trap::StackOverflow) => Fault::StackOverflow,
        _ if state.memory.refused => Fault::Memory,
        Some(trap) => Fault::Crash(trap.to_string()),
        None => Fault::Crash(format!("{error:#}")),
    }
}
