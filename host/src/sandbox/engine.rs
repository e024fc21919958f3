//! The one wasmtime engine of the process, the compiled guest, and the epoch clock.
//!
//! Compiling the guest with Cranelift takes a few hundred milliseconds, so the compiled
//! form is kept on disk, keyed by the guest's bytes and the engine's compatibility hash: a
//! second start, or a new astra-host build with the same guest, loads it in milliseconds.
//! Everything per app (WASI context, limits) lives in the store, so one `InstancePre` is
//! linked once and serves every app.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Result};

use crate::bindings::GuestPre;
use crate::bindings::astra::host::{outbound_http, pubsub, request, runtime, sql, tasks, types, websocket};
use crate::config::units::ByteSize;
use crate::sandbox::scheduler::Lanes;
use crate::sandbox::store::GuestState;
use crate::services::outbound_http::OutboundHttp;
use crate::services::sql::Sql;
use crate::services::tasks::Tasks;

/// The guest component, built from `guest-lua/` and embedded at build time.
static GUEST_WASM: &[u8] = include_bytes!(env!("ASTRA_GUEST_WASM"));

/// How often the epoch advances: the granularity of CPU limits and of yielding. A short
/// tick keeps the time other requests wait behind a busy one short (see `scheduler`).
pub const TICK: Duration = Duration::from_millis(1);

/// Instance memory from a pre-reserved pool (copy-on-write images of the guest's initial
/// memory, nothing mapped or unmapped per instance), sized from the limits.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    /// Instances alive at once, over all apps.
    pub slots: u32,
    /// Largest memory of one instance: the host-wide memory limit.
    pub memory: ByteSize,
}

pub struct Sandbox {
    pub engine: Engine,
    pub pre: GuestPre<GuestState>,
    pub lanes: Lanes,
    ticker: Arc<AtomicBool>,
}

impl Sandbox {
    pub fn new(cache_dir: Option<&Path>, pool: Option<PoolSettings>) -> Result<Sandbox> {
        let engine = match pool {
            Some(pool) => match Engine::new(&config(Some(pool))) {
                Ok(engine) => {
                    tracing::info!("instances come from a pool of {} slots of {}", pool.slots, pool.memory);
                    engine
                }
                Err(error) => {
                    tracing::warn!(
                        "cannot reserve the address space for {} instance slots ({error}); allocating instances on demand",
                        pool.slots
                    );
                    // Address space is short: reserve only what a memory may grow to.
                    let mut fallback = config(None);
                    fallback.memory_reservation(pool.memory.0).memory_guard_size(GUARD_WHEN_SHORT);
                    Engine::new(&fallback)?
                }
            },
            None => Engine::new(&config(None))?,
        };
        let component = load_component(&engine, cache_dir)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // One line per interface: each gets the view of the instance it needs.
        types::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        request::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        websocket::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        runtime::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        sql::add_to_linker::<_, Sql>(&mut linker, GuestState::sql_view)?;
        outbound_http::add_to_linker::<_, OutboundHttp>(&mut linker, GuestState::outbound_http_view)?;
        tasks::add_to_linker::<_, Tasks>(&mut linker, GuestState::tasks_view)?;
        pubsub::add_to_linker::<_, HasSelf<_>>(&mut linker, |state: &mut GuestState| &mut state.pubsub)?;
        let pre = GuestPre::new(linker.instantiate_pre(&component)?)?;

        let ticker = Arc::new(AtomicBool::new(true));
        spawn_epoch_ticker(engine.clone(), ticker.clone());
        Ok(Sandbox { engine, pre, lanes: Lanes::for_this_runtime(), ticker })
    }
}

/// Guard pages after each memory when address space is short (bounds are then checked
/// explicitly; the compiled guest differs, and is cached under its own key).
const GUARD_WHEN_SHORT: u64 = 64 * 1024;

fn config(pool: Option<PoolSettings>) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .wasm_exceptions(true)
        .epoch_interruption(true)
        .max_wasm_stack(2 << 20)
        .async_stack_size(4 << 20);
    if let Some(pool) = pool {
        // A component instance of the guest holds a few core instances (the module and
        // its shims), each with a table; one memory.
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(pool.slots)
            .total_core_instances(pool.slots.saturating_mul(4))
            .total_tables(pool.slots.saturating_mul(4))
            .total_memories(pool.slots)
            .total_stacks(pool.slots)
            .max_memory_size(pool.memory.as_usize());
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    config
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker.store(false, Ordering::Relaxed);
    }
}

/// Exactly one ticker per engine: every store's deadline is counted in its ticks.
fn spawn_epoch_ticker(engine: Engine, running: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new().name("epoch-ticker".into()).spawn(move || {
        while running.load(Ordering::Relaxed) {
            std::thread::sleep(TICK);
            engine.increment_epoch();
        }
    });
    if let Err(error) = spawned {
        tracing::error!("cannot start the epoch ticker thread ({error}): CPU limits will not be enforced");
    }
}

fn load_component(engine: &Engine, cache_dir: Option<&Path>) -> Result<Component> {
    let Some(path) = cache_dir.map(|dir| cache_path(engine, dir)) else {
        return compile(engine);
    };
    if path.is_file() {
        // SAFETY: the file was written by `Component::serialize` below, in a folder only
        // astra-host writes to; its name carries the engine's compatibility hash.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => {
                tracing::debug!("loaded the compiled guest from {}", path.display());
                return Ok(component);
            }
            Err(error) => tracing::warn!("ignoring the unusable cache file {}: {error}", path.display()),
        }
    }
    let component = compile(engine)?;
    match write_atomically(&path, &component.serialize()?) {
        Ok(()) => remove_other_builds(&path),
        Err(error) => tracing::warn!("cannot cache the compiled guest at {}: {error}", path.display()),
    }
    Ok(component)
}

/// Every build of astra-host (or engine setting) compiles to a file of its own, a few MiB
/// each; without this the cache folder would grow with every upgrade.
fn remove_other_builds(current: &Path) {
    let (Some(dir), Some(current_name)) = (current.parent(), current.file_name()) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let compiled_guest = name.to_str().is_some_and(|n| n.starts_with("guest-") && n.ends_with(".cwasm"));
        if compiled_guest && name != current_name && std::fs::remove_file(entry.path()).is_ok() {
            tracing::debug!("removed {}, compiled by another build", entry.path().display());
        }
    }
}

fn compile(engine: &Engine) -> Result<Component> {
    let started = Instant::now();
    tracing::info!("compiling the Lua guest ({} KiB of wasm)", GUEST_WASM.len() / 1024);
    let component = Component::new(engine, GUEST_WASM).context("compiling the Lua guest component")?;
    tracing::info!("compiled the Lua guest in {:.0?}", started.elapsed());
    Ok(component)
}

fn cache_path(engine: &Engine, dir: &Path) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    GUEST_WASM.hash(&mut hasher);
    dir.join(format!("guest-{:016x}.cwasm", hasher.finish()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// `$XDG_CACHE_HOME/astra-host`, else `~/.cache/astra-host`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("astra-host"))
}

#[cfg(test)]
mod tests {
    /// The host's SQLite follows no link the guest made, because the guest can make none:
    /// its component does not import `symlink-at` (`services/sql/sqlite.rs` relies on it).
    #[test]
    fn the_guest_cannot_make_symbolic_links() {
        let needle = b"symlink-at";
        assert!(!super::GUEST_WASM.windows(needle.len()).any(|window| window == needle));
    }
}
