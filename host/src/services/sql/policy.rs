//! What an app may open as a database, decided without I/O.
//!
//! A SQLite path is a path in the app's file view (decision 1), which the guest has already
//! made absolute against its current folder: `/shop.db`, `/db/shop.db`. It lands in the
//! data folder, as every write does; `..` stops at the view's root, as it does for `io.open`.
//! PostgreSQL URLs go through the network rules (`services::net`), and the options that would
//! load native code into the host (SQLite extensions) never get here: the guest refuses them.

/// Longest database path accepted; real ones are a few dozen bytes.
const MAX_PATH: usize = 1024;

/// A SQLite file's place in the data folder: its folders, then its name.
#[derive(Debug, PartialEq)]
pub struct DataPath {
    pub folders: Vec<String>,
    pub file: String,
}

impl DataPath {
    /// The path relative to the data folder, for messages and as the pool's key.
    pub fn display(&self) -> String {
        let mut path = self.folders.join("/");
        if !path.is_empty() {
            path.push('/');
        }
        path + &self.file
    }
}

/// Where `path` (absolute in the file view) lies in the data folder.
pub fn sqlite_path(path: &str) -> Result<DataPath, String> {
    if path.len() > MAX_PATH {
        return Err(format!("a database path of {} bytes is longer than {MAX_PATH}", path.len()));
    }
    if path.contains('\0') {
        return Err("a database path cannot hold a NUL byte".into());
    }
    let mut parts: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name.to_string()),
        }
    }
    let file = parts.pop().ok_or_else(|| format!("{path:?} names a folder, not a database file"))?;
    if path.ends_with('/') {
        return Err(format!("{path:?} names a folder, not a database file"));
    }
    Ok(DataPath { folders: parts, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_in_the_data_folder() {
        let cases = [
            ("/shop.db", "shop.db"),
            ("/db/shop.db", "db/shop.db"),
            ("/./db//shop.db", "db/shop.db"),
            ("/../../etc/passwd", "etc/passwd"),
            ("/db/../../shop.db", "shop.db"),
        ];
        for (path, expected) in cases {
            assert_eq!(sqlite_path(path).unwrap().display(), expected, "{path}");
        }
    }

    #[test]
    fn folders_nul_bytes_and_huge_paths_are_refused() {
        for (path, reason) in
            [("/", "names a folder"), ("/db/", "names a folder"), ("/..", "names a folder"), ("/a\0b", "NUL")]
        {
            let error = sqlite_path(path).unwrap_err();
            assert!(error.contains(reason), "{path:?}: {error}");
        }
        assert!(sqlite_path(&format!("/{}", "a".repeat(2000))).unwrap_err().contains("longer"));
    }
}
