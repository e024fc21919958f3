//! Warm instances of one app, and the two caps that keep it from taking the machine.
//!
//! `max_instances` bounds how many instances (and so how much memory and how many cores)
//! the app can hold at once; requests beyond that wait for a free instance. Requests
//! beyond `max_concurrent_requests` are not queued at all: they get 503 at once, so a
//! flood costs the host almost nothing. Instances are created on demand, reused while
//! healthy, dropped after any fault, and given back to the system once idle for a while
//! (all but one, which stays warm).
//!
//! Background tasks run here too. An instance whose app code left a task waiting says when
//! it is due (`services::tasks`); it waits among the idle ones, serving requests meanwhile,
//! and a runner per pool takes it out when the task is due, runs the task under the app's
//! limits, and gives it back. Such an instance is not released for being idle. The first
//! instance is the app's background instance: the timers its entry script starts are kept
//! (other instances drop theirs), and if it is lost, a new one is started in its place.
//! Pub/sub messages for an idle instance's subscribers take it out the same way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::bindings::astra::host::runtime::Level;
use crate::bindings::{EnvFile, Manifest, StartConfig, TimeZone};
use crate::config::limits::Limits;
use crate::config::units::ByteSize;
use crate::rate::TokenBucket;
use crate::sandbox::data_quota;
use crate::sandbox::engine::Sandbox;
use crate::sandbox::instance::{CallError, CallLimits, Instance};
use crate::sandbox::scheduler::HostWork;
use crate::sandbox::store::InstanceSpec;
use crate::services::runtime::AppLog;

/// The script an app's instances start from, and what Lua's `arg` holds after it.
#[derive(Clone, Debug)]
pub struct EntryScript {
    /// Relative to the app folder.
    pub path: String,
    pub arguments: Vec<String>,
}

pub struct Pool {
    sandbox: Arc<Sandbox>,
    spec: InstanceSpec,
    entry: EntryScript,
    limits: Limits,
    /// Warm instances, each with the time it was given back; the newest last.
    idle: Mutex<Vec<(Instance, Instant)>>,
    rate: Option<TokenBucket>,
    instances: Arc<Semaphore>,
    /// Instances WebSockets may hold: one fewer than `instances`.
    sockets: Arc<Semaphore>,
    admission: Arc<Semaphore>,
    /// Wakes the task runner: an instance with a task came back, or the pool is going.
    tasks_changed: Arc<Notify>,
    /// The app's entry script started timers, which live in its background instance.
    has_background_timers: AtomicBool,
    /// Whether that instance is alive; cleared when it is dropped.
    background_alive: Arc<AtomicBool>,
}

#[derive(Debug)]
pub enum AcquireError {
    /// Too many requests in flight; answer 503 at once.
    Busy,
    /// Over the app's request rate; answer 429, retry after this long.
    RateLimited(Duration),
    /// No instance became free within the request timeout.
    Timeout,
    /// The app's WebSockets held all the instances they may (`max_instances - 1`) for the
    /// whole request timeout.
    Sockets,
    /// A new instance could not be made or its entry script failed.
    Start(String),
}

