//! Building HTTP responses: from the guest's response record, and for every way a request
//! can fail. Failures are logged here with the app, the route and the reason, through the
//! app's own rationed log; the client gets a short plain-text body that names the limit or
//! the kind of failure, never the app's internals.

use std::fmt;

use axum::body::Body;
use axum::response::Response;
use cookie::time::{Duration as CookieDuration, OffsetDateTime};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};

use crate::apps::buffers::Buffers;
use crate::apps::routes::{MAX_RESPONSE_HEADER_BYTES, header_bytes, is_host_owned_header};
use crate::bindings::astra::host::runtime::Level;
use crate::bindings::{BodyKind, Cookie, CookieChange, LuaError, Response as GuestResponse};
use crate::sandbox::instance::Fault;
use crate::sandbox::pool::AcquireError;
use crate::services::runtime::AppLog;

/// "GET /users/42", or "WEBSOCKET /chat", in log lines; formatted only when a line is
/// written, so a request that succeeds never builds it.
pub struct RequestLabel {
    /// None for a WebSocket.
    method: Option<Method>,
    uri: Uri,
}

impl RequestLabel {
    pub fn request(method: &Method, uri: &Uri) -> RequestLabel {
        RequestLabel { method: Some(method.clone()), uri: uri.clone() }
    }

    pub fn websocket(parts: &Parts) -> RequestLabel {
        RequestLabel { method: None, uri: parts.uri.clone() }
    }
}

impl fmt::Display for RequestLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.method {
            Some(method) => write!(f, "{method} {}", self.uri.path()),
            None => write!(f, "WEBSOCKET {}", self.uri.path()),
        }
    }
}

pub fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// Who a response is for: the app's log and buffers, the request it answers, and the
/// app's host names, which are the only domains its cookies may name (none: any, in `run`
/// mode, where one app answers every host).
pub struct Answering<'a> {
    pub log: &'a AppLog,
    pub buffers: &'a Buffers,
    pub route: &'a RequestLabel,
    pub hosts: &'a [String],
}

/// The HTTP response for the guest's record, with the route config's `headers`; its body
/// held against the app's buffers until sent.
pub fn from_guest(to: &Answering<'_>, guest: GuestResponse, route_headers: &HeaderMap) -> Response {
    let (log, route) = (to.log, to.route);
    let status = StatusCode::from_u16(guest.status).ok().filter(|status| (200..=599).contains(&status.as_u16()));
    let Some(status) = status else {
        log.report(Level::Error, format_args!("{route}: the app answered with the invalid status {}", guest.status));
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "the app gave an invalid response");
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in guest.headers {
        if is_host_owned_header(&name) {
            log.report(Level::Warn, format_args!("{route}: dropped the header {name:?}: the host sets it"));
            continue;
        }
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            (Ok(name), Ok(value)) if name == header::SET_COOKIE => {
                if let Some(value) = own_domain_cookie(to, value) {
                    headers.append(name, value);
                }
            }
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => log.report(Level::Warn, format_args!("{route}: dropped the invalid header {name:?}")),
        }
    }
    for (name, value) in route_headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    if !headers.contains_key(header::CONTENT_TYPE)
        && let Some(kind) = guest.body_kind
    {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(kind)));
    }
    for change in guest.cookies {
        let rendered = match change {
            CookieChange::Set(cookie) => render_cookie(to, cookie),
            CookieChange::Remove(name) => {
                let mut removal = cookie::Cookie::new(name, "");
                removal.make_removal();
                removal.encoded().to_string()
            }
        };
        match HeaderValue::from_str(&rendered) {
            Ok(value) => {
                headers.append(header::SET_COOKIE, value);
            }
            Err(_) => {
                log.report(Level::Warn, format_args!("{route}: dropped a cookie that cannot be sent: {rendered:?}"))
            }
        }
    }
    let header_bytes = header_bytes(headers);
    if header_bytes > MAX_RESPONSE_HEADER_BYTES {
        log.report(
            Level::Error,
            format_args!(
                "{route}: the response headers take {} KiB ({} headers), over the {} KiB limit",
                header_bytes / 1024,
                headers.len(),
                MAX_RESPONSE_HEADER_BYTES / 1024
            ),
        );
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "response headers limit exceeded");
    }
    let Some(room) = to.buffers.try_take(guest.body.len() + header_bytes) else {
        let held = format_args!(
            "{route}: a response of {} bytes waits for room: the app's clients hold its buffer_limit",
            guest.body.len()
        );
        log.report(Level::Warn, held);
        return no_room();
    };
    *response.body_mut() = Body::from(room.hold(guest.body));
    response
}

fn content_type(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::Text => "text/plain; charset=utf-8",
        BodyKind::Json => "application/json",
        BodyKind::Bytes => "application/octet-stream",
    }
}

/// Whether a cookie may name `domain`: one of the app's own host names. Under a shared
/// `--domain`, `Domain=example.com` would reach every other tenant.
fn is_own_domain(to: &Answering<'_>, domain: &str) -> bool {
    let domain = domain.trim_start_matches('.');
    to.hosts.is_empty() || to.hosts.iter().any(|host| host.eq_ignore_ascii_case(domain))
}

