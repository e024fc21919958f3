//! `astra:host/outbound-http`: `http.request(...):execute()`, sent by the host.
//!
//! The path of a request, in order: the URL and method are checked; a permit of the app's
//! `outbound_requests` is taken; the connector checks the destination against the app's
//! declared rules, resolves it and dials only vetted addresses (`client`, `services::net`);
//! the response body is read up to `outbound_response_limit`; a redirect is followed (up
//! to ten, as Astra's client does) by going through the same path again, so a redirect to
//! a forbidden address is refused like a request to it. Everything is under
//! `outbound_timeout`, and under the request's own time limit, which drops the call.
//!
//! As Astra's client: no cookie store, no automatic decompression, redirects followed
//! (303, and 301/302 after a POST, become GET without a body; credentials are dropped when
//! the host changes).

mod client;

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpInfo;
use tokio::sync::Semaphore;
use wasmtime::component::HasData;

pub use self::client::tls_config;
use crate::bindings::astra::host::outbound_http::{self, Error, IncomingResponse, OutgoingRequest};
use crate::config::limits::Limits;
use crate::config::units::{ByteSize, Span};
use crate::sandbox::scheduler::CallClock;
use crate::services::net::{ConnectError, EgressPolicy};

/// Redirects followed before giving up, as reqwest's default policy.
const MAX_REDIRECTS: usize = 10;

/// Headers that hold credentials: not sent on to another host after a redirect.
const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// What the host gives one app version for outbound HTTP.
pub struct OutboundHttpApp {
    client: client::HttpClient,
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    timeout: Duration,
    response_limit: usize,
}

impl OutboundHttpApp {
    pub fn new(egress: Arc<EgressPolicy>, tls: Arc<rustls::ClientConfig>, limits: &Limits) -> OutboundHttpApp {
        let timeout = limits.outbound_timeout.0;
        OutboundHttpApp {
            client: client::client(egress, tls, timeout),
            in_flight: Arc::new(Semaphore::new(limits.outbound_requests as usize)),
            max_in_flight: limits.outbound_requests,
            timeout,
            response_limit: limits.outbound_response_limit.as_usize(),
        }
    }

    pub async fn send(&self, request: OutgoingRequest) -> Result<IncomingResponse, Error> {
        let mut method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Error::Invalid(format!("{:?} is not an HTTP method", request.method)))?;
        let mut uri: Uri =
            request.url.parse().map_err(|e| Error::Invalid(format!("{:?} is not a URL: {e}", request.url)))?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Invalid(format!("{name:?} is not a header name")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| Error::Invalid(format!("the value of {name} is not a header value")))?;
            // The body decides its own framing.
            if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
                headers.append(name, value);
            }
        }
        let mut body = bytes::Bytes::from(request.body);
        let exchange = async {
            let _permit = tokio::time::timeout(self.timeout, self.in_flight.acquire())
                .await
                .map_err(|_| {
                    Error::Limit(format!(
                        "{} requests of the app were already in flight (outbound_requests)",
                        self.max_in_flight
                    ))
                })?
                .map_err(|_| Error::Failed("the client is shut down".into()))?;
            for _ in 0..=MAX_REDIRECTS {
                check_scheme(&uri)?;
                let mut outgoing = Request::builder()
                    .method(method.clone())
                    .uri(uri.clone())
                    .body(client::Body::new(body.clone()))
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                *outgoing.headers_mut() = headers.clone();
                let response = self.client.request(outgoing).await.map_err(|e| describe(&e, &uri))?;
                let status = response.status();
                if let Some(next) = redirect(&uri, status, response.headers())? {
                    if status == StatusCode::SEE_OTHER
                        || (method == Method::POST && matches!(status.as_u16(), 301 | 302))
                    {
                        method = Method::GET;
                        body = bytes::Bytes::new();
                        headers.remove(http::header::CONTENT_TYPE);
                    }
                    if next.host() != uri.host() {
                        for name in CREDENTIALS {
                            headers.remove(name);
                        }
                    }
                    uri = next;
                    continue;
                }
                return self.read(uri, response).await;
            }
            Err(Error::Failed(format!("more than {MAX_REDIRECTS} redirects")))
        };
        tokio::time::timeout(self.timeout, exchange).await.unwrap_or_else(|_| {
            Err(Error::Limit(format!("no response within {} (outbound_timeout)", Span(self.timeout))))
        })
    }

    async fn read(&self, uri: Uri, response: http::Response<hyper::body::Incoming>) -> Result<IncomingResponse, Error> {
        let remote_address = response.extensions().get::<HttpInfo>().map(|info| info.remote_addr().to_string());
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Error::Failed(format!("reading the response of {uri}: {e}")))?;
            if let Some(data) = frame.data_ref() {
                if bytes.len() + data.len() > self.response_limit {
                    return Err(Error::Limit(format!(
                        "the response of {uri} is larger than the app's outbound_response_limit of {}",
                        ByteSize(self.response_limit as u64)
                    )));
                }
                bytes.extend_from_slice(data);
            }
        }
        Ok(IncomingResponse { status, url: uri.to_string(), remote_address, headers, body: bytes })
    }
}

