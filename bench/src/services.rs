//! The `services` scenario: routes that go through the host's services, beside the same
//! host's hello. A PostgreSQL read (one indexed row, as JSON) against a cluster started for
//! the run, and an outbound HTTP call to a local server, beside a plain reqwest client
//! calling that server from this process: what the sandbox adds per call.

use std::time::{Duration, Instant};

use astra_tests::postgres::Postgres;
use astra_tests::servers::TestServer;
use bytes::Bytes;

use crate::Row;
use crate::load::Load;
use crate::servers::Server;

const APP: &str = r#"
local database = require("database")
local db = database.new("postgres", os.getenv("DATABASE_URL"))
db:execute([[
    CREATE TABLE IF NOT EXISTS items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE PRECISION NOT NULL);
    INSERT INTO items SELECT i, 'item ' || i, i * 1.25 FROM generate_series(1, 1000) AS i ON CONFLICT DO NOTHING;
]])
local upstream = os.getenv("UPSTREAM")
local server = require("http").server.new()
server:get("/hello", function() return "hello" end)
server:get("/pg/{id}", function(request)
    return db:query_one("SELECT id, name, price FROM items WHERE id = $1", { request:params().id })
end)
server:get("/fetch", function()
    return http.request(upstream):execute():body():text()
end)
server:run()
"#;

pub async fn services(duration: Duration, connections: usize) -> Vec<Row> {
    let postgres = tokio::task::spawn_blocking(Postgres::start).await.expect("PostgreSQL starts");
    let upstream = TestServer::http().await;
    let upstream_url = format!("http://127.0.0.1:{}/hello", upstream.port());
    let apps = std::env::temp_dir().join(format!("astra-bench-services-{}", std::process::id()));
    let app = apps.join("svc");
    std::fs::create_dir_all(&app).expect("a scratch folder");
    std::fs::write(app.join("init.lua"), APP).expect("the app");
    std::fs::write(app.join(".env"), format!("DATABASE_URL={}\nUPSTREAM={upstream_url}\n", postgres.url()))
        .expect(".env");
    std::fs::write(app.join("astra.toml"), "[network]\nallow = [\"postgres://127.0.0.1:*\", \"http://127.0.0.1:*\"]\n")
        .expect("astra.toml");
    let config = apps.join("host.toml");
    std::fs::write(&config, "[apps.svc.network]\nallow = [\"postgres://127.0.0.1:*\", \"http://127.0.0.1:*\"]\n")
        .expect("host.toml");
    let host = Server::astra_host(&apps, &["--config", config.to_str().expect("a UTF-8 path")]).await;
    let load = |path: &str| Load {
        addr: host.addr,
        host: "svc.localhost".into(),
        method: "GET",
        path: path.into(),
        body: Bytes::new(),
        connections,
        duration,
        rate: None,
    };
    let mut rows = Vec::new();
    eprintln!("astra-bench: services: hello");
    let mut hello = host.drive(&load("/hello")).await;
    let (hello_rps, hello_cpu) = (hello.rps(), hello.cpu_per_request());
    rows.push(Row::load("services host: hello", &mut hello));
    for (what, path) in
        [("PostgreSQL: one indexed row, as JSON", "/pg/42"), ("outbound HTTP: a local server's hello", "/fetch")]
    {
        eprintln!("astra-bench: services: {what}");
        let mut outcome = host.drive(&load(path)).await;
        let ratio = outcome.rps() / hello_rps;
        let mut row = Row::load(what, &mut outcome).ratio(ratio, "this host's hello");
        if let (Some(cpu), Some(hello)) = (outcome.cpu_per_request(), hello_cpu) {
            row.add_note(&format!("server CPU per request {:.2} × hello", cpu.as_secs_f64() / hello.as_secs_f64()));
        }
        if path == "/fetch" {
            let direct = reqwest_calls(&upstream_url, connections, duration).await;
            let per_call = |rps: f64| 1e6 / rps * connections as f64;
            row.add_note(&format!(
                "plain reqwest from this process: {direct:.0} calls/s; latency per call {:.0} µs against {:.0} µs",
                per_call(outcome.rps()),
                per_call(direct)
            ));
        }
        rows.push(row);
    }
    drop(host);
    let _ = std::fs::remove_dir_all(&apps);
    drop(postgres);
    rows
}

/// Calls per second a plain reqwest client makes to `url`, `connections` at a time.
async fn reqwest_calls(url: &str, connections: usize, duration: Duration) -> f64 {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let workers = (0..connections).map(|_| {
        let (client, url) = (client.clone(), url.to_string());
        tokio::spawn(async move {
            let mut calls = 0u64;
            while started.elapsed() < duration {
                if let Ok(response) = client.get(&url).send().await
                    && response.bytes().await.is_ok()
                {
                    calls += 1;
                }
            }
            calls
        })
    });
    let calls: u64 = futures_util::future::join_all(workers).await.into_iter().map(|calls| calls.unwrap_or(0)).sum();
    calls as f64 / started.elapsed().as_secs_f64()
}
