//! The data-folder limit. An app's data folder is the one thing its instances can grow
//! outside their own memory, and WASI has no hook on writes, so the host measures the
//! folder of each app that has run anything since the last check, twice a second.
//!
//! While a folder takes more than its app's `data_limit`, instances are made with it
//! read-only, a call running on a writable one stops at its next epoch tick (503), and
//! idle writable ones are dropped; once files are removed and it is back under, it is
//! writable again. A request can overshoot by what it writes between two checks. An app
//! that runs nothing is not measured, so files the operator removes are noticed at its
//! next request.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often data folders are measured.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// What an entry counts at the least: one file-system block.
const MIN_ENTRY_SIZE: u64 = 4096;

/// Whether an app's data folder is over its limit, as last measured.
#[derive(Debug, Default)]
pub struct DataQuota {
    over: AtomicBool,
}

impl DataQuota {
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// Records a measurement; true if it changed the state.
    pub fn record(&self, over: bool) -> bool {
        self.over.swap(over, Ordering::Relaxed) != over
    }
}

/// Disk space the files under `dir` take: allocated blocks, so that a sparse file counts
/// what it really uses, and at least one block per entry, so that empty files (which take
/// an inode each) count too. Symbolic links are not followed.
pub fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else { continue };
            total = total.saturating_add(metadata.blocks().saturating_mul(512).max(MIN_ENTRY_SIZE));
            if metadata.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_nested_files_and_state_changes_once() {
        let dir = std::env::temp_dir().join(format!("astra-quota-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::write(dir.join("nested/file"), vec![1u8; 100_000]).unwrap();
        assert!(disk_usage(&dir) >= 100_000);
        for n in 0..10 {
            std::fs::write(dir.join(format!("empty-{n}")), b"").unwrap();
        }
        assert!(disk_usage(&dir) >= 100_000 + 10 * MIN_ENTRY_SIZE, "empty files count a block each");
        std::fs::remove_dir_all(&dir).unwrap();

        let quota = DataQuota::default();
        assert!(quota.record(true));
        assert!(!quota.record(true));
        assert!(quota.is_over());
        assert!(quota.record(false));
    }
}
