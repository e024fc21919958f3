//! `request`, the first argument of a route callback.
//!
//! It wraps the host's request resource, so each accessor crosses into the host only when
//! the Lua code calls it. The body is fetched once and kept, since apps often read it twice
//! (`body():text()` then `body():json()`).

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Lua, Table, UserData, UserDataMethods};

use crate::astra::host::request::IncomingRequest;
use crate::convert;
use crate::http::cookie::LuaCookie;
use crate::http::multipart::Multipart;
use crate::scoped::Scoped;

pub struct LuaRequest {
    incoming: Scoped<IncomingRequest>,
    body: RefCell<Option<Rc<[u8]>>>,
}

impl LuaRequest {
    pub fn new(incoming: &Scoped<IncomingRequest>) -> Self {
        LuaRequest { incoming: incoming.share(), body: RefCell::new(None) }
    }

    fn with<T>(&self, f: impl FnOnce(&IncomingRequest) -> T) -> mlua::Result<T> {
        self.incoming.with("this request has already been answered", f)
    }

    fn body(&self) -> mlua::Result<Rc<[u8]>> {
        if let Some(body) = self.body.borrow().as_ref() {
            return Ok(body.clone());
        }
        let body: Rc<[u8]> = self.with(|r| r.body())?.map_err(mlua::Error::runtime)?.into();
        *self.body.borrow_mut() = Some(body.clone());
        Ok(body)
    }
}

impl UserData for LuaRequest {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("method", |_, this, ()| this.with(|r| r.method()));
        methods.add_method("uri", |_, this, ()| this.with(|r| r.uri()));
        methods.add_method("headers", |lua, this, ()| {
            let headers = this.with(|r| r.headers())?;
            joined_table(lua, headers)
        });
        methods.add_method("queries", |lua, this, ()| {
            let queries = this.with(|r| r.queries())?;
            let table = lua.create_table()?;
            for (key, value) in queries {
                table.set(key, value)?;
            }
            Ok(table)
        });
        methods.add_method("params", |lua, this, ()| {
            let table = lua.create_table()?;
            for (key, value) in this.with(|r| r.params())? {
                table.set(key, convert::number_or_string(lua, &value)?)?;
            }
            Ok(table)
        });
        methods.add_method("body", |_, this, ()| Ok(LuaBody(this.body()?)));
        methods.add_method("get_cookie", |_, this, name: String| {
            let value = this.with(|r| r.cookie(&name))?;
            Ok(value.map(|value| LuaCookie::new(name, value)))
        });
        methods.add_method("new_cookie", |_, _, (name, value): (String, String)| Ok(LuaCookie::new(name, value)));
        methods.add_method("ip_address", |_, this, ()| Ok(IpAddress(this.with(|r| r.client_ip())?)));
        methods.add_method("form", |lua, this, ()| {
            let table = lua.create_table()?;
            for (key, value) in form_urlencoded::parse(&this.body()?) {
                table.set(&*key, &*value)?;
            }
            Ok(table)
        });
        methods.add_method("multipart", |_, this, ()| {
            let content_type = this
                .with(|r| r.headers())?
                .into_iter()
                .find(|(name, _)| name == "content-type")
                .map(|(_, value)| value)
                .unwrap_or_default();
            Multipart::parse(&content_type, &this.body()?).map_err(mlua::Error::runtime)
        });
    }
}

/// Repeated header names are joined with ", " (RFC 9110, section 5.3).
fn joined_table(lua: &Lua, pairs: Vec<(String, String)>) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    for (name, value) in pairs {
        let joined = match table.get::<Option<String>>(name.as_str())? {
            Some(earlier) => format!("{earlier}, {value}"),
            None => value,
        };
        table.set(name, joined)?;
    }
    Ok(table)
}

/// `request:body()` (and a client response's `body()`): a body, read as text, JSON or bytes.
pub struct LuaBody(Rc<[u8]>);

impl LuaBody {
    pub fn new(bytes: Rc<[u8]>) -> LuaBody {
        LuaBody(bytes)
    }
}

impl UserData for LuaBody {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("text", |lua, this, ()| lua.create_string(&*this.0));
        methods.add_method("json", |lua, this, ()| crate::stdlib::serde::json::decode(lua, &this.0, "the body"));
        methods.add_method("bytes", |lua, this, ()| lua.create_sequence_from(this.0.iter().copied()));
    }
}

/// `request:ip_address()`: the client's address.
pub struct IpAddress(String);

impl IpAddress {
    fn parsed(&self) -> Option<std::net::IpAddr> {
        self.0.parse().ok()
    }
}

impl UserData for IpAddress {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("address", |_, this, ()| Ok(this.0.clone()));
        methods.add_method("is_ipv4", |_, this, ()| Ok(this.parsed().is_some_and(|ip| ip.is_ipv4())));
        methods.add_method("is_ipv6", |_, this, ()| Ok(this.parsed().is_some_and(|ip| ip.is_ipv6())));
        methods.add_method("is_loopback", |_, this, ()| Ok(this.parsed().is_some_and(|ip| ip.is_loopback())));
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| Ok(this.0.clone()));
    }
}
