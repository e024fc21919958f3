//! `require("database")` against a real SQLite file in the app's data folder and a real
//! PostgreSQL server, through the real binary.

use std::time::{Duration, Instant};

use astra_tests::postgres::Postgres;
use astra_tests::{AppsFolder, Host, scratch_dir, text};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The SQLite app alone (the PostgreSQL one needs a server).
fn sqlite_host() -> (Host, AppsFolder) {
    let folder = AppsFolder::with(&["services/sql-sqlite"]);
    (Host::serve(&folder.path, &[]), folder)
}

async fn get_json(host: &Host, app: &str, path: &str) -> Value {
    let response = host.get(app, path).await;
    let status = response.status();
    let body = text(response).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

async fn post_json(host: &Host, app: &str, path: &str, body: Value) -> Value {
    let response = host.client(app).post(host.url(app, path)).json(&body).send().await.unwrap();
    let status = response.status();
    let body = text(response).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn sqlite_rows_round_trip_through_a_file_in_the_data_folder() {
    let (host, _folder) = sqlite_host();
    let created =
        post_json(&host, "sql-sqlite", "/items", json!({"name": "pen", "price": 1.1, "tags": ["blue"]})).await;
    assert_eq!(created, json!({"id": 1}));
    let item = get_json(&host, "sql-sqlite", "/items/1").await;
    // REAL is a double: 1.1 stays 1.1 (Astra's f32 would give 1.100000023841858).
    assert_eq!(item, json!({"id": 1, "name": "pen", "price": 1.1, "tags": ["blue"]}));
    assert_eq!(host.get("sql-sqlite", "/items/99").await.status(), StatusCode::NOT_FOUND);
    let types = get_json(&host, "sql-sqlite", "/types").await;
    assert_eq!(
        types,
        json!({"real": 1.1, "int": 42, "math_type": "integer", "text": "text", "blob": [0, 255],
               "has_missing": false, "flag": 1, "bytes": [255, 254]})
    );
    assert_eq!(get_json(&host, "sql-sqlite", "/pragmas").await, json!({"user_version": 0, "journal_mode": "wal"}));
    assert_eq!(get_json(&host, "sql-sqlite", "/memory").await, json!({"total": 6}));
    assert_eq!(text(host.get("sql-sqlite", "/vacuum").await).await, "vacuumed");
    let file = host.data_dir.join("sql-sqlite/shop.db");
    assert!(file.is_file(), "the database is in the app's data folder: {}", file.display());
}

#[tokio::test]
async fn a_sqlite_path_cannot_leave_the_data_folder() {
    let (host, _folder) = sqlite_host();
    let outside = scratch_dir("outside");
    let name = format!("{}/escape.db", outside.display().to_string().trim_start_matches('/'));
    let response = host.get("sql-sqlite", &format!("/outside?name={name}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text(response).await);
    assert!(!outside.join("escape.db").exists(), "../ climbed out of the data folder");
    assert!(host.data_dir.join("sql-sqlite").join(&name).is_file(), "the file stays inside, at its view path");
    std::fs::remove_dir_all(outside).unwrap();
}

#[tokio::test]
async fn sqlite_refuses_host_files_and_reports_each_error() {
    let (host, _folder) = sqlite_host();
    let errors = get_json(&host, "sql-sqlite", "/errors").await;
    let expect = |key: &str, needle: &str| {
        let message = errors[key].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{key}: {message:?} lacks {needle:?}");
    };
    expect("kind", "Could not recognize the database type");
    expect("syntax", "database:execute: shop.db: near \"SELEC\": syntax error");
    expect("no_table", "database:query_all: shop.db: no such table: nowhere");
    expect("param", "Unsupported parameter type: function");
    expect("closed", "The connection is closed");
    expect("extensions", "loading SQLite extensions (native code) is not allowed");
    for key in ["attach", "vacuum_into", "temp_dir", "page_cap"] {
        expect(key, "not allowed: ATTACH, VACUUM INTO and pragmas");
    }
    assert!(!std::path::Path::new("/tmp/astra-vacuum-into.db").exists(), "VACUUM INTO wrote a host file");
    expect("too_big", "larger than the app's sql_result_limit of 64KiB");
    expect("huge_string", "string or blob too big");
    expect("postgres_undeclared", "postgres://db.example.com:5432 is not in the app's network allow-list");
    expect("postgres_socket", "reached over TCP only");
}

#[tokio::test]
async fn instances_writing_one_sqlite_file_at_once_lose_nothing() {
    let (host, _folder) = sqlite_host();
    let writes = (0..200).map(|n| {
        let client = host.client("sql-sqlite");
        let url = host.url("sql-sqlite", "/items");
        async move {
            let response =
                client.post(url).json(&json!({"name": format!("item {n}"), "price": n, "tags": [n]})).send().await;
            let response = response.unwrap();
            (response.status(), text(response).await)
        }
    });
    for (status, body) in futures_util::future::join_all(writes).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(get_json(&host, "sql-sqlite", "/count").await, json!({"n": 200}));
    assert!(!host.log().contains("locked"), "{}", host.log());
}

#[tokio::test]
async fn a_sqlite_statement_stops_at_the_request_timeout() {
    let (host, _folder) = sqlite_host();
    let started = Instant::now();
    let response = host.get("sql-sqlite", "/slow").await;
    assert!(response.status().is_server_error());
    assert!(started.elapsed() < Duration::from_secs(10));
    // Whichever comes first: the statement's own deadline (a Lua error), or the request's,
    // which drops the call and so interrupts the statement.
    let log = host.log();
    assert!(
        log.contains("the statement ran past 3s (request_timeout)")
            || log.contains("GET /slow: request timeout exceeded"),
        "{log}"
    );
    // The connection went back to the pool and serves the next request.
    assert_eq!(get_json(&host, "sql-sqlite", "/count").await, json!({"n": 0}));
}

/// The PostgreSQL app, pointed at `postgres` and granted loopback by the operator.
fn postgres_host(postgres: &Postgres, grant: &str) -> (Host, AppsFolder) {
    let folder = AppsFolder::with(&["services/sql-postgres"]);
    folder.write("sql-postgres", ".env", &format!("DATABASE_URL={}\n", postgres.url()));
    let config = folder.path.join("operator.toml");
    std::fs::write(&config, format!("[apps.sql-postgres.network]\nallow = [{grant}]\n")).unwrap();
    let host = Host::serve(&folder.path, &["--config", &config.display().to_string()]);
    (host, folder)
}

#[tokio::test]
async fn postgres_rows_round_trip_with_their_types() {
    let postgres = Postgres::start();
    let (host, _folder) = postgres_host(&postgres, "\"postgres://127.0.0.1:*\"");
    let note = json!({"body": "hello", "score": 0.1, "pinned": true, "meta": {"tags": ["a"], "n": 2}});
    assert_eq!(post_json(&host, "sql-postgres", "/notes", note).await, json!({"id": 1}));
    let stored = get_json(&host, "sql-postgres", "/notes/1").await;
    assert_eq!(
        stored,
        json!({"id": 1, "body": "hello", "score": 0.1, "pinned": true, "meta": {"tags": ["a"], "n": 2}, "raw": [1, 2, 255]})
    );
    assert_eq!(host.get("sql-postgres", "/notes/7").await.status(), StatusCode::NOT_FOUND);
    let types = get_json(&host, "sql-postgres", "/types").await;
    assert_eq!(
        types,
        json!({"f4": 1.5, "i2": 2, "i4": 3, "i8": 4, "price": "12345.6789", "day": "2024-02-29",
               "at": "2024-02-29T12:00:00.25Z", "local_at": "2024-02-29 12:00:00",
               "id": "00010203-0405-0607-0809-0a0b0c0d0e0f", "doc": {"a": [1]}, "v": "x"})
    );
    let unreadable = text(host.get("sql-postgres", "/unreadable").await).await;
    assert!(
        unreadable.contains("column address has type inet") && unreadable.contains("address::text"),
        "{unreadable}"
    );
    let errors = get_json(&host, "sql-postgres", "/errors").await;
    assert!(errors["no_table"].as_str().unwrap().contains("relation \"nowhere\" does not exist"), "{errors}");
    assert!(errors["bad_type"].as_str().unwrap().contains("operator does not exist: bigint = text"), "{errors}");
}

#[tokio::test]
async fn postgres_is_reached_only_where_the_app_declares_and_the_operator_grants() {
    let postgres = Postgres::start();
    let (host, _folder) = postgres_host(&postgres, "\"postgres://127.0.0.1:*\"");
    let open = |url: String| {
        let host = &host;
        async move { text(host.get("sql-postgres", &format!("/open?url={url}")).await).await }
    };
    assert_eq!(open(postgres.url()).await, "opened");
    // Declared, but "localhost" is a name that resolves to loopback, and only the address
    // 127.0.0.1 is granted: refused once resolved.
    let by_name = open(format!("postgres://astra@localhost:{}/postgres", postgres.port)).await;
    assert!(
        by_name.contains("localhost resolves to 127.0.0.1, a loopback address: the operator must grant it"),
        "{by_name}"
    );
    // Not declared by the app at all: refused before any I/O.
    let undeclared = open("postgres://astra@10.1.2.3:5432/postgres".into()).await;
    assert!(undeclared.contains("postgres://10.1.2.3:5432 is not in the app's network allow-list"), "{undeclared}");
    let wrong_db = open(format!("postgres://astra@127.0.0.1:{}/nowhere", postgres.port)).await;
    assert!(wrong_db.contains("database \"nowhere\" does not exist"), "{wrong_db}");
}

#[tokio::test]
async fn without_the_operators_grant_a_loopback_server_is_refused() {
    let postgres = Postgres::start();
    let (host, _folder) = postgres_host(&postgres, "");
    let response = host.get("sql-postgres", "/count").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(host.log_contains("127.0.0.1 resolves to 127.0.0.1, a loopback address").await, "{}", host.log());
}

#[tokio::test]
async fn a_postgres_statement_past_the_request_time_is_cancelled_on_the_server() {
    let postgres = Postgres::start();
    let (host, _folder) = postgres_host(&postgres, "\"postgres://127.0.0.1:*\"");
    let started = Instant::now();
    let response = host.get("sql-postgres", "/sleep").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(10));
    // The cancel request is sent as the call is dropped; the server ends the query soon after.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sleeping = get_json(&host, "sql-postgres", "/sleeping").await;
        if sleeping == json!({"n": 0}) {
            break;
        }
        assert!(Instant::now() < deadline, "pg_sleep(30) still runs on the server: {sleeping}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn instances_writing_to_postgres_at_once_lose_nothing() {
    let postgres = Postgres::start();
    let (host, _folder) = postgres_host(&postgres, "\"postgres://127.0.0.1:*\"");
    let writes = (0..100).map(|n| {
        let client = host.client("sql-postgres");
        let url = host.url("sql-postgres", "/notes");
        async move {
            let note = json!({"body": format!("note {n}"), "score": n, "pinned": false, "meta": {"n": n}});
            let response = client.post(url).json(&note).send().await.unwrap();
            (response.status(), text(response).await)
        }
    });
    for (status, body) in futures_util::future::join_all(writes).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(get_json(&host, "sql-postgres", "/count").await, json!({"n": 100}));
}

/// Scale-out: two hosts (as two machines behind a load balancer would run) share one
/// PostgreSQL; what one writes, the other reads.
#[tokio::test]
async fn two_hosts_sharing_postgres_see_each_others_writes() {
    let postgres = Postgres::start();
    let (first, folder) = postgres_host(&postgres, "\"postgres://127.0.0.1:*\"");
    let config = folder.path.join("operator.toml");
    let second = Host::serve(&folder.path, &["--config", &config.display().to_string()]);
    assert_ne!(first.data_dir, second.data_dir, "each host has data folders of its own");
    let note = json!({"body": "written through the first host", "score": 1.5, "pinned": false, "meta": {}});
    assert_eq!(post_json(&first, "sql-postgres", "/notes", note).await, json!({"id": 1}));
    let read = get_json(&second, "sql-postgres", "/notes/1").await;
    assert_eq!(read["body"], "written through the first host");
    let again = json!({"body": "and through the second", "score": 2.5, "pinned": true, "meta": {}});
    assert_eq!(post_json(&second, "sql-postgres", "/notes", again).await, json!({"id": 2}));
    assert_eq!(get_json(&first, "sql-postgres", "/count").await, json!({"n": 2}));
}
