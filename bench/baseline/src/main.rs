//! The baseline: the benchmark routes written directly in axum, with nothing in between.
//! Usage: astra-baseline ADDR (prints "listening on http://ADDR" once ready).

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route("/json", get(|| async { axum::Json(items()) }))
        .route(
            "/users/{id}",
            get(|Path(id): Path<u64>| async move {
                let mut headers = HeaderMap::new();
                headers.insert("x-user-id", id.into());
                (headers, axum::Json(json!({ "id": id })))
            }),
        )
        .route("/echo", post(|axum::Json(body): axum::Json<Value>| async move { axum::Json(body) }))
        .route("/fib", get(|| async { fib(20).to_string() }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

fn items() -> Value {
    Value::Array((1..=100).map(|i| json!({ "id": i, "name": format!("item {i}"), "done": i % 2 == 0 })).collect())
}

fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}
