//! A small HTTP/1.1 load generator: a fixed number of keep-alive connections, each sending
//! one request after another (closed loop), or paced to a target rate (open loop, latency
//! counted from when a request was due, so a stalled server is not flattered).
//!
//! Pacing runs on its own thread: tokio's timer rounds sleeps up to whole milliseconds,
//! which would add up to a millisecond to every paced latency, while a thread's sleep is
//! late by tens of microseconds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::client::{self, Connection};

#[derive(Clone)]
pub struct Load {
    pub addr: SocketAddr,
    pub host: String,
    pub method: &'static str,
    pub path: String,
    pub body: Bytes,
    pub connections: usize,
    pub duration: Duration,
    /// Requests per second in all; none: as fast as the server answers.
    pub rate: Option<f64>,
}

#[derive(Default)]
pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    /// CPU time (user and system) the server process used during the run, where measured.
    pub server_cpu: Option<Duration>,
    /// The same for the load generator: on a machine this small, what it takes is not
    /// left for the server.
    pub load_generator_cpu: Option<Duration>,
}

impl Outcome {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU time per answered request: on a shared machine this moves far less from
    /// run to run than requests per second do.
    pub fn cpu_per_request(&self) -> Option<Duration> {
        let answered = u32::try_from(self.ok + self.failed).ok().filter(|&n| n > 0)?;
        Some(self.server_cpu? / answered)
    }

    /// Cores the server and the load generator kept busy, on average over the run.
    pub fn cores_busy(&self) -> Option<(f64, f64)> {
        let seconds = self.elapsed.as_secs_f64();
        Some((self.server_cpu?.as_secs_f64() / seconds, self.load_generator_cpu?.as_secs_f64() / seconds))
    }

    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies.sort_unstable();
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index]
    }
}

pub async fn run(load: &Load) -> Outcome {
    let started = Instant::now();
    let pacer = load.rate.map(|rate| Pacer::start(started, rate, load.duration));
    let tasks: Vec<_> = (0..load.connections)
        .map(|_| {
            let (load, pacer) = (load.clone(), pacer.clone());
            tokio::spawn(async move { connection(&load, started, pacer.as_deref()).await })
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        if let Ok(outcome) = task.await {
            total.ok += outcome.ok;
            total.failed += outcome.failed;
            total.latencies.extend(outcome.latencies);
        }
    }
    total.elapsed = started.elapsed();
    if let Some(pacer) = pacer {
        pacer.running.store(false, Ordering::Relaxed);
    }
    total
}

/// The open loop's schedule: request `k` is due at `started + k * interval`; a thread
/// hands out one permit per request as it falls due, and whichever connection is free
/// takes it.
struct Pacer {
    started: Instant,
    interval: Duration,
    permits: tokio::sync::Semaphore,
    taken: AtomicU64,
    running: AtomicBool,
}

impl Pacer {
    fn start(started: Instant, rate: f64, duration: Duration) -> Arc<Pacer> {
        let pacer = Arc::new(Pacer {
            started,
            interval: Duration::from_secs_f64(1.0 / rate),
            permits: tokio::sync::Semaphore::new(0),
            taken: AtomicU64::new(0),
            running: AtomicBool::new(true),
        });
        let thread = pacer.clone();
        std::thread::spawn(move || {
            let mut released = 0u64;
            while thread.running.load(Ordering::Relaxed) && started.elapsed() < duration {
                let due_by_now = started.elapsed().div_duration_f64(thread.interval) as u64 + 1;
                thread.permits.add_permits((due_by_now - released) as usize);
                released = due_by_now;
                std::thread::sleep(thread.due(released).saturating_duration_since(Instant::now()));
            }
            thread.permits.close();
        });
        pacer
    }

    /// Waits for the next request to fall due and returns when it was due; none once the
    /// run is over.
    async fn next(&self) -> Option<Instant> {
        self.permits.acquire().await.ok()?.forget();
        Some(self.due(self.taken.fetch_add(1, Ordering::Relaxed)))
    }

    fn due(&self, request: u64) -> Instant {
        self.started + self.interval.mul_f64(request as f64)
    }
}

async fn connection(load: &Load, started: Instant, pacer: Option<&Pacer>) -> Outcome {
    let mut outcome = Outcome::default();
    let request = client::request(load.method, &load.host, &load.path, &load.body);
    let deadline = started + load.duration;
    'reconnect: while Instant::now() < deadline {
        let Ok(mut connection) = Connection::open(load.addr).await else {
            outcome.failed += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while Instant::now() < deadline {
            let due = match pacer {
                Some(pacer) => match pacer.next().await {
                    Some(due) => due,
                    None => break 'reconnect,
                },
                None => Instant::now(),
            };
            match connection.exchange(&request).await {
                Ok(status) if (200..300).contains(&status) => {
                    outcome.ok += 1;
                    outcome.latencies.push(due.elapsed());
                }
                _ => {
                    outcome.failed += 1;
                    continue 'reconnect;
                }
            }
        }
    }
    outcome
}
