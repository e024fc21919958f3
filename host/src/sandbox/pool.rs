//! Warm instances of one app, and the two caps that keep it from taking the machine.
//!
//! `max_instances` bounds how many instances (and so how much memory and how many cores)
//! the app can hold at once; requests beyond that wait for a free instance. Requests
//! beyond `max_concurrent_requests` are not queued at all: they get 503 at once, so a
//! flood costs the host almost nothing. Instances are created on demand, reused while
//! healthy, dropped after any fault, and given back to the system once idle for a while
//! (all but one, which stays warm).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::bindings::{Manifest, StartConfig};
use crate::config::limits::Limits;
use crate::config::units::ByteSize;
use crate::rate::TokenBucket;
use crate::sandbox::data_quota;
use crate::sandbox::engine::Sandbox;
use crate::sandbox::instance::{CallError, CallLimits, Instance};
use crate::sandbox::store::InstanceSpec;
use crate::services::runtime::AppLog;

pub struct Pool {
    sandbox: Arc<Sandbox>,
    spec: InstanceSpec,
    entry: String,
    limits: Limits,
    /// Warm instances, each with the time it was given back; the newest last.
    idle: Mutex<Vec<(Instance, Instant)>>,
    rate: Option<TokenBucket>,
    /// An instance was lent since the data folder was last measured: only then can the
    /// folder have grown.
    lent_since_check: AtomicBool,
    instances: Arc<Semaphore>,
    admission: Arc<Semaphore>,
}

#[derive(Debug)]
pub enum AcquireError {
    /// Too many requests in flight; answer 503 at once.
    Busy,
    /// Over the app's request rate; answer 429, retry after this long.
    RateLimited(Duration),
    /// No instance became free within the request timeout.
    Timeout,
    /// A new instance could not be made or its entry script failed.
    Start(String),
}

impl Pool {
    pub fn new(sandbox: Arc<Sandbox>, spec: InstanceSpec, entry: String, limits: Limits) -> Arc<Pool> {
        Arc::new(Pool {
            sandbox,
            spec,
            entry,
            instances: Arc::new(Semaphore::new(limits.max_instances as usize)),
            admission: Arc::new(Semaphore::new(limits.max_concurrent_requests as usize)),
            rate: limits.requests_per_second.map(TokenBucket::new),
            limits,
            idle: Mutex::new(Vec::new()),
            lent_since_check: AtomicBool::new(true),
        })
    }

    /// The app's rationed log.
    pub fn log(&self) -> &AppLog {
        &self.spec.log
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn call_limits(&self) -> CallLimits {
        CallLimits { cpu_time: self.limits.cpu_time.0, wall_time: Some(self.limits.request_timeout.0) }
    }

    /// Makes and starts an instance; the app's manifest comes from its entry script.
    pub async fn start_instance(&self) -> Result<(Instance, Manifest), CallError> {
        let mut instance = Instance::new(&self.sandbox, &self.spec)
            .await
            .map_err(|e| CallError::Fault(crate::sandbox::instance::Fault::Crash(format!("{e:#}"))))?;
        let config = StartConfig { entry: self.entry.clone(), lua_memory_limit: self.limits.lua_memory().0 };
        let manifest = instance.start(config, self.call_limits()).await?;
        Ok((instance, manifest))
    }

    /// Keeps a started instance for the next request, if it is healthy and its data
    /// folder is mounted as the app's data limit now wants.
    pub fn give_back(&self, instance: Instance) {
        if !instance.is_poisoned() && instance.data_writable() != self.spec.data_quota.is_over() {
            self.idle.lock().unwrap_or_else(PoisonError::into_inner).push((instance, Instant::now()));
        }
    }

    /// Measures the app's data folder against its limit, if an instance has been lent
    /// since the last time or still is; blocking, so run off the executor.
    pub fn check_data_folder(&self) {
        let lent_now = self.instances.available_permits() < self.limits.max_instances as usize;
        if !self.lent_since_check.swap(false, Ordering::Relaxed) && !lent_now {
            return;
        }
        let used = ByteSize(data_quota::disk_usage(&self.spec.data_dir));
        let over = used > self.limits.data_limit;
        if !self.spec.data_quota.record(over) {
            return;
        }
        // The warm instances have the folder mounted the other way.
        drop(std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner)));
        let (app, folder, limit) = (&self.spec.app, self.spec.data_dir.display(), self.limits.data_limit);
        let used = format!("{:.1}MiB", used.0 as f64 / f64::from(1 << 20));
        if over {
            tracing::error!(
                "[{app}] the data folder {folder} takes {used}, over its data_limit of {limit}: \
                 it is read-only for the app until files are removed"
            );
        } else {
            tracing::info!(
                "[{app}] the data folder {folder} takes {used}, under its data_limit of {limit}: writable again"
            );
        }
    }

    /// Drops instances idle for longer than `idle_for`, keeping the newest one warm so the
    /// next request does not wait for the entry script. Returns how many were dropped.
    pub fn release_idle(&self, idle_for: Duration) -> usize {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let newest = idle.pop();
        let before = idle.len();
        idle.retain(|(_, since)| since.elapsed() < idle_for);
        let released = before - idle.len();
        idle.extend(newest);
        released
    }

    pub async fn acquire(self: &Arc<Self>) -> Result<Lease, AcquireError> {
        if let Some(rate) = &self.rate {
            rate.take().map_err(AcquireError::RateLimited)?;
        }
        let admission = self.admission.clone().try_acquire_owned().map_err(|_| AcquireError::Busy)?;
        // A free instance is the common case: take it without arming a timer.
        let instance_permit = match self.instances.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(self.limits.request_timeout.0, self.instances.clone().acquire_owned())
                .await
                .map_err(|_| AcquireError::Timeout)?
                .map_err(|_| AcquireError::Busy)?,
        };
        self.lent_since_check.store(true, Ordering::Relaxed);
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let instance = match idle {
            Some((instance, _)) => instance,
            // Boxed: instantiation's future is large, and every request's future would
            // carry it.
            None => match Box::pin(self.start_instance()).await {
                Ok((instance, _)) => instance,
                Err(CallError::Lua(error)) => return Err(AcquireError::Start(error.message)),
                Err(CallError::Fault(fault)) => return Err(AcquireError::Start(fault.to_string())),
            },
        };
        Ok(Lease { pool: self.clone(), instance, _permits: (admission, instance_permit) })
    }
}

/// An instance lent to one request. `finish` returns it to the pool; a lease dropped any
/// other way (its request was cancelled mid-call) drops the instance with it, which is
/// right, since such an instance is poisoned.
pub struct Lease {
    pool: Arc<Pool>,
    pub instance: Instance,
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Lease {
    pub fn finish(self) {
        self.pool.give_back(self.instance);
    }
}
