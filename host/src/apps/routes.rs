//! An app's route table, built once from the routes its entry script registered.
//!
//! Paths use axum's syntax (`/users/{id}`, `/files/{*rest}`) and are matched with
//! `matchit`, the router axum itself uses; building the table ourselves turns every
//! conflict or malformed path into a start-up error naming the route, where axum's
//! `Router::route` would panic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::bindings::{Route, RouteKind};

/// Name of the catch-all parameter a static folder route captures the file path in.
const STATIC_REST: &str = "astra_static_rest";

#[derive(Clone, Debug)]
pub struct Target {
    /// Index of the route in the manifest, which the guest knows it by.
    pub id: u32,
    pub kind: TargetKind,
    pub options: RouteOptions,
    /// "GET /users/{id}", for logs.
    pub label: String,
}

#[derive(Clone, Debug)]
pub enum TargetKind {
    Callback,
    WebSocket,
    StaticDir(PathBuf),
    StaticFile(PathBuf),
}

#[derive(Clone, Debug, Default)]
pub struct RouteOptions {
    pub body_limit: Option<usize>,
    pub compression: Option<bool>,
    pub headers: HeaderMap,
}

#[derive(Default)]
struct PathRoutes {
    by_method: Vec<(Method, Target)>,
    websocket: Option<Target>,
    static_target: Option<Target>,
}

impl PathRoutes {
    /// Adds a target; true if one of the same kind and method was already there.
    fn add(&mut self, target: Target, method: &str) -> Result<bool, String> {
        Ok(match target.kind {
            TargetKind::WebSocket => self.websocket.replace(target).is_some(),
            TargetKind::StaticDir(_) | TargetKind::StaticFile(_) => self.static_target.replace(target).is_some(),
            TargetKind::Callback => {
                let method = Method::from_bytes(method.to_uppercase().as_bytes())
                    .map_err(|_| format!("{}: {method:?} is not an HTTP method", target.label))?;
                let duplicate = self.by_method.iter().any(|(m, _)| *m == method);
                self.by_method.push((method, target));
                duplicate
            }
        })
    }
}

pub struct RouteTable {
    router: matchit::Router<usize>,
    paths: Vec<PathRoutes>,
    fallback: Option<Target>,
    pub len: usize,
}

pub enum Lookup<'a> {
    Found { target: &'a Target, params: Vec<(String, String)> },
    MethodNotAllowed { allow: String },
    NotFound,
}

impl RouteTable {
    /// `app_dir` is the canonical app folder: static routes must stay inside it.
    pub fn build(routes: &[Route], app_dir: &Path) -> Result<RouteTable, String> {
        let mut router = matchit::Router::new();
        let mut paths: Vec<PathRoutes> = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        let mut fallback = None;

        for (id, route) in routes.iter().enumerate() {
            let label = format!("{} {}", route.method.to_uppercase(), route.path);
            let id = u32::try_from(id).map_err(|_| "too many routes".to_string())?;
            let options = options(route).map_err(|e| format!("{label}: {e}"))?;
            let (kind, patterns) = match &route.kind {
                RouteKind::Callback if route.method == "fallback" => {
                    fallback = Some(Target { id, kind: TargetKind::Callback, options, label });
                    continue;
                }
                RouteKind::Callback => (TargetKind::Callback, vec![route.path.clone()]),
                RouteKind::Websocket => (TargetKind::WebSocket, vec![route.path.clone()]),
                RouteKind::StaticFile(file) => {
                    let file = inside_app(app_dir, file).map_err(|e| format!("{label}: {e}"))?;
                    if !file.is_file() {
                        return Err(format!("{label}: {} is not a file", file.display()));
                    }
                    (TargetKind::StaticFile(file), vec![route.path.clone()])
                }
                RouteKind::StaticDir(dir) => {
                    let dir = inside_app(app_dir, dir).map_err(|e| format!("{label}: {e}"))?;
                    if !dir.is_dir() {
                        return Err(format!("{label}: {} is not a folder", dir.display()));
                    }
                    // The folder itself (its index.html), with and without the slash, and
                    // everything below it.
                    let prefix = route.path.trim_end_matches('/');
                    let mut patterns = vec![format!("{prefix}/"), format!("{prefix}/{{*{STATIC_REST}}}")];
                    if !prefix.is_empty() {
                        patterns.push(prefix.to_string());
                    }
                    (TargetKind::StaticDir(dir), patterns)
                }
            };
            let target = Target { id, kind, options, label: label.clone() };
            for pattern in patterns {
                if !pattern.starts_with('/') {
                    return Err(format!("{label}: a route path must start with '/'"));
                }
                let index = match index_of.get(&pattern) {
                    Some(&index) => index,
                    None => {
                        router.insert(pattern.clone(), paths.len()).map_err(|e| format!("{label}: {e}"))?;
                        index_of.insert(pattern.clone(), paths.len());
                        paths.push(PathRoutes::default());
                        paths.len() - 1
                    }
                };
                if paths[index].add(target.clone(), &route.method)? {
                    return Err(format!("{label} is registered twice"));
                }
            }
        }
        Ok(RouteTable { router, paths, fallback, len: routes.len() })
    }

