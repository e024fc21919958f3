//! Lua's C code raises errors with setjmp/longjmp, which the wasm target lowers to Wasm
//! exceptions. Rust's bundled wasi-libc has neither the runtime half of that lowering nor
//! the emulated-signal library that lua-src links against, so both are compiled here with
//! the same compiler as Lua itself (scripts/zig-cc, set in .cargo/config.toml), as is the
//! random seed of Lua's string hashes that the wrapper points Lua at.
//!
//! The JSON encoder (c/json_encode.c) reads Lua's tables directly, so it is compiled
//! against Lua's internal headers: those of the very sources mlua builds, found in the
//! lua-src package that Cargo.lock names (or in `ASTRA_LUA_SOURCES`, a directory holding
//! `lobject.h`, for a Cargo home somewhere unusual).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=c");
    println!("cargo:rerun-if-env-changed=ASTRA_LUA_SOURCES");
    let target = env::var("TARGET").unwrap_or_default();
    if !target.starts_with("wasm32-wasi") {
        return;
    }
    cc::Build::new().file("c/setjmp.c").compile("setjmp");
    cc::Build::new().file("c/signal.c").compile("wasi-emulated-signal");
    cc::Build::new().file("c/lua_seed.c").compile("lua-seed");
    let lua = lua_sources().unwrap_or_else(|problem| panic!("cannot find Lua's C sources: {problem}"));
    cc::Build::new()
        .file("c/json_encode.c")
        .include(&lua)
        // As lua-src builds Lua for WASI, so that every struct is laid out alike.
        .define("LUA_USE_POSIX", None)
        .define("_WASI_EMULATED_SIGNAL", None)
        .define("LUA_COMPAT_5_3", None)
        .compile("json-encode");
}

fn lua_sources() -> Result<PathBuf, String> {
    if let Some(dir) = env::var_os("ASTRA_LUA_SOURCES") {
        return Ok(dir.into());
    }
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);
    let lockfile = manifest_dir.join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lockfile.display());
    let lock = fs::read_to_string(&lockfile).map_err(|e| format!("cannot read {}: {e}", lockfile.display()))?;
    let version = locked_version(&lock, "lua-src").ok_or("Cargo.lock has no lua-src package")?;
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let registries = cargo_home.join("registry/src");
    let entries = fs::read_dir(&registries).map_err(|e| format!("cannot read {}: {e}", registries.display()))?;
    for registry in entries.flatten() {
        let package = registry.path().join(format!("lua-src-{version}"));
        let Ok(versions) = fs::read_dir(&package) else { continue };
        for dir in versions.flatten() {
            if dir.file_name().to_string_lossy().starts_with("lua-5.4") && dir.path().join("lobject.h").exists() {
                return Ok(dir.path());
            }
        }
    }
    Err(format!("no lua-src-{version}/lua-5.4.*/lobject.h under {} (set ASTRA_LUA_SOURCES)", registries.display()))
}

/// The version Cargo.lock gives `name`: the line after its `name = "..."` line.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let mut lines = lock.lines();
    lines.find(|line| *line == format!("name = \"{name}\""))?;
    lines.next()?.strip_prefix("version = \"")?.strip_suffix('"')
}
