//! The instance's background tasks (`utils.spawn_task`, `spawn_timeout`, `spawn_interval`,
//! their handles) and `datetime.sleep`, on the host's clock (decision 3).
//!
//! A task is a Lua function, so it lives and runs in the instance that made it. The registry
//! here keeps each one with the time it is due; after every change the host is told when
//! the next one is (`tasks.schedule`), and calls `run-tasks` then, between the instance's
//! requests. `await` runs its task in the calling code, sleeping on the host until it is
//! due, which is how `spawn_timeout(f, 150):await()` works as a sleep. Timers the entry
//! script leaves running are kept only in the app's background instance: every instance
//! runs that script, and an app's interval should run once, not once per instance.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mlua::{Function, Lua, UserData, UserDataMethods};

use crate::astra::host::runtime::{self, Level};
use crate::astra::host::tasks as host;

struct Task {
    function: Function,
    due: Instant,
    /// For `spawn_interval`: the wait after each run.
    every: Option<Duration>,
}

struct Registry {
    next_id: u64,
    tasks: BTreeMap<u64, Task>,
    /// A task running now, and whether `abort` was called on it while it ran.
    running: Option<(u64, bool)>,
    max_tasks: u32,
    min_interval: Duration,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const {
        RefCell::new(Registry {
            next_id: 1,
            tasks: BTreeMap::new(),
            running: None,
            max_tasks: 64,
            min_interval: Duration::from_millis(10),
        })
    };
}

/// The limits the host set; called once, before the entry script runs.
pub fn configure(max_tasks: u32, min_interval_ms: u64) {
    REGISTRY.with_borrow_mut(|registry| {
        registry.max_tasks = max_tasks;
        registry.min_interval = Duration::from_millis(min_interval_ms);
    });
}

/// Called when the entry script is done: outside the background instance, its timers go.
pub fn entry_script_done(background: bool) {
    if !background {
        REGISTRY.with_borrow_mut(|registry| registry.tasks.clear());
        report_next();
    }
}

/// `utils.spawn_task(fn)`, `spawn_timeout(fn, ms)`, `spawn_interval(fn, ms)`, and the
/// host's other background work (`execute_streaming`); `call` names it in errors.
pub fn spawn(
    call: &'static str,
    function: Function,
    delay_ms: Option<u64>,
    every_ms: Option<u64>,
) -> mlua::Result<TaskHandle> {
    let id = REGISTRY.with_borrow_mut(|registry| {
        if registry.tasks.len() >= registry.max_tasks as usize {
            return Err(mlua::Error::runtime(format!(
                "{call}: the instance already has {} tasks (max_tasks)",
                registry.max_tasks
            )));
        }
        let every = every_ms.map(|ms| Duration::from_millis(ms).max(registry.min_interval));
        let due = Instant::now() + Duration::from_millis(delay_ms.unwrap_or(0));
        let id = registry.next_id;
        registry.next_id += 1;
        registry.tasks.insert(id, Task { function, due, every });
        Ok(id)
    })?;
    report_next();
    Ok(TaskHandle(id))
}

/// `datetime.sleep(ms)`: the host waits; the instance uses no CPU meanwhile.
pub fn sleep(ms: u64) {
    host::sleep(ms);
}

/// Runs every task that is due; the host calls this when `schedule` said one would be.
pub fn run_due() {
    let now = Instant::now();
    let due: Vec<u64> = REGISTRY.with_borrow(|registry| {
        let mut due: Vec<(Instant, u64)> =
            registry.tasks.iter().filter(|(_, task)| task.due <= now).map(|(id, task)| (task.due, *id)).collect();
        due.sort();
        due.into_iter().map(|(_, id)| id).collect()
    });
    for id in due {
        run_one(id);
    }
    report_next();
}

/// Takes task `id` out, runs it, and puts it back if it is an interval that was not aborted.
fn run_one(id: u64) {
    let Some(task) = REGISTRY.with_borrow_mut(|registry| {
        let task = registry.tasks.remove(&id)?;
        registry.running = Some((id, false));
        Some(task)
    }) else {
        return;
    };
    if let Err(error) = task.function.call::<()>(()) {
        runtime::log(Level::Error, &format!("Error running a task: {}", message_of(&error)));
    }
    REGISTRY.with_borrow_mut(|registry| {
        let aborted = matches!(registry.running.take(), Some((_, true)));
        if let (Some(every), false) = (task.every, aborted) {
            registry.tasks.insert(id, Task { due: Instant::now() + every, ..task });
        }
    });
}

/// The error as Lua raised it ("init.lua:12: boom"), without mlua's wrapping and traceback.
pub fn message_of(error: &mlua::Error) -> String {
    match error {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => message_of(cause),
        mlua::Error::RuntimeError(message) => message.split("\nstack traceback:").next().unwrap_or(message).to_string(),
        other => other.to_string(),
    }
}

/// Tells the host when the next task is due.
fn report_next() {
    let next = REGISTRY.with_borrow(|registry| registry.tasks.values().map(|task| task.due).min());
    host::schedule(next.map(|due| due.saturating_duration_since(Instant::now()).as_millis() as u64));
}

/// What `spawn_*` returns.
pub struct TaskHandle(u64);

impl UserData for TaskHandle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("abort", |_, this, ()| {
            REGISTRY.with_borrow_mut(|registry| {
                registry.tasks.remove(&this.0);
                if let Some((id, aborted)) = &mut registry.running
                    && *id == this.0
                {
                    *aborted = true;
                }
            });
            report_next();
            Ok(())
        });
        // Waits for the task to end, running it here when it is due; an interval never ends.
        methods.add_method("await", |_, this, ()| {
            loop {
                let Some(due) = REGISTRY.with_borrow(|registry| registry.tasks.get(&this.0).map(|task| task.due))
                else {
                    return Ok(());
                };
                let wait = due.saturating_duration_since(Instant::now());
                if !wait.is_zero() {
                    host::sleep(wait.as_millis().max(1) as u64);
                }
                run_one(this.0);
                report_next();
            }
        });
    }
}

pub fn install(lua: &Lua, utils: &mlua::Table) -> mlua::Result<()> {
    utils.set(
        "spawn_task",
        lua.create_function(|_, function: Function| spawn("utils.spawn_task", function, None, None))?,
    )?;
    utils.set(
        "spawn_timeout",
        lua.create_function(|_, (function, ms): (Function, u64)| {
            spawn("utils.spawn_timeout", function, Some(ms), None)
        })?,
    )?;
    utils.set(
        "spawn_interval",
        lua.create_function(|_, (function, ms): (Function, u64)| {
            spawn("utils.spawn_interval", function, None, Some(ms))
        })?,
    )?;
    Ok(())
}