impl Pool {
    pub fn new(sandbox: Arc<Sandbox>, spec: InstanceSpec, entry: EntryScript, limits: Limits) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            sandbox,
            spec,
            entry,
            instances: Arc::new(Semaphore::new(limits.max_instances as usize)),
            sockets: Arc::new(Semaphore::new(limits.max_instances.saturating_sub(1) as usize)),
            admission: Arc::new(Semaphore::new(limits.max_concurrent_requests as usize)),
            rate: limits.requests_per_second.map(TokenBucket::new),
            limits,
            idle: Mutex::new(Vec::new()),
            tasks_changed: Arc::new(Notify::new()),
            has_background_timers: AtomicBool::new(false),
            background_alive: Arc::new(AtomicBool::new(false)),
        });
        pool.spec.pubsub.set_wake(pool.tasks_changed.clone());
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(run_tasks_when_due(Arc::downgrade(&pool), pool.tasks_changed.clone()));
        }
        pool
    }

    /// The app's rationed log.
    pub fn log(&self) -> &Arc<AppLog> {
        &self.spec.log
    }

    /// Work the host does for the app outside an instance, under the app's CPU budget.
    pub fn host_work(&self) -> HostWork {
        HostWork::new(self.sandbox.lanes.clone(), self.limits.cpu_time.0)
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The limits of a call that must end by `deadline`.
    pub fn call_limits(&self, deadline: Instant) -> CallLimits {
        CallLimits {
            cpu_time: self.limits.cpu_time.0,
            wall_time: Some(deadline.saturating_duration_since(Instant::now())),
        }
    }

    /// The limits of starting an instance to serve requests.
    pub fn start_limits(&self) -> CallLimits {
        self.call_limits(Instant::now() + self.limits.request_timeout.0)
    }

    /// Makes an instance and runs its entry script under `limits`; the manifest of the
    /// server the script ran, if it ran one. The background instance keeps the timers the
    /// script starts.
    pub async fn start_instance(
        &self,
        limits: CallLimits,
        background: bool,
    ) -> Result<(Instance, Option<Manifest>), CallError> {
        let mut instance = Instance::new(&self.sandbox, &self.spec)
            .await
            .map_err(|e| CallError::Fault(crate::sandbox::instance::Fault::Crash(format!("{e:#}"))))?;
        if background {
            instance.mark_alive(self.background_alive.clone());
        }
        let config = StartConfig {
            entry: self.entry.path.clone(),
            arguments: self.entry.arguments.clone(),
            lua_memory_limit: self.limits.lua_memory().0,
            env_files: self
                .spec
                .env_files
                .iter()
                .map(|(name, text)| EnvFile { name: name.clone(), text: text.clone() })
                .collect(),
            time_zone: self
                .spec
                .timezone
                .as_ref()
                .map(|zone| TimeZone { name: zone.name.clone(), tzif: zone.tzif.to_vec() }),
            background,
            max_tasks: self.limits.max_tasks,
            min_task_interval_ms: self.limits.min_task_interval.0.as_millis() as u64,
        };
        let manifest = instance.start(config, limits).await?;
        if background && instance.next_task().is_some() {
            self.has_background_timers.store(true, Ordering::Relaxed);
        }
        Ok((instance, manifest))
    }

    /// What a started instance serves, or why it serves nothing.
    pub fn not_a_server(&self) -> String {
        format!("{} finished without calling server:run()", self.entry.path)
    }

    /// Keeps a started instance for the next request, if it is healthy and its data
    /// folder is mounted as the app's data limit now wants.
    pub fn give_back(&self, instance: Instance) {
        if !instance.is_poisoned() && instance.data_writable() != self.spec.data_quota.is_over() {
            let has_task = instance.next_task().is_some() || instance.has_deliveries();
            self.idle.lock().unwrap_or_else(PoisonError::into_inner).push((instance, Instant::now()));
            if has_task {
                self.tasks_changed.notify_one();
            }
        } else if self.has_background_timers.load(Ordering::Relaxed) {
            // It may have been the background instance; the runner checks.
            self.tasks_changed.notify_one();
        }
    }

    /// Takes out the idle instances whose task is due and runs their tasks, each in a task
    /// of its own; returns when the next one is due.
    fn start_due_tasks(self: &Arc<Self>) -> Option<Instant> {
        let now = Instant::now();
        let mut due = Vec::new();
        let next = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            let mut index = 0;
            while index < idle.len() {
                let instance = &idle[index].0;
                if instance.next_task().is_some_and(|at| at <= now) || instance.has_deliveries() {
                    due.push(idle.swap_remove(index).0);
                } else {
                    index += 1;
                }
            }
            idle.iter().filter_map(|(instance, _)| instance.next_task()).min()
        };
        for mut instance in due {
            let pool = self.clone();
            tokio::spawn(async move {
                let Ok(_permit) = pool.instances.clone().acquire_owned().await else { return };
                let limits = pool.start_limits();
                match instance.run_tasks(limits).await {
                    Ok(()) => {}
                    Err(CallError::Lua(error)) => {
                        pool.spec.log.report(Level::Error, format_args!("background tasks: {}", error.message))
                    }
                    Err(CallError::Fault(fault)) => pool.spec.log.report(
                        Level::Error,
                        format_args!("background tasks: {fault}; the instance was replaced and its tasks are gone"),
                    ),
                }
                pool.give_back(instance);
            });
        }
        next
    }

    /// Starts a new background instance if the app has timers and lost the one running them.
    async fn restore_background(self: &Arc<Self>) {
        if !self.has_background_timers.load(Ordering::Relaxed) || self.background_alive.load(Ordering::Relaxed) {
            return;
        }
        let Ok(_permit) = self.instances.clone().acquire_owned().await else { return };
        match self.start_instance(self.start_limits(), true).await {
            Ok((instance, _)) => {
                self.spec.log.report(
                    Level::Warn,
                    format_args!("the background instance was lost; a new one runs the entry script's timers"),
                );
                self.give_back(instance);
            }
            Err(_) => {
                self.spec.log.report(
                    Level::Error,
                    format_args!("the background instance was lost, and a new one did not start"),
                );
                // Not tried again until something changes, rather than in a loop.
                self.has_background_timers.store(false, Ordering::Relaxed);
            }
        }
    }

    /// Whether the app's data folder should be measured now (see `DataQuota`); if so, the
    /// caller must call `measure_data_folder`.
    pub fn wants_data_measured(&self) -> bool {
        let in_use = self.instances.available_permits() < self.limits.max_instances as usize;
        self.spec.data_quota.start_measuring(in_use)
    }

    /// Measures the app's data folder against its limit; blocking, so run off the executor.
    pub fn measure_data_folder(&self) {
        let started = Instant::now();
        let measured = data_quota::disk_usage(&self.spec.data_dir);
        let took = started.elapsed();
        self.spec.data_quota.finish_measuring(took);
        if let Ok(used) = &measured {
            tracing::debug!(
                "[{}] measured the data folder: {} in {}us",
                self.spec.app,
                mebibytes(*used),
                took.as_micros()
            );
        }
        let limit = self.limits.data_limit;
        let over = measured.as_ref().map_or(true, |used| ByteSize(*used) > limit);
        if !self.spec.data_quota.record(over) {
            return;
        }
        // The warm instances have the folder mounted the other way.
        drop(std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner)));
        let (app, folder) = (&self.spec.app, self.spec.data_dir.display());
        match measured {
            Err(error) => tracing::error!(
                "[{app}] cannot measure the data folder {folder} ({error}): it counts as over its data_limit, \
                 read-only for the app, until it can be measured"
            ),
            Ok(used) if over => tracing::error!(
                "[{app}] the data folder {folder} takes {}, over its data_limit of {limit}: \
                 it is read-only for the app until files are removed",
                mebibytes(used)
            ),
            Ok(used) => tracing::info!(
                "[{app}] the data folder {folder} takes {}, under its data_limit of {limit}: writable again",
                mebibytes(used)
            ),
        }
    }

    /// Drops instances idle for longer than `idle_for`, keeping the newest one warm so the
    /// next request does not wait for the entry script. Returns how many were dropped.
    pub fn release_idle(&self, idle_for: Duration) -> usize {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let newest = idle.pop();
        let before = idle.len();
        // An instance waiting to run a task is not idle.
        idle.retain(|(instance, since)| since.elapsed() < idle_for || instance.next_task().is_some());
        let released = before - idle.len();
        idle.extend(newest);
        released
    }

    /// Admits a request: over the app's rate, or with its `max_concurrent_requests` in
    /// flight, it is refused at once, before anything else is done for it.
    pub fn admit(self: &Arc<Self>) -> Result<Admission, AcquireError> {
        if let Some(rate) = &self.rate {
            rate.take().map_err(AcquireError::RateLimited)?;
        }
        let permit = self.admission.clone().try_acquire_owned().map_err(|_| AcquireError::Busy)?;
        Ok(Admission { pool: self.clone(), permit })
    }
}

