//! Issue 2, end to end: the foundation's Lua API, errors and faults, both command-line
//! modes, against the real binary over real HTTP.

use astra_tests::{Host, apps, line_of, raw_request, scratch_dir, text};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn host() -> Host {
    Host::serve(&apps("foundation"), &[])
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn return_values_become_bodies() {
    let host = host();
    let response = host.get("api", "/text").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text(response).await, "plain text");

    let response = host.get("api", "/nil").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(text(response).await, "");

    let response = host.get("api", "/table").await;
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(json_of(response).await, json!({ "a": 1, "list": [1, 2, 3] }));

    let response = host.get("api", "/bytes").await;
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &[104, 105, 0, 255]);
}

#[tokio::test]
async fn request_accessors() {
    let host = host();
    let params = json_of(host.get("api", "/params/42/ada").await).await;
    assert_eq!(params, json!({ "id": 42, "id_type": "integer", "name": "ada", "name_type": "string" }));
    let params = json_of(host.get("api", "/params/2.5/x%20y").await).await;
    assert_eq!(params["id"], json!(2.5));
    assert_eq!(params["name"], json!("x y"));

    let queries = json_of(host.get("api", "/queries?q=lua%20wasm&page=2").await).await;
    assert_eq!(queries, json!({ "q": "lua wasm", "page": "2" }));

    let response = host.client("api").get(host.url("api", "/headers")).header("X-Test", "one").send().await.unwrap();
    let headers = json_of(response).await;
    assert_eq!(headers["x-test"], "one");
    assert_eq!(headers["host"], format!("api.localhost:{}", host.addr.port()));

    assert_eq!(text(host.get("api", "/uri?a=1").await).await, "/uri?a=1");

    let response = host.get("api", "/varargs?b=2").await;
    assert_eq!(response.headers()["x-arguments"], "2");
    assert_eq!(text(response).await, "/varargs?b=2");
}

