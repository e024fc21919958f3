//! Accepting connections when file descriptors run out.
//!
//! Every file an app holds open is one of the host's descriptors. Each instance has a cap
//! (`open_files`), but apps together can still reach the process's limit, and then
//! `accept` fails with EMFILE: clients wait in the backlog while the accept loop spins. So
//! the host raises its soft limit to the hard one at start, keeps one descriptor in
//! reserve to accept and promptly close a waiting connection when there are none (the
//! client learns at once instead of hanging), and backs off while the shortage lasts,
//! logging it once a second at most.

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const LAST_BACKOFF: Duration = Duration::from_secs(1);
const REPORT_EVERY: Duration = Duration::from_secs(1);

pub struct Listener {
    inner: TcpListener,
    /// The descriptor kept in reserve.
    reserve: Option<File>,
    backoff: Duration,
    /// Connections refused since the shortage was last reported, and when that was.
    refused: (u64, Option<Instant>),
}

impl Listener {
    pub fn new(inner: TcpListener) -> Listener {
        Listener { inner, reserve: reserve(), backoff: FIRST_BACKOFF, refused: (0, None) }
    }

    /// The next connection, however long the host is short of descriptors.
    pub async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok(accepted) => {
                    self.backoff = FIRST_BACKOFF;
                    if self.reserve.is_none() {
                        self.reserve = reserve();
                    }
                    return accepted;
                }
                Err(error) if is_out_of_descriptors(&error) => self.refuse_one(&error).await,
                Err(error) => {
                    // A connection reset before it was accepted, and the like: the next one is fine.
                    tracing::debug!("cannot accept a connection: {error}");
                }
            }
        }
    }

    async fn refuse_one(&mut self, error: &io::Error) {
        if self.reserve.take().is_some() {
            // Closed at once: the client sees its connection end instead of waiting.
            if let Ok((stream, _)) = self.inner.accept().await {
                drop(stream);
                self.refused.0 += 1;
            }
            self.reserve = reserve();
        }
        let (refused, reported) = &mut self.refused;
        if reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
            tracing::error!(
                "out of file descriptors ({error}): {refused} connection(s) refused since the last report; \
                 raise the limit (ulimit -n) or lower --instance-slots or --open-files"
            );
            (*refused, *reported) = (0, Some(Instant::now()));
        }
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(LAST_BACKOFF);
    }
}

fn is_out_of_descriptors(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

fn reserve() -> Option<File> {
    File::open("/dev/null").ok()
}

/// Raises the soft limit on open files to the hard one, and says so if `slots` instances
/// of `per_instance` descriptors each could take them all.
pub fn raise_open_files_limit(slots: u32, per_instance: usize) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    let raised = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let wanted = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        wanted.rlim_cur > limit.rlim_cur && libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0
    };
    let current = if raised { limit.rlim_max } else { limit.rlim_cur };
    if raised {
        tracing::info!("raised the open files limit from {} to {current}", limit.rlim_cur);
    }
    let instances_may_hold = u64::from(slots) * per_instance as u64;
    if instances_may_hold > current {
        tracing::warn!(
            "the open files limit is {current}, and {slots} instance slots of up to {per_instance} descriptors each \
             could hold {instances_may_hold}: apps together could leave none for connections \
             (raise ulimit -n, or lower --instance-slots or --open-files)"
        );
    }
}
