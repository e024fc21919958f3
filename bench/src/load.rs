//! A small HTTP/1.1 load generator: a fixed number of keep-alive connections, each sending
//! one request after another (closed loop), or pacing itself to a target rate (open loop,
//! latency counted from when a request was due, so a stalled server is not flattered).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

#[derive(Clone)]
pub struct Load {
    pub addr: SocketAddr,
    pub host: String,
    pub method: hyper::Method,
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
}

impl Outcome {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
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
    let tasks: Vec<_> = (0..load.connections)
        .map(|_| {
            let load = load.clone();
            tokio::spawn(async move { connection(&load, started).await })
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
    total
}

async fn connection(load: &Load, started: Instant) -> Outcome {
    let mut outcome = Outcome::default();
    let deadline = started + load.duration;
    let interval = load.rate.map(|rate| Duration::from_secs_f64(load.connections as f64 / rate));
    let mut next_due = Instant::now();
    'reconnect: while Instant::now() < deadline {
        let Ok(stream) = tokio::net::TcpStream::connect(load.addr).await else {
            outcome.failed += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
            outcome.failed += 1;
            continue;
        };
        tokio::spawn(connection);
        while Instant::now() < deadline {
            if interval.is_some() {
                tokio::time::sleep_until(next_due.into()).await;
            } else {
                next_due = Instant::now();
            }
            let request = Request::builder()
                .method(load.method.clone())
                .uri(&load.path)
                .header("host", &load.host)
                .header("content-type", "application/json")
                .body(Full::new(load.body.clone()))
                .expect("a valid request");
            let answered = match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    response.into_body().collect().await.is_ok() && status.is_success()
                }
                Err(_) => false,
            };
            if answered {
                outcome.ok += 1;
                outcome.latencies.push(next_due.elapsed());
            } else {
                outcome.failed += 1;
                continue 'reconnect;
            }
            if let Some(interval) = interval {
                next_due += interval;
            }
        }
    }
    outcome
}
