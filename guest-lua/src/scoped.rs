//! Host resources lent to Lua for the length of one call.
//!
//! Lua may keep a reference to a request or a socket (in a global, a closure) long after
//! its callback returned, and the garbage collector decides when userdata is freed. The
//! resource itself must go back to the host when the call ends: the WebSocket closes, the
//! request's state is freed. So the userdata holds a shared slot that the guest empties
//! when the call returns; a later use finds it empty and raises an error.

use std::cell::RefCell;
use std::rc::Rc;

pub struct Scoped<T>(Rc<RefCell<Option<T>>>);

impl<T> Scoped<T> {
    pub fn new(value: T) -> Self {
        Scoped(Rc::new(RefCell::new(Some(value))))
    }

    /// Another handle to the same slot, for the caller to `end` it.
    pub fn share(&self) -> Self {
        Scoped(self.0.clone())
    }

    /// Drops the resource, handing it back to the host.
    pub fn end(&self) {
        self.0.borrow_mut().take();
    }

    /// Runs `f` on the resource, or fails with `gone` once the call has ended.
    pub fn with<R>(&self, gone: &'static str, f: impl FnOnce(&T) -> R) -> mlua::Result<R> {
        match self.0.borrow().as_ref() {
            Some(value) => Ok(f(value)),
            None => Err(mlua::Error::runtime(gone)),
        }
    }
}