fn check_scheme(uri: &Uri) -> Result<(), Error> {
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(()),
        _ => Err(Error::Invalid(format!("{uri} is not an absolute http:// or https:// URL"))),
    }
}

/// Where a redirect response points, resolved against the URL that gave it.
fn redirect(from: &Uri, status: StatusCode, headers: &http::HeaderMap) -> Result<Option<Uri>, Error> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = headers.get(http::header::LOCATION).and_then(|value| value.to_str().ok()) else {
        return Ok(None);
    };
    let target = if location.starts_with("//") {
        format!("{}:{location}", from.scheme_str().unwrap_or("http"))
    } else if location.starts_with('/') {
        let authority = from.authority().map_or("", |authority| authority.as_str());
        format!("{}://{authority}{location}", from.scheme_str().unwrap_or("http"))
    } else if location.contains("://") {
        location.to_string()
    } else {
        let path = from.path();
        let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let authority = from.authority().map_or("", |authority| authority.as_str());
        format!("{}://{authority}{folder}{location}", from.scheme_str().unwrap_or("http"))
    };
    target
        .parse()
        .map(Some)
        .map_err(|_| Error::Failed(format!("{from} redirected to {location:?}, which is not a URL")))
}

fn describe(error: &hyper_util::client::legacy::Error, uri: &Uri) -> Error {
    match client::refusal(error) {
        Some(ConnectError::Denied(denied)) => Error::Denied(denied.0.clone()),
        Some(ConnectError::Timeout(_)) => Error::Limit(format!("{uri}: no connection within the outbound_timeout")),
        Some(ConnectError::Failed(message)) => Error::Failed(message.clone()),
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            Error::Failed(format!("{uri}: {message}"))
        }
    }
}

/// The outbound HTTP side of one instance.
pub struct OutboundHttpState {
    app: Arc<OutboundHttpApp>,
}

impl OutboundHttpState {
    pub fn new(app: Arc<OutboundHttpApp>) -> OutboundHttpState {
        OutboundHttpState { app }
    }
}

/// What an outbound HTTP call borrows of its instance.
pub struct OutboundHttpView<'a> {
    pub state: &'a OutboundHttpState,
    pub clock: &'a mut CallClock,
}

/// Names `OutboundHttpView` as the data `outbound_http::add_to_linker` hands to each call.
pub struct OutboundHttp;

impl HasData for OutboundHttp {
    type Data<'a> = OutboundHttpView<'a>;
}

impl outbound_http::Host for OutboundHttpView<'_> {
    async fn send(&mut self, request: OutgoingRequest) -> wasmtime::Result<Result<IncomingResponse, Error>> {
        self.clock.release();
        let app = self.state.app.clone();
        Ok(app.send(request).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_against_the_url_that_gave_them() {
        let from: Uri = "https://api.example.com/v1/items?page=2".parse().unwrap();
        let location = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::LOCATION, HeaderValue::from_str(value).unwrap());
            redirect(&from, StatusCode::FOUND, &headers).unwrap().unwrap().to_string()
        };
        assert_eq!(location("/login"), "https://api.example.com/login");
        assert_eq!(location("next"), "https://api.example.com/v1/next");
        assert_eq!(location("//cdn.example.com/x"), "https://cdn.example.com/x");
        assert_eq!(location("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert!(redirect(&from, StatusCode::OK, &http::HeaderMap::new()).unwrap().is_none());
    }
}