#[tokio::test]
async fn every_route_method() {
    let host = host();
    let client = host.client("api");
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PARSE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client.request(method.clone(), host.url("api", "/method")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{method}");
        assert_eq!(text(response).await, method.as_str());
    }
    // HEAD is answered by the GET route, without a body.
    let response = client.head(host.url("api", "/text")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "");
    // A path that exists, with a method it does not have.
    let response = client.post(host.url("api", "/text")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_eq!(host.get("api", "/no/such/route").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn request_bodies() {
    let host = host();
    let client = host.client("api");
    let response = client.post(host.url("api", "/echo/text")).body("some text").send().await.unwrap();
    assert_eq!(text(response).await, "some text");

    let response = client
        .post(host.url("api", "/echo/json"))
        .body(r#"{"name":"lua","tags":["a","b"],"none":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await, json!({ "name": "lua", "tags": ["a", "b"], "seen": true }));

    let response = client.post(host.url("api", "/echo/bytes")).body(vec![7u8, 0, 255]).send().await.unwrap();
    assert_eq!(json_of(response).await, json!({ "count": 3, "first": 7, "last": 255 }));

    // Invalid JSON is a Lua error in the route: 500, logged with the file and line.
    let response = client.post(host.url("api", "/echo/json")).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let place = line_of("foundation/api/init.lua", "request:body():json()");
    assert!(
        host.log_contains(&format!("[api] POST /echo/json: {place}: the body is not valid JSON")).await,
        "{}",
        host.log()
    );
    // The message ends there: the traceback a Rust method's error carries is not repeated in it.
    let log = host.log();
    let after = log.lines().skip_while(|line| !line.contains("POST /echo/json: ")).nth(1).unwrap_or_default();
    assert!(!after.starts_with("stack traceback"), "{log}");

    // The route config's body_limit: 413 whether the length is declared or streamed.
    let response = client.post(host.url("api", "/small")).body("0123456789abcdef").send().await.unwrap();
    assert_eq!(text(response).await, "0123456789abcdef");
    let response = client.post(host.url("api", "/small")).body("0123456789abcdefg").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let chunked = "POST /small HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         a\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n";
    let answer = raw_request(host.addr, chunked.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn response_methods() {
    let host = host();
    let response = host.get("api", "/status").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(text(response).await, "created");

    let response = host.get("api", "/headers-out").await;
    assert_eq!(response.headers()["x-custom"], "yes");
    assert!(response.headers().get("x-gone").is_none());
    assert_eq!(json_of(response).await, json!({ "X-Custom": "yes" }));

    let response = host.get("api", "/html").await;
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.headers().get_all("content-type").iter().count(), 1);

    for (path, status) in [("/redirect/to", 303), ("/redirect/temporary", 307), ("/redirect/permanent", 308)] {
        let response = host.get("api", path).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(response.headers()["location"], "/text");
    }

    // An invalid status code is a Lua error that names the line of the call.
    let response = host.get("api", "/bad-status").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let place = line_of("foundation/api/init.lua", "set_status_code(42)");
    assert!(host.log_contains(&format!("{place}: invalid status code 42")).await, "{}", host.log());
    assert_eq!(host.get("api", "/error-in-api").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let place = line_of("foundation/api/init.lua", "set_status_code(\"nope\")");
    assert!(
        host.log_contains(&format!("[api] GET /error-in-api: {place}: invalid status code \"nope\"")).await,
        "{}",
        host.log()
    );
}

#[tokio::test]
async fn module_tables_and_globals() {
    let host = host();
    assert_eq!(json_of(host.get("api", "/codes").await).await, json!({ "ok": 200, "not_found": 404, "teapot": 418 }));
    let astra = json_of(host.get("api", "/astra").await).await;
    assert!(astra["version"].as_str().is_some_and(|v| !v.is_empty()), "{astra}");
    assert_eq!(
        json_of(host.get("api", "/server-defaults").await).await,
        json!({ "hostname": "127.0.0.1", "port": 8080, "compression": false,
                "version": astra["version"], "routes": 0 })
    );
    // The "/" route was registered last but stands first in server.routes.
    let routes = json_of(host.get("api", "/routes").await).await;
    assert_eq!(routes["first_path"], "/");
    assert_eq!(routes["first_method"], "get");
    assert_eq!(routes["func"], "function");
    assert_eq!(routes["config"], "table");
    assert_eq!(text(host.get("api", "/").await).await, "root");

    assert_eq!(text(host.get("api", "/print").await).await, "ok");
    assert!(host.log_contains("[api] printed 1 true ").await, "as Astra 0.52 prints: {}", host.log());
    assert!(host.log_contains("name = \"x\"").await, "pprint output missing: {}", host.log());
    assert!(host.log_contains("nested = {").await, "{}", host.log());
}

#[tokio::test]
async fn lua_errors_are_500_and_the_app_keeps_serving() {
    let host = host();
    let response = host.get("api", "/error").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert!(!body.contains("boom"), "the Lua message stays in the log: {body}");
    let place = line_of("foundation/api/init.lua", "boom from a route");
    assert!(host.log_contains(&format!("[api] GET /error: {place}: boom from a route")).await, "{}", host.log());
    assert_eq!(text(host.get("api", "/text").await).await, "plain text");

    // An error in a required module names that module's file.
    assert_eq!(text(host.get("modules", "/").await).await, "hello, modules");
    assert_eq!(host.get("modules", "/fail").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(host.log_contains("[modules] GET /fail: lib/greet.lua:8: greet failed on purpose").await, "{}", host.log());
}

#[tokio::test]
async fn fallback_answers_unmatched_requests() {
    let host = host();
    assert_eq!(text(host.get("fallback", "/").await).await, "home");
    assert_eq!(text(host.get("fallback", "/anything/else?x=1").await).await, "fallback for GET /anything/else?x=1");
    let response = host.client("fallback").delete(host.url("fallback", "/")).send().await.unwrap();
    assert_eq!(text(response).await, "fallback for DELETE /");
}

#[tokio::test]
async fn faults_fail_one_request_and_replace_the_instance() {
    let host = host();
    assert_eq!(text(host.get("faults", "/count").await).await, "1");
    assert_eq!(text(host.get("faults", "/count").await).await, "2");

    // A Lua error keeps the instance (the count goes on).
    assert_eq!(host.get("faults", "/lua-error").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(host.get("faults", "/count").await).await, "3");
    // So does endless recursion: Lua's own stack overflow error.
    assert_eq!(host.get("faults", "/recursion").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(host.log_contains("stack overflow").await, "{}", host.log());
    assert_eq!(text(host.get("faults", "/count").await).await, "4");
    // A return value that cannot be a body is an error named after the callback's line.
    assert_eq!(host.get("faults", "/returns-function").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        host.log_contains(
            "[faults] GET /returns-function: init.lua:18: the route callback returned a function; expected nil, a string or a table"
        )
        .await,
        "{}",
        host.log()
    );
    assert_eq!(host.get("faults", "/returns-cycle").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        host.log_contains("[faults] GET /returns-cycle: init.lua:19: the route callback returned a table that cannot be sent as JSON: tables nest too deeply").await,
        "{}",
        host.log()
    );
    assert_eq!(text(host.get("faults", "/count").await).await, "5");
    // Running out of Lua memory is a Lua error too, but its heap is full: a fresh instance.
    assert_eq!(host.get("faults", "/memory").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(host.log_contains("[faults] GET /memory: not enough memory; the instance was replaced").await);
    assert_eq!(text(host.get("faults", "/count").await).await, "1");
    assert_eq!(text(host.get("faults", "/count").await).await, "2");

    // An endless loop hits the CPU limit: 503 naming it, and a fresh instance.
    let response = host.get("faults", "/loop").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text(response).await, "CPU time limit exceeded\n");
    assert!(host.log_contains("[faults] GET /loop: CPU time limit exceeded; the instance was replaced").await);
    assert_eq!(text(host.get("faults", "/count").await).await, "1");

    // os.exit ends only that request.
    let response = host.get("faults", "/exit").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(response).await, "the app called os.exit\n");
    assert_eq!(text(host.get("faults", "/count").await).await, "1");
    assert_eq!(text(host.get("api", "/text").await).await, "plain text");
}

#[tokio::test]
async fn broken_apps_are_reported_and_answer_503() {
    let host = host();
    let log = host.log();
    assert!(
        log.contains("[syntax-error] did not start: init.lua:7: ')' expected (to close '(' at line 3) near 'server'"),
        "{log}"
    );
    assert!(
        log.contains("[script-error] did not start: init.lua:3: attempt to index a nil value (local 'config')"),
        "{log}"
    );
    assert!(log.contains("[no-init] did not start: cannot read init.lua: no such file in the app folder"), "{log}");
    assert!(log.contains("[no-run] did not start: init.lua finished without calling server:run()"), "{log}");
    // The start-up table lists every app with its state.
    assert!(log.lines().any(|l| l.starts_with("APP") && l.contains("HOSTS") && l.contains("STATE")), "{log}");
    assert!(log.lines().any(|l| l.starts_with("api ") && l.contains("api.localhost") && l.ends_with("ready")), "{log}");
    for app in ["syntax-error", "script-error", "no-init", "no-run"] {
        let response = host.get(app, "/").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{app}");
    }
    assert_eq!(text(host.get("api", "/text").await).await, "plain text");
}

#[tokio::test]
async fn unknown_hosts_get_404() {
    let host = host();
    let client = reqwest::Client::new();
    let response =
        client.get(format!("http://{}/text", host.addr)).header("host", "nobody.localhost").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = text(response).await;
    assert!(!body.contains("api"), "no app names leak: {body}");
}

#[tokio::test]
async fn run_mode_honours_the_script_and_shuts_down() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let dir = scratch_dir("run");
    std::fs::write(
        dir.join("app.lua"),
        format!(
            r#"local server = require("http").server.new()
server.port = {port}
server.hostname = "127.0.0.1"
server:get("/", function() return "single app" end)
server:get("/stop", function() server:shutdown() return "bye" end)
server:run()
"#
        ),
    )
    .unwrap();
    let args = vec!["run".to_string(), dir.join("app.lua").display().to_string()];
    let mut host = Host::spawn(&args, dir.clone(), false);
    assert_eq!(host.addr.port(), port, "listens on server.port");
    let client = reqwest::Client::new();
    let response = client.get(format!("http://{}/", host.addr)).send().await.unwrap();
    assert_eq!(text(response).await, "single app");
    // Any Host reaches the one app.
    let response =
        client.get(format!("http://{}/", host.addr)).header("host", "whatever.example").send().await.unwrap();
    assert_eq!(text(response).await, "single app");
    let response = client.get(format!("http://{}/stop", host.addr)).send().await.unwrap();
    assert_eq!(text(response).await, "bye");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while host.is_running() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!host.is_running(), "server:shutdown() stops `run` mode");
}

#[tokio::test]
async fn sigterm_exits_cleanly() {
    let mut host = host();
    assert_eq!(text(host.get("api", "/text").await).await, "plain text");
    let status = host.terminate();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn bad_command_lines_are_explained() {
    assert!(refused(&[]).contains("nothing to serve: give --apps DIR"));
    assert!(refused(&["--apps", "/no/such/folder"]).contains("cannot read the apps folder /no/such/folder"));
    let stderr = refused(&["--apps", ".", "--memory-limit", "lots"]);
    assert!(stderr.contains("--memory-limit") && stderr.contains("64MiB"), "{stderr}");
    let stderr = refused(&["--apps", ".", "--workers", "0"]);
    assert!(stderr.contains("invalid value '0' for '--workers <N>'"), "{stderr}");
    let stderr = refused(&["--apps", ".", "--header-timeout", "0s"]);
    assert!(stderr.contains("invalid value '0s' for '--header-timeout <TIME>': must be above zero"), "{stderr}");

    // Host flags work on either side of `run`.
    for args in [["run", "app.lua", "--memory-limit", "lots"], ["--memory-limit", "lots", "run", "app.lua"]] {
        assert!(refused(&args).contains("--memory-limit"), "{args:?}");
    }

    let output = std::process::Command::new(astra_tests::binary()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in ["--apps", "--listen", "--domain", "--memory-limit", "--workers", "run", "<name>.localhost"] {
        assert!(help.contains(needle), "--help mentions {needle}");
    }
}

/// Runs astra-host with `args`, which it must refuse; what it printed on stderr.
fn refused(args: &[&str]) -> String {
    let output = std::process::Command::new(astra_tests::binary()).args(args).output().unwrap();
    assert!(!output.status.success(), "{args:?} was accepted");
    String::from_utf8_lossy(&output.stderr).into_owned()
}
