//! Cookies as the Astra API shows them: a userdata with `set_*`/`get_*` methods that only
//! takes effect once given to `response:set_cookie`. The host renders it with the
//! `cookie` crate, so the guest only keeps the attributes.
//!
//! The crate writes the domain and the path as they are, so both are checked here: a `;`
//! in a path would add attributes of the app's choosing (`/; Domain=example.com`). Which
//! domains an app may name is the host's call: its own host names only.

use std::cell::RefCell;

use mlua::{UserData, UserDataMethods};

use crate::astra::host::types::Cookie;

/// Twenty years, as the `cookie` crate's `make_permanent`.
const PERMANENT_SECONDS: i64 = 20 * 365 * 24 * 60 * 60;

pub struct LuaCookie(RefCell<Cookie>);

impl LuaCookie {
    pub fn new(name: String, value: String) -> Self {
        LuaCookie(RefCell::new(Cookie {
            name,
            value,
            domain: None,
            path: None,
            expires: None,
            max_age: None,
            http_only: None,
            secure: None,
            same_site: None,
        }))
    }

    pub fn snapshot(&self) -> Cookie {
        self.0.borrow().clone()
    }
}

macro_rules! accessors {
    ($methods:ident, $($setter:literal / $getter:literal => $field:ident : $ty:ty),* $(,)?) => {$(
        $methods.add_method($setter, |_, this, value: $ty| {
            this.0.borrow_mut().$field = value.into();
            Ok(())
        });
        $methods.add_method($getter, |_, this, ()| Ok(this.0.borrow().$field.clone()));
    )*};
}

impl UserData for LuaCookie {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        accessors!(methods,
            "set_name" / "get_name" => name: String,
            "set_value" / "get_value" => value: String,
            "set_expiration" / "get_expiration" => expires: Option<i64>,
            "set_http_only" / "get_http_only" => http_only: Option<bool>,
            "set_max_age" / "get_max_age" => max_age: Option<i64>,
            "set_secure" / "get_secure" => secure: Option<bool>,
        );
        methods.add_method("set_same_site", |_, this, value: Option<String>| {
            let value = value.map(|v| v.to_ascii_lowercase());
            if let Some(v) = &value
                && !matches!(v.as_str(), "strict" | "lax" | "none")
            {
                return Err(mlua::Error::runtime(format!(
                    "invalid same_site value {v:?} (expected \"Strict\", \"Lax\" or \"None\")"
                )));
            }
            this.0.borrow_mut().same_site = value;
            Ok(())
        });
        methods.add_method("get_same_site", |_, this, ()| Ok(this.0.borrow().same_site.clone()));
        methods.add_method("set_domain", |_, this, domain: Option<String>| {
            if let Some(domain) = &domain {
                check_domain(domain)?;
            }
            this.0.borrow_mut().domain = domain;
            Ok(())
        });
        methods.add_method("get_domain", |_, this, ()| Ok(this.0.borrow().domain.clone()));
        methods.add_method("set_path", |_, this, path: Option<String>| {
            if let Some(path) = &path
                && path.bytes().any(|b| b == b';' || b < 0x20 || b == 0x7f)
            {
                return Err(mlua::Error::runtime(format!(
                    "invalid cookie path {path:?} (a path cannot hold ';' or control characters)"
                )));
            }
            this.0.borrow_mut().path = path;
            Ok(())
        });
        methods.add_method("get_path", |_, this, ()| Ok(this.0.borrow().path.clone()));
        methods.add_method("set_permanent", |_, this, ()| {
            let mut cookie = this.0.borrow_mut();
            cookie.max_age = Some(PERMANENT_SECONDS);
            cookie.expires = now_seconds().map(|now| now + PERMANENT_SECONDS);
            Ok(())
        });
    }
}

fn check_domain(domain: &str) -> mlua::Result<()> {
    let name = domain.strip_prefix('.').unwrap_or(domain);
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err(mlua::Error::runtime(format!(
            "invalid cookie domain {domain:?} (expected a host name such as \"example.com\")"
        )));
    }
    Ok(())
}

fn now_seconds() -> Option<i64> {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since_epoch.as_secs()).ok()
}
