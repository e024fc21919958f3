//! `astra:host/request`: the incoming request, handed to the guest as a resource.
//!
//! Nothing is copied into the guest up front; each accessor converts only what the Lua
//! code asked for. The body was read by the host before the call (see `http::bodies`), so
//! no accessor waits on the client.

use std::net::IpAddr;

use bytes::Bytes;
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::astra::host::request::{Host, HostIncomingRequest};
use crate::sandbox::store::GuestState;

pub struct RequestState {
    pub parts: http::request::Parts,
    body: Bytes,
    pub params: Vec<(String, String)>,
    pub client_ip: IpAddr,
}

impl RequestState {
    pub fn new(parts: http::request::Parts, body: Bytes, params: Vec<(String, String)>, client_ip: IpAddr) -> Self {
        RequestState { parts, body, params, client_ip }
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

    fn body(&mut self, this: Resource<RequestState>) -> Result<Result<Vec<u8>, String>> {
        Ok(Ok(self.table.get(&this)?.body.to_vec()))
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
