//! `astra:host/tasks`: the clock of an app's background work.
//!
//! The guest keeps its tasks (Lua functions cannot leave their instance) and tells the host
//! when the next is due; the pool calls `run-tasks` on the instance then, between its
//! requests (`sandbox::pool`). `sleep` waits on a tokio timer: no CPU time, no thread, and
//! the long-call lane given back first, as every waiting call does.

use std::time::{Duration, Instant};

use wasmtime::component::HasData;

use crate::bindings::astra::host::tasks::Host;
use crate::sandbox::scheduler::CallClock;

/// When the instance's next task is due, as the guest last said.
#[derive(Default)]
pub struct TaskState {
    pub next_due: Option<Instant>,
}

/// What a tasks call borrows of its instance.
pub struct TasksView<'a> {
    pub state: &'a mut TaskState,
    pub clock: &'a mut CallClock,
}

/// Names `TasksView` as the data `tasks::add_to_linker` hands to each call.
pub struct Tasks;

impl HasData for Tasks {
    type Data<'a> = TasksView<'a>;
}

impl Host for TasksView<'_> {
    async fn sleep(&mut self, ms: u64) -> wasmtime::Result<()> {
        self.clock.release();
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }

    fn schedule(&mut self, ms: Option<u64>) -> wasmtime::Result<()> {
        self.state.next_due = ms.map(|ms| Instant::now() + Duration::from_millis(ms));
        Ok(())
    }
}
