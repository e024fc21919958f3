//! `http.request(details)`: Astra's HTTP client. The request is built here, as Astra builds
//! it (every setter returns a modified copy; a string body adds `text/plain`, a table
//! `application/json`, a form or files their own encodings), and sent by the host
//! (`wit/outbound-http.wit`), which applies the app's network rules and limits.
//!
//! Files to upload are read through the file view, so only the app's own files go out.
//! `execute_streaming` is a background task (`stdlib/tasks.rs`): it returns at once, and
//! the request is sent when the task runs, after the current call; its callback gets the
//! response's head, then its body. The body comes whole, as one chunk, within the app's
//! `outbound_response_limit`. `execute_websocket` (client WebSockets) is not there yet.

use mlua::{Lua, Table, UserData, UserDataMethods, Value};

use super::request::LuaBody;
use crate::astra::host::outbound_http::{self, OutgoingRequest};

/// `http.request`.
pub fn request(lua: &Lua, details: Value) -> mlua::Result<ClientRequest> {
    match details {
        Value::String(url) => Ok(ClientRequest::new(url.to_str()?.to_string())),
        Value::Table(table) => ClientRequest::from_table(lua, &table),
        _ => Err(mlua::Error::runtime("Bad argument, expected string or table")),
    }
}

#[derive(Clone)]
pub struct ClientRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    /// Files for a multipart upload, as (part name, path); used only without a body.
    files: Vec<(String, String)>,
    form: Vec<(String, String)>,
}

impl ClientRequest {
    fn new(url: String) -> ClientRequest {
        ClientRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: None,
            files: Vec::new(),
            form: Vec::new(),
        }
    }

    fn from_table(lua: &Lua, details: &Table) -> mlua::Result<ClientRequest> {
        let url: String = details
            .get::<Option<String>>("url")?
            .ok_or_else(|| mlua::Error::runtime("http.request: the table has no url"))?;
        let mut request = ClientRequest::new(url);
        if let Some(method) = details.get::<Option<String>>("method")? {
            request.method = method.to_ascii_uppercase();
        }
        if let Some(headers) = details.get::<Option<Table>>("headers")? {
            request.headers = string_pairs(&headers)?;
        }
        match details.get::<Value>("body")? {
            Value::String(text) => request.set_text_body(text.as_bytes().to_vec()),
            Value::Table(table) => match crate::convert::byte_list(&table) {
                Some(bytes) => request.body = Some(bytes),
                None => request.set_json_body(lua, Value::Table(table))?,
            },
            _ => {}
        }
        if let Some(file) = details.get::<Option<Value>>("file")? {
            request.files = files(&file)?;
        }
        if let Some(form) = details.get::<Option<Table>>("form")? {
            request.form = string_pairs(&form)?;
        }
        Ok(request)
    }

    /// A text body adds `text/plain` unless the app gave a `Content-Type` (this exact
    /// spelling, as Astra checks it).
    fn set_text_body(&mut self, bytes: Vec<u8>) {
        if !self.headers.iter().any(|(name, _)| name == "Content-Type") {
            self.headers.push(("Content-Type".into(), "text/plain".into()));
        }
        self.body = Some(bytes);
    }

    fn set_json_body(&mut self, lua: &Lua, value: Value) -> mlua::Result<()> {
        let json = crate::stdlib::serde::json::encode(lua, value)
            .map_err(|e| mlua::Error::runtime(format!("http.request: the body: {e}")))?;
        if !self.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
            self.headers.push(("Content-Type".into(), "application/json".into()));
        }
        self.body = Some(json);
        Ok(())
    }

    fn set_header(&mut self, name: String, value: String) {
        self.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        self.headers.push((name, value));
    }

    /// The request as the host sends it: the body encoded, with its content type.
    fn outgoing(&self) -> mlua::Result<OutgoingRequest> {
        let mut headers = self.headers.clone();
        let body = if !self.form.is_empty() {
            replace_content_type(&mut headers, "application/x-www-form-urlencoded".into());
            let mut encoded = form_urlencoded::Serializer::new(String::new());
            for (name, value) in &self.form {
                encoded.append_pair(name, value);
            }
            encoded.finish().into_bytes()
        } else if let Some(body) = &self.body {
            body.clone()
        } else if !self.files.is_empty() {
            let boundary = format!("astra-{}", uuid::Uuid::new_v4().simple());
            replace_content_type(&mut headers, format!("multipart/form-data; boundary={boundary}"));
            multipart(&self.files, &boundary)?
        } else {
            Vec::new()
        };
        Ok(OutgoingRequest { method: self.method.clone(), url: self.url.clone(), headers, body })
    }
}

fn replace_content_type(headers: &mut Vec<(String, String)>, value: String) {
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    headers.push(("Content-Type".into(), value));
}

fn string_pairs(table: &Table) -> mlua::Result<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = table.pairs::<String, String>().collect::<mlua::Result<_>>()?;
    pairs.sort();
    Ok(pairs)
}

/// `file`: a path (the part is named after the file), `{ name =, path = }`, or a list of those.
fn files(value: &Value) -> mlua::Result<Vec<(String, String)>> {
    let one = |value: &Value| -> mlua::Result<Option<(String, String)>> {
        Ok(match value {
            Value::String(path) => {
                let path = path.to_str()?.to_string();
                let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                Some((name, path))
            }
            Value::Table(table) => match (table.get::<Option<String>>("name")?, table.get::<Option<String>>("path")?) {
                (Some(name), Some(path)) => Some((name, path)),
                _ => None,
            },
            _ => None,
        })
    };
    if let Some(file) = one(value)? {
        return Ok(vec![file]);
    }
    let Value::Table(list) = value else {
        return Err(mlua::Error::runtime(
            "http.request: file is a path, { name = ..., path = ... }, or a list of those",
        ));
    };
    list.sequence_values::<Value>()
        .map(|entry| {
            one(&entry?)?
                .ok_or_else(|| mlua::Error::runtime("http.request: each file is a path or { name = ..., path = ... }"))
        })
        .collect()
}