    pub fn lookup(&self, method: &Method, path: &str, wants_upgrade: bool) -> Lookup<'_> {
        let Ok(matched) = self.router.at(path) else {
            return self.fallback_or(Lookup::NotFound);
        };
        let entry = &self.paths[*matched.value];
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in matched.params.iter() {
            let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            params.push((name.to_string(), decoded.into_owned()));
        }
        let found = |target| Lookup::Found { target, params: params.clone() };

        if wants_upgrade && let Some(target) = &entry.websocket {
            return found(target);
        }
        let head_as_get = *method == Method::HEAD;
        if let Some((_, target)) = entry
            .by_method
            .iter()
            .find(|(m, _)| m == method)
            .or_else(|| entry.by_method.iter().find(|(m, _)| head_as_get && *m == Method::GET))
        {
            return found(target);
        }
        if let Some(target) = &entry.static_target
            && (*method == Method::GET || head_as_get)
        {
            return found(target);
        }
        if self.fallback.is_some() {
            return self.fallback_or(Lookup::NotFound);
        }
        let mut allow: Vec<&str> = entry.by_method.iter().map(|(m, _)| m.as_str()).collect();
        if entry.static_target.is_some() || entry.websocket.is_some() || allow.contains(&"GET") {
            allow.extend(["GET", "HEAD"]);
        }
        allow.sort_unstable();
        allow.dedup();
        if allow.is_empty() {
            return Lookup::NotFound;
        }
        Lookup::MethodNotAllowed { allow: allow.join(", ") }
    }

    /// Every route of the table, each once.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        let per_path = self.paths.iter().flat_map(|path| {
            path.by_method.iter().map(|(_, target)| target).chain(&path.websocket).chain(&path.static_target)
        });
        let mut seen = std::collections::HashSet::new();
        per_path.chain(&self.fallback).filter(move |target| seen.insert(target.id))
    }

    fn fallback_or<'a>(&'a self, otherwise: Lookup<'a>) -> Lookup<'a> {
        match &self.fallback {
            Some(target) => Lookup::Found { target, params: Vec::new() },
            None => otherwise,
        }
    }
}

/// The file path a static folder route matched, if any.
pub fn static_rest(params: &[(String, String)]) -> &str {
    params.iter().find(|(name, _)| name == STATIC_REST).map_or("", |(_, value)| value.as_str())
}

/// What one response's headers may take in all, the route config's included. Real
/// responses send a few KiB; clients refuse far less than an app could set (curl stops at
/// 300KB), and the host would hold every byte of it.
pub const MAX_RESPONSE_HEADER_BYTES: usize = 64 * 1024;

/// Headers that frame the message or belong to one connection, which only the host may
/// set: an app's `Content-Length` shorter than its body made the rest of the body read as
/// the connection's next response (another tenant's, behind a pooling proxy).
pub fn is_host_owned_header(name: &str) -> bool {
    const HOST_OWNED: [&str; 7] =
        ["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"];
    HOST_OWNED.iter().any(|owned| name.eq_ignore_ascii_case(owned))
        || name.get(..6).is_some_and(|prefix| prefix.eq_ignore_ascii_case("proxy-"))
}

/// Bytes `headers` take on the wire, about: name, value, ": " and the line end.
pub fn header_bytes(headers: &HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum()
}

