//! `astra:host/request`: the incoming request, handed to the guest as a resource.
//!
//! Nothing is copied into the guest up front; each accessor converts only what the Lua
//! code asked for, and the body is read from the connection on the first `body()` call,
//! under the route's size limit.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::astra::host::request::{Host, HostIncomingRequest};
use crate::sandbox::store::GuestState;

pub struct RequestState {
    pub parts: http::request::Parts,
    body: BodySource,
    pub params: Vec<(String, String)>,
    pub client_ip: IpAddr,
    body_limit: usize,
    /// Set when the body went over the limit, so the host can answer 413 even if the Lua
    /// code turned the failed read into some other error.
    pub body_too_large: Arc<AtomicBool>,
}

enum BodySource {
    Unread(Body),
    Read(Bytes),
    Failed(String),
}

impl RequestState {
    pub fn new(
        parts: http::request::Parts,
        body: Body,
        params: Vec<(String, String)>,
        client_ip: IpAddr,
        body_limit: usize,
    ) -> Self {
        RequestState {
            parts,
            body: BodySource::Unread(body),
            params,
            client_ip,
            body_limit,
            body_too_large: Arc::new(AtomicBool::new(false)),
        }
    }

    async fn read_body(&mut self) -> Result<Bytes, String> {
        if let BodySource::Unread(body) = std::mem::replace(&mut self.body, BodySource::Read(Bytes::new())) {
            self.body = match Limited::new(body, self.body_limit).collect().await {
                Ok(collected) => BodySource::Read(collected.to_bytes()),
                Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                    self.body_too_large.store(true, Ordering::Relaxed);
                    BodySource::Failed(format!(
                        "the request body is larger than this route's limit of {} bytes",
                        self.body_limit
                    ))
                }
                Err(error) => BodySource::Failed(format!("reading the request body failed: {error}")),
            };
        }
        match &self.body {
            BodySource::Read(bytes) => Ok(bytes.clone()),
            BodySource::Failed(message) => Err(message.clone()),
            BodySource::Unread(_) => Err("the request body was not read".into()),
        }
    }
}

impl Host for GuestState {}

impl HostIncomingRequest for GuestState {
    fn method(&mut self, this: Resource<RequestState>) -> Result<String> {
        Ok(self.table.get(&this)?.parts.method.to_string())
    }

    fn uri(&mut self, this: Resource<RequestState>) -> Result<String> {
        let uri = &self.table.get(&this)?.parts.uri;
        Ok(uri.path_and_query().map_or_else(|| uri.path().to_string(), ToString::to_string))
    }

    fn headers(&mut self, this: Resource<RequestState>) -> Result<Vec<(String, String)>> {
        let headers = &self.table.get(&this)?.parts.headers;
        Ok(headers
            .iter()
            .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect())
    }

    fn params(&mut self, this: Resource<RequestState>) -> Result<Vec<(String, String)>> {
        Ok(self.table.get(&this)?.params.clone())
    }

    fn queries(&mut self, this: Resource<RequestState>) -> Result<Vec<(String, String)>> {
        let query = self.table.get(&this)?.parts.uri.query().unwrap_or_default();
        Ok(form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    async fn body(&mut self, this: Resource<RequestState>) -> Result<Result<Vec<u8>, String>> {
        Ok(self.table.get_mut(&this)?.read_body().await.map(Vec::from))
    }

    fn cookie(&mut self, this: Resource<RequestState>, name: String) -> Result<Option<String>> {
        let headers = &self.table.get(&this)?.parts.headers;
        Ok(headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(cookie::Cookie::split_parse_encoded)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_string()))
    }

    fn client_ip(&mut self, this: Resource<RequestState>) -> Result<String> {
        Ok(self.table.get(&this)?.client_ip.to_canonical().to_string())
    }

    fn drop(&mut self, this: Resource<RequestState>) -> Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
