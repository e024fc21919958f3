//! The one file view an app sees (ASTRA_API.md, decision 1): its data folder laid over its
//! app folder, as if the app ran from its own folder with a place to write.
//!
//! A path names a place in the view: relative to the instance's current folder
//! (`fs.change_dir`), or absolute from the view's root; `..` stops at the root. Reading
//! finds the data folder's copy first, then the app folder's. Writing, creating and
//! removing happen in the data folder: a folder the app folder has counts as existing, and
//! is made in the data folder when something is written inside it; a file opened to append
//! or update is copied from the app folder first. Nothing outside the two folders exists:
//! the host mounts the app folder read-only at `/app` and the data folder at `/data`, with
//! nothing at the root, so a path that went around the view fails rather than lands
//! somewhere, and WASI keeps links inside their folder.

use std::cell::RefCell;
use std::fs;
use std::io;
use std::path::PathBuf;

const APP: &str = "/app";
const DATA: &str = "/data";

thread_local! {
    /// The instance's current folder, as components from the view's root.
    static CURRENT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A place in the view: its components from the root, none of them `.`, `..` or empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewPath(Vec<String>);

impl ViewPath {
    /// `path` as the app names it; an error says why it names no place.
    pub fn parse(path: &str) -> Result<ViewPath, String> {
        if path.is_empty() {
            return Err("an empty path names no file".into());
        }
        if path.contains('\0') {
            return Err(format!("{path:?} holds a NUL byte"));
        }
        let mut components = if path.starts_with('/') { Vec::new() } else { CURRENT.with_borrow(Clone::clone) };
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    components.pop();
                }
                name => components.push(name.to_string()),
            }
        }
        Ok(ViewPath(components))
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path as the app sees it: `/`, `/logs/today.txt`.
    pub fn shown(&self) -> String {
        format!("/{}", self.0.join("/"))
    }

    pub fn join(&self, name: &str) -> ViewPath {
        let mut components = self.0.clone();
        components.push(name.to_string());
        ViewPath(components)
    }

    pub fn parent(&self) -> Option<ViewPath> {
        (!self.is_root()).then(|| ViewPath(self.0[..self.0.len() - 1].to_vec()))
    }

    fn under(&self, mount: &str) -> PathBuf {
        let mut path = PathBuf::from(mount);
        path.extend(&self.0);
        path
    }

    pub fn in_data(&self) -> PathBuf {
        self.under(DATA)
    }

    pub fn in_app(&self) -> PathBuf {
        self.under(APP)
    }

    /// Where to read the place from: the data folder's, if it has it, else the app
    /// folder's, if that has it, else the data folder's (so that "not found" names it).
    pub fn for_reading(&self) -> PathBuf {
        let data = self.in_data();
        if fs::symlink_metadata(&data).is_ok() {
            return data;
        }
        let app = self.in_app();
        if fs::symlink_metadata(&app).is_ok() { app } else { data }
    }

    /// The data folder's copy of the place, its parent folders made where the app folder
    /// has them; `copy_up`: with the app folder's file copied there first, if only that
    /// one exists (for appending to or updating it).
    pub fn for_writing(&self, copy_up: bool) -> io::Result<PathBuf> {
        if self.is_root() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "the root of the view is a folder"));
        }
        if let Some(parent) = self.parent() {
            parent.make_folder_in_data()?;
        }
        let data = self.in_data();
        if copy_up && fs::symlink_metadata(&data).is_err() && self.in_app().is_file() {
            fs::copy(self.in_app(), &data)?;
        }
        Ok(data)
    }

    /// Makes the place a folder in the data folder, and its parents, if it is a folder in
    /// either; an error if it is in neither.
    fn make_folder_in_data(&self) -> io::Result<()> {
        if self.is_root() || self.in_data().is_dir() {
            return Ok(());
        }
        if !self.in_app().is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a folder", self.shown())));
        }
        if let Some(parent) = self.parent() {
            parent.make_folder_in_data()?;
        }
        match fs::create_dir(self.in_data()) {
            Err(error) if error.kind() != io::ErrorKind::AlreadyExists => Err(error),
            _ => Ok(()),
        }
    }

    pub fn exists(&self) -> bool {
        self.is_root() || fs::metadata(self.in_data()).is_ok() || fs::metadata(self.in_app()).is_ok()
    }

    pub fn is_dir(&self) -> bool {
        self.is_root() || self.in_data().is_dir() || self.in_app().is_dir()
    }

    /// The names in the folder, the data folder's and the app folder's together, each once.
    pub fn read_dir(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut found = false;
        for folder in [self.in_data(), self.in_app()] {
            let Ok(entries) = fs::read_dir(&folder) else { continue };
            found = true;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        if !found {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a folder", self.shown())));
        }
        Ok(names)
    }
}

/// The instance's current folder.
pub fn current() -> ViewPath {
    ViewPath(CURRENT.with_borrow(Clone::clone))
}

/// Makes `path`, a folder in the view, the instance's current folder.
pub fn change_to(path: &ViewPath) -> Result<(), String> {
    if !path.is_dir() {
        return Err(format!("{} is not a folder", path.shown()));
    }
    CURRENT.with_borrow_mut(|current| *current = path.0.clone());
    Ok(())
}

/// The view's functions the prelude wraps Lua's own file functions with: each takes the
/// app's path and answers the mounted one to open, or nil and an error message naming the
/// app's path.
pub fn install(lua: &mlua::Lua, internal: &mlua::Table) -> mlua::Result<()> {
    type Answer = (Option<String>, Option<String>);
    fn answer(path: &str, found: Result<PathBuf, String>) -> Answer {
        match found {
            Ok(physical) => (Some(physical.display().to_string()), None),
            Err(error) => (None, Some(format!("{path}: {error}"))),
        }
    }
    internal.set(
        "read_path",
        lua.create_function(|_, path: String| {
            Ok(answer(&path, ViewPath::parse(&path).map(|place| place.for_reading())))
        })?,
    )?;
    internal.set(
        "write_path",
        lua.create_function(|_, (path, copy_up): (String, bool)| {
            let found = ViewPath::parse(&path).and_then(|place| place.for_writing(copy_up).map_err(|e| reason(&e)));
            Ok(answer(&path, found))
        })?,
    )?;
    // Only what is in the data folder can be removed or renamed.
    internal.set(
        "remove_path",
        lua.create_function(|_, path: String| {
            let found = ViewPath::parse(&path).and_then(|place| {
                let data = place.in_data();
                if fs::symlink_metadata(&data).is_ok() {
                    Ok(data)
                } else if place.exists() {
                    Err("the app folder is read-only (Operation not permitted)".into())
                } else {
                    Err("No such file or directory".into())
                }
            });
            Ok(answer(&path, found))
        })?,
    )?;
    // Code comes from the app folder only, never from what the app wrote: `require` finds
    // a module's file, and its source and name as error messages show it (`lib/util.lua`).
    internal.set(
        "app_module",
        lua.create_function(|lua, path: String| {
            let Ok(place) = ViewPath::parse(&path) else { return Ok((None, None)) };
            match fs::read(place.in_app()) {
                Ok(source) if place.in_app().is_file() => {
                    Ok((Some(lua.create_string(&source)?), Some(place.shown()[1..].to_string())))
                }
                _ => Ok((None, None)),
            }
        })?,
    )?;
    internal.set(
        "renamed",
        lua.create_function(|_, (message, physical, path): (String, String, String)| {
            Ok(message.replace(&physical, &path))
        })?,
    )?;
    Ok(())
}

/// An I/O error as C's `strerror` words it, without Rust's "(os error N)".
pub fn reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