fn options(route: &Route) -> Result<RouteOptions, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in &route.config.headers {
        if is_host_owned_header(name) {
            return Err(format!("config.headers: {name} is set by the host, not by apps"));
        }
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        headers.insert(name, value);
    }
    if header_bytes(&headers) > MAX_RESPONSE_HEADER_BYTES {
        return Err(format!(
            "config.headers take {} KiB, over the {} KiB a response's headers may take",
            header_bytes(&headers) / 1024,
            MAX_RESPONSE_HEADER_BYTES / 1024
        ));
    }
    Ok(RouteOptions {
        body_limit: route.config.body_limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        compression: route.config.compression,
        headers,
    })
}

/// Resolves `relative` against the app folder and refuses anything that ends up outside
/// it, `..` and symlinks included.
pub fn inside_app(app_dir: &Path, relative: &str) -> Result<PathBuf, String> {
    let joined = app_dir.join(relative.trim_start_matches("./"));
    let resolved =
        joined.canonicalize().map_err(|e| format!("{relative:?} cannot be opened in the app folder: {e}"))?;
    if !resolved.starts_with(app_dir) {
        return Err(format!("{relative:?} is outside the app folder"));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::RouteConfig;

    fn route(method: &str, path: &str) -> Route {
        Route {
            method: method.into(),
            path: path.into(),
            kind: RouteKind::Callback,
            config: RouteConfig { body_limit: None, compression: None, headers: Vec::new() },
        }
    }

    fn build(routes: &[Route]) -> Result<RouteTable, String> {
        RouteTable::build(routes, &std::env::temp_dir())
    }

    fn found(table: &RouteTable, method: Method, path: &str) -> Option<(u32, Vec<(String, String)>)> {
        match table.lookup(&method, path, false) {
            Lookup::Found { target, params } => Some((target.id, params)),
            _ => None,
        }
    }

    #[test]
    fn matches_methods_params_and_head() {
        let table = build(&[route("get", "/"), route("post", "/users/{id}"), route("get", "/users/{id}")]).unwrap();
        assert_eq!(found(&table, Method::GET, "/").map(|f| f.0), Some(0));
        assert_eq!(found(&table, Method::POST, "/users/7"), Some((1, vec![("id".into(), "7".into())])));
        assert_eq!(found(&table, Method::HEAD, "/users/a%20b"), Some((2, vec![("id".into(), "a b".into())])));
        assert!(
            matches!(table.lookup(&Method::DELETE, "/users/7", false), Lookup::MethodNotAllowed { allow } if allow == "GET, HEAD, POST")
        );
        assert!(matches!(table.lookup(&Method::GET, "/nope", false), Lookup::NotFound));
    }

    #[test]
    fn bad_routes_are_errors_not_panics() {
        let error = build(&[route("get", "/a"), route("get", "/a")]).err().unwrap();
        assert_eq!(error, "GET /a is registered twice");
        let error = build(&[route("get", "/a/{x}"), route("get", "/a/{y}")]).err().unwrap();
        assert!(error.starts_with("GET /a/{y}: "), "{error}");
        let error = build(&[route("get", "no-slash")]).err().unwrap();
        assert_eq!(error, "GET no-slash: a route path must start with '/'");
        let error = build(&[route("g e t", "/x")]).err().unwrap();
        assert!(error.contains("is not an HTTP method"), "{error}");
        let error = build(&[route("get", "/{")]).err().unwrap();
        assert!(error.starts_with("GET /{: "), "{error}");
    }

    #[test]
    fn fallback_takes_what_nothing_else_does() {
        let table = build(&[route("get", "/"), route("fallback", "/")]).unwrap();
        assert_eq!(found(&table, Method::GET, "/").map(|f| f.0), Some(0));
        assert_eq!(found(&table, Method::PUT, "/").map(|f| f.0), Some(1));
        assert_eq!(found(&table, Method::GET, "/elsewhere").map(|f| f.0), Some(1));
    }

    #[test]
    fn static_paths_must_stay_in_the_app_folder() {
        let app = std::env::temp_dir().join(format!("astra-routes-{}", std::process::id()));
        std::fs::create_dir_all(app.join("public")).unwrap();
        let app = app.canonicalize().unwrap();
        assert!(inside_app(&app, "public").is_ok());
        assert!(inside_app(&app, "./public").is_ok());
        assert!(inside_app(&app, "../").unwrap_err().contains("is outside the app folder"));
        assert!(inside_app(&app, "/etc").unwrap_err().contains("is outside the app folder"));
        assert!(inside_app(&app, "missing").unwrap_err().contains("cannot be opened"));
        let _ = std::fs::remove_dir_all(app);
    }
}