fn refuse_domain(to: &Answering<'_>, name: &str, domain: &str) {
    let route = to.route;
    to.log.report(
        Level::Warn,
        format_args!("{route}: cookie {name:?}: Domain={domain:?} removed, as it is not one of this app's host names"),
    );
}

/// A `Set-Cookie` header the app set itself, without a `Domain` that is not its own.
fn own_domain_cookie(to: &Answering<'_>, value: HeaderValue) -> Option<HeaderValue> {
    let Ok(mut cookie) = value.to_str().map_err(drop).and_then(|text| cookie::Cookie::parse(text).map_err(drop)) else {
        to.log.report(Level::Warn, format_args!("{}: dropped a Set-Cookie header that is not a cookie", to.route));
        return None;
    };
    match cookie.domain() {
        Some(domain) if !is_own_domain(to, domain) => {
            refuse_domain(to, cookie.name(), domain);
            cookie.unset_domain();
            HeaderValue::from_str(&cookie.to_string()).ok()
        }
        _ => Some(value),
    }
}

fn render_cookie(to: &Answering<'_>, cookie: Cookie) -> String {
    let mut built = cookie::Cookie::new(cookie.name, cookie.value);
    if let Some(domain) = cookie.domain {
        if is_own_domain(to, &domain) {
            built.set_domain(domain);
        } else {
            refuse_domain(to, built.name(), &domain);
        }
    }
    if let Some(path) = cookie.path {
        built.set_path(path);
    }
    if let Some(expires) = cookie.expires.and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok()) {
        built.set_expires(expires);
    }
    if let Some(max_age) = cookie.max_age {
        built.set_max_age(CookieDuration::seconds(max_age));
    }
    built.set_http_only(cookie.http_only);
    built.set_secure(cookie.secure);
    built.set_same_site(cookie.same_site.as_deref().map(|same_site| match same_site {
        "strict" => cookie::SameSite::Strict,
        "none" => cookie::SameSite::None,
        _ => cookie::SameSite::Lax,
    }));
    built.encoded().to_string()
}

pub fn lua_error(log: &AppLog, route: &RequestLabel, error: &LuaError) -> Response {
    log_lua_error(log, route, error);
    plain(StatusCode::INTERNAL_SERVER_ERROR, "the app raised an error while handling this request")
}

pub fn log_lua_error(log: &AppLog, route: &RequestLabel, error: &LuaError) {
    let replaced = if error.out_of_memory { "; the instance was replaced" } else { "" };
    log.report(Level::Error, format_args!("{route}: {}{replaced}", error.message));
    if !error.traceback.is_empty() {
        log.report(Level::Debug, format_args!("{route}: {}", error.traceback.trim()));
    }
}

pub fn fault(log: &AppLog, route: &RequestLabel, fault: &Fault) -> Response {
    log_fault(log, route, fault);
    let status = if fault.is_limit() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
    plain(status, &fault.to_string())
}

pub fn log_fault(log: &AppLog, route: &RequestLabel, fault: &Fault) {
    log.report(Level::Warn, format_args!("{route}: {fault}; the instance was replaced"));
}

/// A request the app could not take: 429 over its rate, 503 otherwise; both say when to
/// retry.
pub fn unavailable(log: &AppLog, route: &RequestLabel, error: AcquireError) -> Response {
    let (status, message, retry_after) = match error {
        AcquireError::RateLimited(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            "this app's request rate limit is reached".to_string(),
            wait.as_secs_f64().ceil().max(1.0) as u64,
        ),
        AcquireError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight for this app".into(), 1),
        AcquireError::Timeout => {
            (StatusCode::SERVICE_UNAVAILABLE, "no instance of this app became free in time".into(), 1)
        }
        AcquireError::Sockets => (
            StatusCode::SERVICE_UNAVAILABLE,
            "this app has as many WebSockets open as it may (max_instances - 1: one instance stays for its routes)"
                .into(),
            5,
        ),
        AcquireError::Start(reason) => {
            log.report(Level::Error, format_args!("{route}: a new instance did not start: {reason}"));
            (StatusCode::SERVICE_UNAVAILABLE, "the app could not start an instance".into(), 5)
        }
    };
    retry_later(status, &message, retry_after)
}

/// 503: the app's clients hold all the bytes the host may hold for them.
pub fn no_room() -> Response {
    let message = "this app's clients have as many bytes in flight as it may hold (buffer_limit)";
    retry_later(StatusCode::SERVICE_UNAVAILABLE, message, 1)
}

/// A refusal that says when to try again, in seconds.
pub fn retry_later(status: StatusCode, message: &str, seconds: u64) -> Response {
    let mut response = plain(status, message);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// The route config's `headers`, added where the response has not set them itself.
pub fn with_route_headers(mut response: Response, extra: &HeaderMap) -> Response {
    for (name, value) in extra {
        if !response.headers().contains_key(name) {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
}