/// A request the app has room for, not yet running.
pub struct Admission {
    pool: Arc<Pool>,
    permit: OwnedSemaphorePermit,
}

impl Admission {
    /// An instance for the request, waiting until `deadline` for one to be free.
    pub async fn instance(self, deadline: Instant) -> Result<Lease, AcquireError> {
        self.lend(None, deadline).await
    }

    /// An instance for a WebSocket, which holds it for as long as the socket is open. At
    /// most `max_instances - 1` go to sockets, so that idle sockets cannot take every
    /// instance: the app's HTTP routes keep one of their own.
    pub async fn socket_instance(self, deadline: Instant) -> Result<Lease, AcquireError> {
        let socket = match self.pool.sockets.clone().try_acquire_owned() {
            Ok(socket) => socket,
            Err(_) => tokio::time::timeout_at(deadline.into(), self.pool.sockets.clone().acquire_owned())
                .await
                .map_err(|_| AcquireError::Sockets)?
                .map_err(|_| AcquireError::Sockets)?,
        };
        self.lend(Some(socket), deadline).await
    }

    async fn lend(self, socket: Option<OwnedSemaphorePermit>, deadline: Instant) -> Result<Lease, AcquireError> {
        let pool = self.pool;
        // A free instance is the common case: take it without arming a timer.
        let instance_permit = match pool.instances.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout_at(deadline.into(), pool.instances.clone().acquire_owned())
                .await
                .map_err(|_| AcquireError::Timeout)?
                .map_err(|_| AcquireError::Busy)?,
        };
        pool.spec.data_quota.note_use();
        let idle = pool.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let instance = match idle {
            Some((instance, _)) => instance,
            // Boxed: instantiation's future is large, and every request's future would
            // carry it.
            None => match Box::pin(pool.start_instance(pool.start_limits(), false)).await {
                Ok((instance, Some(_))) => instance,
                Ok((_, None)) => return Err(AcquireError::Start(pool.not_a_server())),
                Err(CallError::Lua(error)) => return Err(AcquireError::Start(error.message)),
                Err(CallError::Fault(fault)) => return Err(AcquireError::Start(fault.to_string())),
            },
        };
        Ok(Lease { pool, instance, _permits: (self.permit, instance_permit, socket) })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The runner holds the pool weakly: woken, it finds it gone and ends.
        self.tasks_changed.notify_one();
    }
}

/// The pool's task runner: sleeps until the earliest task of its idle instances is due (or
/// until woken), and starts the due ones. It ends with its pool.
async fn run_tasks_when_due(pool: Weak<Pool>, wake: Arc<Notify>) {
    loop {
        let next = {
            let Some(pool) = pool.upgrade() else { return };
            pool.restore_background().await;
            pool.start_due_tasks()
        };
        match next {
            Some(due) => {
                tokio::select! {
                    () = tokio::time::sleep_until(due.into()) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1}MiB", bytes as f64 / f64::from(1 << 20))
}

/// An instance lent to one request. `finish` returns it to the pool; a lease dropped any
/// other way (its request was cancelled mid-call) drops the instance with it, which is
/// right, since such an instance is poisoned.
pub struct Lease {
    pool: Arc<Pool>,
    pub instance: Instance,
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
}

impl Lease {
    pub fn finish(self) {
        self.pool.give_back(self.instance);
    }
}
