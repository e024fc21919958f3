//! `static_dir` and `static_file` routes, served by tower-http from inside the app folder.
//!
//! tower-http already refuses `..`; on top of that every path is resolved (symlinks
//! included) and must still be inside the route's folder, so a link planted in the app
//! folder cannot reach the rest of the host.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::response::Response;
use http::{Request, StatusCode};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::reply;

pub async fn serve_dir(dir: &Path, rest: &str, request: Request<Body>) -> Response {
    match resolve(dir, rest) {
        Some(file) => serve_file(&file, request).await,
        None => reply::plain(StatusCode::NOT_FOUND, "not found"),
    }
}

pub async fn serve_file(file: &Path, request: Request<Body>) -> Response {
    match ServeFile::new(file).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// The file a request path names inside `dir` (`index.html` for a folder), if it exists
/// and stays inside `dir` once resolved.
fn resolve(dir: &Path, rest: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(rest).decode_utf8().ok()?;
    if decoded.split(['/', '\\']).any(|part| part == "..") || decoded.contains('\0') {
        return None;
    }
    let mut path = dir.join(decoded.trim_start_matches('/')).canonicalize().ok()?;
    if path.is_dir() {
        path = path.join("index.html").canonicalize().ok()?;
    }
    (path.starts_with(dir) && path.is_file()).then_some(path)
}
