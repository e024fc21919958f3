//! The data-folder limit. An app's data folder is the one thing its instances can grow
//! outside their own memory, and WASI has no hook on writes, so the host measures the
//! folder of each app that has run anything since the last check, twice a second at most
//! (less often for a folder that takes long to measure), each app in a task of its own.
//!
//! While a folder takes more than its app's `data_limit`, instances are made with it
//! read-only, a call running on a writable one stops at its next epoch tick (503), and
//! idle writable ones are dropped; once files are removed and it is back under, it is
//! writable again. A request can overshoot by what it writes between two checks. An app
//! that runs nothing is not measured, so files the operator removes are noticed at its
//! next request.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often data folders are considered for measuring.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// What an entry counts at the least: one file-system block.
const MIN_ENTRY_SIZE: u64 = 4096;

/// A folder is measured again no sooner than this many times its last measurement took
/// after it: a folder of 100,000 files took 0.2 s of the host's CPU a second to measure
/// twice a second. This keeps measuring under a tenth of a core per app, and the limit's
/// overshoot window grows only for apps with very many files.
const MEASURE_COST_FACTOR: u32 = 10;

/// Whether an app's data folder is over its limit, as last measured, and when to measure
/// it next.
#[derive(Debug)]
pub struct DataQuota {
    over: AtomicBool,
    /// An instance was lent since the last measurement: only then can the folder have grown.
    used: AtomicBool,
    measuring: AtomicBool,
    not_before: Mutex<Option<Instant>>,
}

impl Default for DataQuota {
    fn default() -> Self {
        DataQuota {
            over: AtomicBool::new(false),
            used: AtomicBool::new(true),
            measuring: AtomicBool::new(false),
            not_before: Mutex::new(None),
        }
    }
}

impl DataQuota {
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// Records a measurement; true if it changed the state.
    pub fn record(&self, over: bool) -> bool {
        self.over.swap(over, Ordering::Relaxed) != over
    }

    /// An instance was lent: the folder may grow.
    pub fn note_use(&self) {
        self.used.store(true, Ordering::Relaxed);
    }

    /// Whether to measure the folder now: it was used since the last time (or `in_use`
    /// still), no measurement runs, and the last one was long enough ago. If so, the
    /// measurement counts as started.
    pub fn start_measuring(&self, in_use: bool) -> bool {
        let due = self.not_before.lock().unwrap_or_else(PoisonError::into_inner).is_none_or(|at| Instant::now() >= at);
        if !due || self.measuring.load(Ordering::Relaxed) {
            return false;
        }
        if !self.used.swap(false, Ordering::Relaxed) && !in_use {
            return false;
        }
        !self.measuring.swap(true, Ordering::Relaxed)
    }

    /// A measurement that took `took` is done.
    pub fn finish_measuring(&self, took: Duration) {
        *self.not_before.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Instant::now() + took * MEASURE_COST_FACTOR);
        self.measuring.store(false, Ordering::Relaxed);
    }
}

/// Disk space the files under `dir` take: allocated blocks, so that a sparse file counts
/// what it really uses, and at least one block per entry, so that empty files (which take
/// an inode each) count too. Symbolic links are not followed. An entry removed while it is
/// measured is skipped; any other error fails the measurement, since a folder that cannot
/// be read (the host out of file descriptors) must not count as empty.
pub fn disk_usage(dir: &Path) -> io::Result<u64> {
    let gone = |error: &io::Error| error.kind() == io::ErrorKind::NotFound;
    let mut total = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if gone(&error) => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let metadata = match entry.metadata() {
                Ok(metadata) => metadata,
                Err(error) if gone(&error) => continue,
                Err(error) => return Err(error),
            };
            total = total.saturating_add(metadata.blocks().saturating_mul(512).max(MIN_ENTRY_SIZE));
            if metadata.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_nested_files_and_state_changes_once() {
        let dir = std::env::temp_dir().join(format!("astra-quota-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::write(dir.join("nested/file"), vec![1u8; 100_000]).unwrap();
        assert!(disk_usage(&dir).unwrap() >= 100_000);
        for n in 0..10 {
            std::fs::write(dir.join(format!("empty-{n}")), b"").unwrap();
        }
        assert!(disk_usage(&dir).unwrap() >= 100_000 + 10 * MIN_ENTRY_SIZE, "empty files count a block each");
        std::fs::set_permissions(dir.join("nested"), std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
        if std::fs::read_dir(dir.join("nested")).is_err() {
            // Not as root, which reads the folder anyway.
            assert!(disk_usage(&dir).is_err(), "a folder that cannot be read fails the measurement");
        }
        std::fs::set_permissions(dir.join("nested"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        let quota = DataQuota::default();
        assert!(quota.record(true));
        assert!(!quota.record(true));
        assert!(quota.is_over());
        assert!(quota.record(false));

        assert!(quota.start_measuring(false), "used since it was made");
        assert!(!quota.start_measuring(true), "one measurement at a time");
        quota.finish_measuring(Duration::from_millis(100));
        quota.note_use();
        assert!(!quota.start_measuring(true), "not again within ten times its cost");
    }
}