/// A multipart/form-data body of the files, read through the file view.
fn multipart(files: &[(String, String)], boundary: &str) -> mlua::Result<Vec<u8>> {
    let mut body = Vec::new();
    for (name, path) in files {
        let place =
            crate::view::ViewPath::parse(path).map_err(|e| mlua::Error::runtime(format!("http.request: {e}")))?;
        let contents = std::fs::read(place.for_reading()).map_err(|e| {
            mlua::Error::runtime(format!("http.request: cannot read {path}: {}", crate::view::reason(&e)))
        })?;
        let file_name = path.rsplit('/').next().unwrap_or(path).replace('"', "%22");
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                name.replace('"', "%22")
            )
            .as_bytes(),
        );
        body.extend_from_slice(&contents);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(body)
}

/// A modified copy, as every setter of Astra's returns.
fn changed(
    this: &ClientRequest,
    change: impl FnOnce(&mut ClientRequest) -> mlua::Result<()>,
) -> mlua::Result<ClientRequest> {
    let mut copy = this.clone();
    change(&mut copy)?;
    Ok(copy)
}

impl UserData for ClientRequest {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("set_method", |_, this, method: String| {
            changed(this, |r| {
                r.method = method.to_ascii_uppercase();
                Ok(())
            })
        });
        methods.add_method("set_header", |_, this, (name, value): (String, String)| {
            changed(this, |r| {
                r.set_header(name, value);
                Ok(())
            })
        });
        methods.add_method("set_headers", |_, this, headers: Table| {
            changed(this, |r| {
                r.headers = string_pairs(&headers)?;
                Ok(())
            })
        });
        methods.add_method("set_form", |_, this, form: Table| {
            changed(this, |r| {
                r.form = string_pairs(&form)?;
                Ok(())
            })
        });
        methods.add_method("set_body", |lua, this, body: Value| {
            changed(this, |r| match body {
                Value::String(text) => {
                    r.set_text_body(text.as_bytes().to_vec());
                    Ok(())
                }
                Value::Table(table) => match crate::convert::byte_list(&table) {
                    Some(bytes) => {
                        r.set_text_body(bytes);
                        Ok(())
                    }
                    None => r.set_json_body(lua, Value::Table(table)),
                },
                _ => Ok(()),
            })
        });
        methods.add_method("set_file", |_, this, file: Value| {
            changed(this, |r| {
                r.files = files(&file)?;
                Ok(())
            })
        });
        methods.add_method("execute", |_, this, ()| {
            let response = outbound_http::send(&this.outgoing()?)
                .map_err(|e| mlua::Error::runtime(format!("http.request:execute: {}", describe(e))))?;
            Ok(ClientResponse(response))
        });
        methods.add_method("execute_streaming", |lua, this, callback: mlua::Function| {
            let request = this.outgoing()?;
            let task = lua.create_function(move |_, ()| {
                let mut response = outbound_http::send(&request)
                    .map_err(|e| mlua::Error::runtime(format!("http.request:execute_streaming: {}", describe(e))))?;
                let body = std::mem::take(&mut response.body);
                let head = ClientResponse(response.clone());
                callback.call::<()>(head)?;
                if !body.is_empty() {
                    callback.call::<()>(ClientResponse(outbound_http::IncomingResponse { body, ..response }))?;
                }
                Ok(())
            })?;
            crate::stdlib::tasks::spawn("http.request:execute_streaming", task, None, None).map(drop)
        });
        methods.add_method("execute_websocket", |_, _, _: mlua::MultiValue| -> mlua::Result<()> {
            Err(mlua::Error::runtime(
                "http.request:execute_websocket: client WebSockets are not available in astra-host yet",
            ))
        });
        for (name, instead) in [
            ("set_forms", "set_form"),
            ("set_bytes", "set_body"),
            ("set_json", "set_body"),
            ("execute_task", "execute"),
        ] {
            methods.add_method(name, move |_, _, _: mlua::MultiValue| -> mlua::Result<()> {
                Err(mlua::Error::runtime(format!("http.request:{name} is deprecated; use {instead}")))
            });
        }
    }
}

fn describe(error: outbound_http::Error) -> String {
    match error {
        outbound_http::Error::Denied(message) => format!("not allowed: {message}"),
        outbound_http::Error::Limit(message)
        | outbound_http::Error::Invalid(message)
        | outbound_http::Error::Failed(message) => message,
    }
}

/// What `execute` returns.
pub struct ClientResponse(outbound_http::IncomingResponse);

impl UserData for ClientResponse {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("url", |_, this, ()| Ok(this.0.url.clone()));
        methods.add_method("status_code", |_, this, ()| Ok(this.0.status));
        methods.add_method("remote_address", |_, this, ()| Ok(this.0.remote_address.clone()));
        methods.add_method("headers", |lua, this, ()| {
            let headers = lua.create_table()?;
            for (name, value) in &this.0.headers {
                headers.set(name.as_str(), value.as_str())?;
            }
            Ok(headers)
        });
        methods.add_method("body", |_, this, ()| Ok(LuaBody::new(this.0.body.as_slice().into())));
    }
}
