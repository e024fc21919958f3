//! Lua's allocator, with the app's Lua memory limit.
//!
//! mlua's allocator aborts when the allocator below it has nothing to give, and an abort
//! traps the instance. That happens below Lua's own limit: the limit counts the blocks Lua
//! holds, not the holes between them. A table doubling its array inside `pcall` needed a
//! new 32 MiB block while its old one and the holes left by earlier doublings filled the
//! instance's memory, and the catchable "not enough memory" became the instance's hard
//! cap. This one returns NULL in both cases, and Lua turns NULL into that catchable error,
//! after a full collection (which often finds the room after all).

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;

use mlua::{Lua, ffi};

struct Budget {
    used: Cell<usize>,
    limit: usize,
}

thread_local! {
    static LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The most Lua may hold: what Rust code that needs memory in proportion to its input
/// measures the input against, since a failed Rust allocation traps the instance.
pub fn lua_limit() -> usize {
    LIMIT.get()
}

/// Replaces the allocator of `lua`'s state, which keeps what it holds; `limit` is the most
/// Lua may hold. Blocks allocated before are freed by the new allocator: both go through
/// Rust's global allocator with the same alignment.
pub fn install(lua: &Lua, limit: usize) -> mlua::Result<()> {
    // Tells mlua that any call may run out of memory, so that it protects those that can
    // (it assumes none can without a limit of its own).
    lua.set_memory_limit(limit)?;
    LIMIT.set(limit);
    // SAFETY: only Lua's C API on the state exec_raw lends; the budget is leaked on
    // purpose: the state, and the instance with it, live as long as it.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            let kib = ffi::lua_gc(state, ffi::LUA_GCCOUNT, 0) as usize;
            let bytes = ffi::lua_gc(state, ffi::LUA_GCCOUNTB, 0) as usize;
            let budget = Box::new(Budget { used: Cell::new(kib * 1024 + bytes), limit });
            ffi::lua_setallocf(state, allocate, Box::into_raw(budget).cast());
        })
    }
}

/// Lua's `lua_Alloc`: frees when `new_size` is 0, else (re)allocates; NULL leaves `block`
/// as it was. `old_size` is a size only when `block` is not NULL.
unsafe extern "C" fn allocate(
    budget: *mut c_void,
    block: *mut c_void,
    old_size: usize,
    new_size: usize,
) -> *mut c_void {
    // SAFETY: `budget` is the one `install` leaked, and an instance runs on one thread.
    let budget = unsafe { &*(budget as *const Budget) };
    let old_size = if block.is_null() { 0 } else { old_size };
    if new_size == 0 {
        if !block.is_null() {
            // SAFETY: Lua frees only what this allocator (or mlua's, alike) gave it.
            unsafe { alloc::dealloc(block.cast(), layout(old_size)) };
            budget.used.set(budget.used.get() - old_size);
        }
        return ptr::null_mut();
    }
    let used = budget.used.get() - old_size + new_size;
    if new_size > old_size && used > budget.limit {
        return ptr::null_mut();
    }
    let Ok(new_layout) = Layout::from_size_align(new_size, ffi::SYS_MIN_ALIGN) else { return ptr::null_mut() };
    // SAFETY: as above; Rust's realloc leaves the block untouched when it fails.
    let reallocated = unsafe {
        if block.is_null() {
            alloc::alloc(new_layout)
        } else {
            alloc::realloc(block.cast(), layout(old_size), new_size)
        }
    };
    if !reallocated.is_null() {
        budget.used.set(used);
    }
    reallocated.cast()
}

fn layout(size: usize) -> Layout {
    // SAFETY: the size of a block that was allocated with this alignment.
    unsafe { Layout::from_size_align_unchecked(size, ffi::SYS_MIN_ALIGN) }
}
