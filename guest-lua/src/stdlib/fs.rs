//! `require("fs")`: files and folders, on the file view (`view.rs`): the app's data folder
//! laid over its app folder. Reads find the data folder's copy first; writes, new folders
//! and removals are the data folder's; `read_dir` and `parse_glob` show both folders as one.
//!
//! Astra's differences kept: `read_file` refuses what is not UTF-8, `write_file` writes a
//! table that is not a list of bytes as JSON, `File` is read-only and its buffer methods
//! are `read_buf`/`write_buf` (with the documented `read_buffer`/`write_buffer` as well).
//! Its losses are not kept: a string is written as its bytes, not through lossy UTF-8.

use std::fs;
use std::io::Read;
use std::time::SystemTime;

use mlua::{AnyUserData, Lua, Table, UserData, UserDataMethods, Value};

use crate::view::{self, ViewPath};

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let fs = lua.create_table()?;
    fs.set(
        "read_file",
        lua.create_function(|lua, path: String| {
            let bytes = read(&path, "read_file")?;
            if std::str::from_utf8(&bytes).is_err() {
                return Err(failure("read_file", &path, "the file is not UTF-8 text (read_file_bytes reads any file)"));
            }
            lua.create_string(bytes)
        })?,
    )?;
    fs.set(
        "read_file_bytes",
        lua.create_function(|lua, path: String| lua.create_sequence_from(read(&path, "read_file_bytes")?))?,
    )?;
    fs.set(
        "write_file",
        lua.create_function(|lua, (path, contents): (String, Value)| {
            let bytes = match &contents {
                Value::String(text) => text.as_bytes().to_vec(),
                Value::Table(table) => match byte_list(table) {
                    Some(bytes) => bytes,
                    None => crate::stdlib::serde::json::encode(lua, contents.clone())
                        .map_err(|e| failure("write_file", &path, &e))?,
                },
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "fs.write_file: Invalid data type to write: {}",
                        other.type_name()
                    )));
                }
            };
            let target =
                place(&path, "write_file")?.for_writing(false).map_err(|e| io_failure("write_file", &path, &e))?;
            fs::write(target, bytes).map_err(|e| io_failure("write_file", &path, &e))
        })?,
    )?;
    fs.set("exists", lua.create_function(|_, path: String| Ok(place(&path, "exists")?.exists()))?)?;
    fs.set(
        "create_dir",
        lua.create_function(|_, path: String| {
            let folder = place(&path, "create_dir")?;
            if folder.exists() {
                return Err(failure("create_dir", &path, "File exists"));
            }
            let target = folder.for_writing(false).map_err(|e| io_failure("create_dir", &path, &e))?;
            fs::create_dir(target).map_err(|e| io_failure("create_dir", &path, &e))
        })?,
    )?;
    fs.set(
        "create_dir_all",
        lua.create_function(|_, path: String| {
            let folder = place(&path, "create_dir_all")?;
            if folder.is_root() {
                return Ok(());
            }
            fs::create_dir_all(folder.in_data()).map_err(|e| io_failure("create_dir_all", &path, &e))
        })?,
    )?;
    fs.set("remove", lua.create_function(|_, path: String| remove(&path, "remove", |p| fs::remove_file(p)))?)?;
    fs.set("remove_dir", lua.create_function(|_, path: String| remove(&path, "remove_dir", |p| fs::remove_dir(p)))?)?;
    fs.set(
        "remove_dir_all",
        lua.create_function(|_, path: String| remove(&path, "remove_dir_all", |p| fs::remove_dir_all(p)))?,
    )?;
    fs.set(
        "read_dir",
        lua.create_function(|lua, path: String| {
            let folder = place(&path, "read_dir")?;
            let names = folder.read_dir().map_err(|e| io_failure("read_dir", &path, &e))?;
            let entries = names.into_iter().map(|name| {
                let kind = EntryType::of(&folder.join(&name));
                DirEntry { path: format!("{}/{name}", path.trim_end_matches('/')), name, kind }
            });
            lua.create_sequence_from(entries)
        })?,
    )?;
    fs.set(
        "get_metadata",
        lua.create_function(|_, path: String| {
            let file = place(&path, "get_metadata")?.for_reading();
            let metadata = fs::metadata(&file).map_err(|e| io_failure("get_metadata", &path, &e))?;
            Ok(Metadata { metadata, path })
        })?,
    )?;
    fs.set("get_current_dir", lua.create_function(|_, ()| Ok(view::current().shown()))?)?;
    fs.set(
        "change_dir",
        lua.create_function(|_, path: String| {
            view::change_to(&place(&path, "change_dir")?)
                .map_err(|e| mlua::Error::runtime(format!("fs.change_dir: {e}")))
        })?,
    )?;
    fs.set(
        "get_script_path",
        lua.create_function(|lua, ()| {
            let script: String = lua.globals().get("CURRENT_SCRIPT")?;
            Ok(place(&script, "get_script_path")?.shown())
        })?,
    )?;
    fs.set("get_separator", lua.create_function(|_, ()| Ok("/"))?)?;
    fs.set("parse_glob", lua.create_function(parse_glob)?)?;
    fs.set(
        "new_buffer",
        lua.create_function(|_, capacity: Option<usize>| {
            Ok(Buffer(Vec::with_capacity(capacity.unwrap_or(0).min(MAX_BUFFER))))
        })?,
    )?;
    fs.set(
        "open",
        lua.create_function(|_, path: String| {
            let file =
                fs::File::open(place(&path, "open")?.for_reading()).map_err(|e| io_failure("open", &path, &e))?;
            Ok(File { file, path })
        })?,
    )?;
    Ok(fs)
}

