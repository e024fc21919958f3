//! `response`, the second argument of a route callback: status, headers, cookies and
//! redirects the app sets before its callback returns the body.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{AnyUserData, UserData, UserDataMethods, Value};

use crate::astra::host::types::CookieChange;
use crate::http::cookie::LuaCookie;

pub struct ResponseState {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<CookieChange>,
}

impl Default for ResponseState {
    fn default() -> Self {
        ResponseState { status: 200, headers: Vec::new(), cookies: Vec::new() }
    }
}

#[derive(Default)]
pub struct LuaResponse(Rc<RefCell<ResponseState>>);

/// What the callback set, read back once it has returned.
pub struct ResponseHandle(Rc<RefCell<ResponseState>>);

impl ResponseHandle {
    pub fn take(self) -> ResponseState {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl LuaResponse {
    pub fn state(&self) -> ResponseHandle {
        ResponseHandle(self.0.clone())
    }

    fn set_header(&self, name: &str, value: String) {
        let mut state = self.0.borrow_mut();
        state.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        state.headers.push((name.to_string(), value));
    }

    fn redirect(&self, status: u16, location: String) -> mlua::Result<()> {
        check_header_value("Location", &location)?;
        self.0.borrow_mut().status = status;
        self.set_header("location", location);
        Ok(())
    }
}

impl UserData for LuaResponse {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("set_status_code", |_, this, code: Value| {
            let status = match code {
                Value::Integer(n) => u16::try_from(n).ok(),
                Value::Number(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Some(n as u16),
                _ => None,
            }
            // 1xx statuses belong to the protocol (101 would drop the connection), and there
            // are no others outside 200-599.
            .filter(|n| (200..=599).contains(n))
            .ok_or_else(|| {
                mlua::Error::runtime(format!(
                    "invalid status code {} (expected a whole number from 200 to 599)",
                    crate::convert::describe(&code)
                ))
            })?;
            this.0.borrow_mut().status = status;
            Ok(())
        });
        methods.add_method("set_header", |_, this, (name, value): (String, String)| {
            check_header_name(&name)?;
            check_header_value(&name, &value)?;
            this.set_header(&name, value);
            Ok(())
        });
        methods.add_method("remove_header", |_, this, name: String| {
            this.0.borrow_mut().headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
            Ok(())
        });
        methods.add_method("get_headers", |lua, this, ()| {
            let table = lua.create_table()?;
            for (name, value) in &this.0.borrow().headers {
                table.set(name.as_str(), value.as_str())?;
            }
            Ok(table)
        });
        methods.add_method("set_cookie", |_, this, (first, second): (Value, Option<AnyUserData>)| {
            // Both `set_cookie(cookie)` and `set_cookie("key", cookie)` are in use.
            let (name, userdata) = match (first, second) {
                (Value::UserData(userdata), None) => (None, userdata),
                (Value::String(name), Some(userdata)) => (Some(name.to_str()?.to_string()), userdata),
                _ => return Err(mlua::Error::runtime("set_cookie expects (cookie) or (name, cookie)")),
            };
            let mut cookie = userdata.borrow::<LuaCookie>()?.snapshot();
            if let Some(name) = name {
                cookie.name = name;
            }
            this.0.borrow_mut().cookies.push(CookieChange::Set(cookie));
            Ok(())
        });
        methods.add_method("remove_cookie", |_, this, target: Value| {
            let name = match target {
                Value::String(name) => name.to_str()?.to_string(),
                Value::UserData(userdata) => userdata.borrow::<LuaCookie>()?.snapshot().name,
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "remove_cookie expects a cookie name or a cookie, got {}",
                        other.type_name()
                    )));
                }
            };
            this.0.borrow_mut().cookies.push(CookieChange::Remove(name));
            Ok(())
        });
        // The same statuses as axum's `Redirect::to`, `temporary` and `permanent`.
        methods.add_method("redirect_to", |_, this, location: String| this.redirect(303, location));
        methods.add_method("redirect_temporary", |_, this, location: String| this.redirect(307, location));
        methods.add_method("redirect_permanent", |_, this, location: String| this.redirect(308, location));
    }
}

fn check_header_name(name: &str) -> mlua::Result<()> {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(mlua::Error::runtime(format!("invalid header name {name:?}")));
    }
    Ok(())
}

fn check_header_value(name: &str, value: &str) -> mlua::Result<()> {
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(mlua::Error::runtime(format!("invalid value for header {name:?}: control characters")));
    }
    Ok(())
}
