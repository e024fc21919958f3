//! An app folder holds only what the sandbox can open safely: regular files, folders and
//! links to them.
//!
//! The guest opens its app folder's files through WASI, and the host does that open on a
//! blocking thread. A named pipe opened for reading waits for a writer that never comes:
//! the instance gives up at its wall-time limit, but the host thread stays stuck, and a
//! few hundred such opens would leave no thread for anyone's file I/O. Sockets and device
//! files have no place in an app either. So a folder with any of them is refused before
//! the app starts, naming the file. The walk is bounded: a folder of more entries than
//! any app needs is refused rather than walked for ever.

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// More entries than this in one app folder is refused.
pub const MAX_ENTRIES: usize = 100_000;

pub fn check(app_dir: &Path) -> Result<(), String> {
    let mut pending = vec![app_dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(folder) = pending.pop() {
        let entries = fs::read_dir(&folder).map_err(|e| format!("cannot list {}: {e}", shown(app_dir, &folder)))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", shown(app_dir, &folder)))?;
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(format!("the app folder has more than {MAX_ENTRIES} files and folders"));
            }
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| format!("{}: {e}", shown(app_dir, &path)))?;
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            // A link's target is what an open reaches; one that leads nowhere opens nothing.
            let target = if kind.is_symlink() { fs::metadata(&path).map(|m| m.file_type()).ok() } else { Some(kind) };
            if let Some(special) = target.and_then(special_kind) {
                return Err(format!(
                    "{} is {special}: an app folder may hold only files, folders and links to them",
                    shown(app_dir, &path)
                ));
            }
        }
    }
    Ok(())
}

fn special_kind(kind: fs::FileType) -> Option<&'static str> {
    if kind.is_fifo() {
        Some("a named pipe")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        Some("a device file")
    } else {
        None
    }
}

/// The path as the tenant knows it, inside the app folder.
fn shown(app_dir: &Path, path: &Path) -> String {
    path.strip_prefix(app_dir).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_and_links_to_them_are_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("astra-app-folder-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("static/deep")).unwrap();
        fs::write(dir.join("init.lua"), "").unwrap();
        std::os::unix::fs::symlink("init.lua", dir.join("static/alias.lua")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.join("static/dangling")).unwrap();
        assert_eq!(check(&dir), Ok(()));

        let made = std::process::Command::new("mkfifo").arg(dir.join("static/deep/pipe")).status().unwrap();
        assert!(made.success());
        assert_eq!(
            check(&dir).unwrap_err(),
            "static/deep/pipe is a named pipe: an app folder may hold only files, folders and links to them"
        );
        let outside = std::env::temp_dir().join(format!("astra-outside-pipe-{}", std::process::id()));
        fs::rename(dir.join("static/deep/pipe"), &outside).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("static/link")).unwrap();
        assert!(check(&dir).unwrap_err().starts_with("static/link is a named pipe"));
        fs::remove_file(&outside).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