/// A buffer's capacity is the app's to choose, up to this.
const MAX_BUFFER: usize = 16 << 20;

fn failure(call: &str, path: &str, reason: &str) -> mlua::Error {
    mlua::Error::runtime(format!("fs.{call}: {path}: {reason}"))
}

fn io_failure(call: &str, path: &str, error: &std::io::Error) -> mlua::Error {
    failure(call, path, &view::reason(error))
}

fn place(path: &str, call: &str) -> mlua::Result<ViewPath> {
    ViewPath::parse(path).map_err(|reason| mlua::Error::runtime(format!("fs.{call}: {reason}")))
}

fn read(path: &str, call: &str) -> mlua::Result<Vec<u8>> {
    fs::read(place(path, call)?.for_reading()).map_err(|e| io_failure(call, path, &e))
}

/// Removes what the data folder has at `path`; what only the app folder has stays.
fn remove(path: &str, call: &str, remove: impl Fn(&std::path::Path) -> std::io::Result<()>) -> mlua::Result<()> {
    let place = place(path, call)?;
    if fs::symlink_metadata(place.in_data()).is_err() {
        let reason = if place.exists() { "the app folder is read-only" } else { "No such file or directory" };
        return Err(failure(call, path, reason));
    }
    remove(&place.in_data()).map_err(|e| io_failure(call, path, &e))
}

/// The bytes of a table that is a list of byte numbers (the empty table too), as Astra
/// tells bodies from JSON: its keys exactly 1..n, its values integers 0-255.
fn byte_list(table: &Table) -> Option<Vec<u8>> {
    let length = table.raw_len();
    if table.pairs::<Value, Value>().count() != length {
        return None;
    }
    (1..=length)
        .map(|index| match table.raw_get::<Value>(index) {
            Ok(Value::Integer(byte)) => u8::try_from(byte).ok(),
            _ => None,
        })
        .collect()
}

/// `{ base_path, entries }`, as `Glob` finds them.
fn parse_glob(lua: &Lua, pattern: String) -> mlua::Result<Table> {
    let found = Glob::find(&pattern).map_err(|reason| mlua::Error::runtime(format!("fs.parse_glob: {reason}")))?;
    let result = lua.create_table()?;
    result.set("base_path", found.base)?;
    result.set("entries", lua.create_sequence_from(found.entries)?)?;
    Ok(result)
}

/// What a glob pattern matches on the view: `base` is its leading folders without `*`, `?`
/// or `[`, and `entries` the matching paths under it, relative to it, from both folders of
/// the view, sorted. Links to folders are not walked into, so a link to `.` cannot make the
/// walk endless.
pub struct Glob {
    pub base: String,
    pub entries: Vec<String>,
}

impl Glob {
    pub fn find(pattern: &str) -> Result<Glob, String> {
        let matcher = glob::Pattern::new(pattern).map_err(|e| format!("{pattern:?} is not a glob: {e}"))?;
        let parts: Vec<&str> = pattern.split('/').collect();
        let fixed = parts.iter().take_while(|part| !part.contains(['*', '?', '['])).count().min(parts.len() - 1);
        let base = parts[..fixed].join("/");
        let base_place = ViewPath::parse(if base.is_empty() { "." } else { &base })?;
        let options = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
        let mut entries = Vec::new();
        let mut pending = vec![(base_place, String::new())];
        while let Some((folder, relative)) = pending.pop() {
            let Ok(names) = folder.read_dir() else { continue };
            for name in names {
                let child = folder.join(&name);
                let child_relative = if relative.is_empty() { name.clone() } else { format!("{relative}/{name}") };
                let full = if base.is_empty() { child_relative.clone() } else { format!("{base}/{child_relative}") };
                if matcher.matches_with(&full, options) {
                    entries.push(child_relative.clone());
                }
                let is_link = fs::symlink_metadata(child.for_reading()).is_ok_and(|m| m.file_type().is_symlink());
                if child.is_dir() && !is_link {
                    pending.push((child, child_relative));
                }
            }
        }
        entries.sort();
        Ok(Glob { base, entries })
    }
}

#[derive(Clone, Copy)]
struct EntryType {
    file: bool,
    dir: bool,
    symlink: bool,
}

impl EntryType {
    fn of(place: &ViewPath) -> EntryType {
        let file = place.for_reading();
        let link = fs::symlink_metadata(&file).map(|m| m.file_type().is_symlink()).unwrap_or(false);
        let metadata = fs::metadata(&file).ok();
        EntryType { file: metadata.as_ref().is_some_and(fs::Metadata::is_file), dir: place.is_dir(), symlink: link }
    }
}

impl UserData for EntryType {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("is_file", |_, this, ()| Ok(this.file));
        methods.add_method("is_dir", |_, this, ()| Ok(this.dir));
        methods.add_method("is_symlink", |_, this, ()| Ok(this.symlink));
    }
}

struct DirEntry {
    name: String,
    path: String,
    kind: EntryType,
}

impl UserData for DirEntry {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("file_name", |_, this, ()| Ok(this.name.clone()));
        methods.add_method("path", |_, this, ()| Ok(this.path.clone()));
        methods.add_method("type", |_, this, ()| Ok(this.kind));
    }
}

struct Metadata {
    metadata: fs::Metadata,
    path: String,
}

impl Metadata {
    fn seconds(&self, time: std::io::Result<SystemTime>, what: &str) -> mlua::Result<i64> {
        let time =
            time.map_err(|_| failure("get_metadata", &self.path, &format!("the file system keeps no {what}")))?;
        Ok(match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        })
    }
}

impl UserData for Metadata {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("last_accessed", |_, this, ()| this.seconds(this.metadata.accessed(), "access time"));
        methods.add_method("last_modified", |_, this, ()| this.seconds(this.metadata.modified(), "modification time"));
        methods.add_method("created_at", |_, this, ()| this.seconds(this.metadata.created(), "creation time"));
        methods.add_method("type", |_, this, ()| {
            let kind = this.metadata.file_type();
            Ok(EntryType { file: kind.is_file(), dir: kind.is_dir(), symlink: kind.is_symlink() })
        });
        methods.add_method("file_permissions", |_, this, ()| Ok(Permissions(this.metadata.permissions().readonly())));
    }
}

/// As in Astra, `set_readonly` changes this copy, never the file.
struct Permissions(bool);

impl UserData for Permissions {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("is_readonly", |_, this, ()| Ok(this.0));
        methods.add_method_mut("set_readonly", |_, this, readonly: bool| {
            this.0 = readonly;
            Ok(())
        });
    }
}

/// `fs.new_buffer(capacity)`: bytes with room to read into.
pub struct Buffer(Vec<u8>);

impl UserData for Buffer {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("text", |lua, this, ()| lua.create_string(String::from_utf8_lossy(&this.0).as_bytes()));
        methods.add_method("bytes", |lua, this, ()| lua.create_sequence_from(this.0.iter().copied()));
        methods.add_method("json", |lua, this, ()| crate::stdlib::serde::json::decode(lua, &this.0, "the buffer"));
        methods.add_method("len", |_, this, ()| Ok(this.0.len()));
        methods.add_method("capacity", |_, this, ()| Ok(this.0.capacity()));
    }
}

/// `fs.open(path)`: a file open for reading.
struct File {
    file: fs::File,
    path: String,
}

impl File {
    /// `action` on the buffer's bytes. None of the reads below asks for no bytes: a read of
    /// no bytes leaves a WASI file reading as if at its end.
    fn with_buffer<T>(buffer: &AnyUserData, action: impl FnOnce(&mut Vec<u8>) -> T) -> mlua::Result<T> {
        let mut buffer = buffer.borrow_mut::<Buffer>()?;
        Ok(action(&mut buffer.0))
    }
}

impl UserData for File {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("path", |_, this, ()| Ok(this.path.clone()));
        // Fills the buffer's current length (a new buffer's is 0: nothing is read).
        methods.add_method_mut("read", |_, this, buffer: AnyUserData| {
            let (file, path) = (&mut this.file, &this.path);
            File::with_buffer(&buffer, |bytes| match bytes.is_empty() {
                true => Ok(0),
                false => file.read(bytes).map_err(|e| io_failure("read", path, &e)),
            })?
        });
        methods.add_method_mut("read_exact", |_, this, buffer: AnyUserData| {
            let (file, path) = (&mut this.file, &this.path);
            File::with_buffer(&buffer, |bytes| match bytes.is_empty() {
                true => Ok(()),
                false => file.read_exact(bytes).map_err(|e| io_failure("read_exact", path, &e)),
            })?
        });
        // Appends one read into the buffer's spare capacity.
        let read_buf = |_: &Lua, this: &mut File, buffer: AnyUserData| {
            let (file, path) = (&mut this.file, &this.path);
            File::with_buffer(&buffer, |bytes| {
                let spare = bytes.capacity() - bytes.len();
                if spare == 0 {
                    return Ok(0);
                }
                let start = bytes.len();
                bytes.resize(start + spare, 0);
                let read = file.read(&mut bytes[start..]).map_err(|e| io_failure("read_buf", path, &e));
                bytes.truncate(start + *read.as_ref().unwrap_or(&0));
                read
            })?
        };
        methods.add_method_mut("read_buf", read_buf);
        methods.add_method_mut("read_buffer", read_buf);
        for name in ["write", "write_buf", "write_buffer"] {
            methods.add_method(name, |_, this, _: Value| -> mlua::Result<()> {
                Err(failure("open", &this.path, "the file is open for reading only"))
            });
        }
    }
}
