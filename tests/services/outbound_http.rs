//! `http.request` through the real binary, against local servers the tests start: plain
//! HTTP, TLS with a CA made for the test, a slow server, a huge response, redirects to
//! forbidden places, and a name that resolves to 127.0.0.1.

use astra_tests::servers::{TestCa, TestServer};
use astra_tests::{AppsFolder, Host, text};
use serde_json::{Value, json};

/// The client app, granted 127.0.0.1 (and https://localhost) by the operator, plus `extra`
/// host arguments.
fn client_host(extra: &[&str]) -> (Host, AppsFolder) {
    let folder = AppsFolder::with(&["services/http-client"]);
    let config = folder.path.join("operator.toml");
    std::fs::write(&config, "[apps.http-client.network]\nallow = [\"http://127.0.0.1:*\", \"https://localhost:*\"]\n")
        .unwrap();
    let mut args = vec!["--config", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    (Host::serve(&folder.path, &args), folder)
}

async fn get_json(host: &Host, path: &str) -> Value {
    let response = host.get("http-client", path).await;
    let body = text(response).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn encoded(url: &str) -> String {
    url.replace('&', "%26").replace('?', "%3F").replace('=', "%3D")
}

async fn fetch(host: &Host, url: &str) -> Value {
    get_json(host, &format!("/fetch?url={}", encoded(url))).await
}

fn error_of(outcome: &Value) -> &str {
    outcome["error"].as_str().unwrap_or_else(|| panic!("expected an error, got {outcome}"))
}

#[tokio::test]
async fn a_request_reaches_a_granted_server_and_reads_its_response() {
    let server = TestServer::http().await;
    let (host, _folder) = client_host(&[]);
    let url = format!("http://127.0.0.1:{}/hello", server.port());
    let outcome = fetch(&host, &url).await;
    assert_eq!(
        outcome,
        json!({"status": 200, "url": url, "remote": server.addr.to_string(), "header": "yes", "body": "hello"})
    );
}

#[tokio::test]
async fn bodies_are_built_as_astras_client_builds_them() {
    let server = TestServer::http().await;
    let (host, _folder) = client_host(&[]);
    let echo = format!("http://127.0.0.1:{}/echo", server.port());
    let send = |kind: &'static str| {
        let (host, echo) = (&host, &echo);
        async move { get_json(host, &format!("/send?kind={kind}&url={}", encoded(echo))).await }
    };
    let json_body = send("json").await;
    assert_eq!(json_body["method"], "POST");
    assert_eq!(json_body["headers"]["content-type"], "application/json");
    assert_eq!(json_body["headers"]["x-trace"], "t1");
    assert_eq!(
        serde_json::from_str::<Value>(json_body["body"].as_str().unwrap()).unwrap(),
        json!({"name": "pen", "tags": ["a"]})
    );
    let text_body = send("text").await;
    assert_eq!(
        (&text_body["headers"]["content-type"], &text_body["body"]),
        (&json!("text/plain"), &json!("plain words"))
    );
    let bytes_body = send("bytes").await;
    assert_eq!(bytes_body["body"], "hi");
    let form = send("form").await;
    assert_eq!(form["headers"]["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(form["body"], "a=1&b=x+y");
    let file = send("file").await;
    let content_type = file["headers"]["content-type"].as_str().unwrap();
    assert!(content_type.starts_with("multipart/form-data; boundary="), "{content_type}");
    let body = file["body"].as_str().unwrap();
    assert!(body.contains("name=\"doc\"; filename=\"upload.txt\"") && body.contains("file contents\n"), "{body}");

    let copies = get_json(&host, &format!("/copies?url={}", encoded(&echo))).await;
    assert_eq!(copies, json!({"method": "PUT", "kept": "1"}), "a setter's dropped result changed the request");
}

#[tokio::test]
async fn destinations_the_app_did_not_declare_or_the_operator_did_not_grant_are_refused() {
    let server = TestServer::http().await;
    let (host, _folder) = client_host(&[]);
    // Not declared: refused before any connection.
    let undeclared = fetch(&host, &format!("http://127.0.0.2:{}/hello", server.port())).await;
    assert!(
        error_of(&undeclared).contains("http://127.0.0.2:")
            && error_of(&undeclared).contains("is not in the app's network allow-list"),
        "{undeclared}"
    );
    // Declared, but "localhost" resolves to loopback and only 127.0.0.1 is granted.
    let by_name = fetch(&host, &format!("http://localhost:{}/hello", server.port())).await;
    assert!(
        error_of(&by_name).contains("localhost resolves to 127.0.0.1, a loopback address: the operator must grant it"),
        "{by_name}"
    );
    // A granted server redirecting to an undeclared address, and to a name resolving to
    // loopback: each hop is checked as a request of its own.
    for (target, needle) in [
        ("http://10.1.2.3:9/".to_string(), "http://10.1.2.3:9 is not in the app's network allow-list"),
        (format!("http://localhost:{}/hello", server.port()), "a loopback address"),
    ] {
        let redirect = format!("http://127.0.0.1:{}/redirect?to={target}", server.port());
        let outcome = fetch(&host, &redirect).await;
        assert!(error_of(&outcome).contains(needle), "{target}: {outcome}");
    }
    // A redirect to a granted place is followed.
    let followed =
        fetch(&host, &format!("http://127.0.0.1:{0}/redirect?to=http://127.0.0.1:{0}/hello", server.port())).await;
    assert_eq!(followed["body"], "hello", "{followed}");
}

#[tokio::test]
async fn execute_streaming_calls_back_with_the_head_then_the_body() {
    let server = TestServer::http().await;
    let (host, _folder) = client_host(&[]);
    let url = format!("http://127.0.0.1:{}/hello", server.port());
    assert_eq!(text(host.get("http-client", &format!("/stream?url={}", encoded(&url))).await).await, "streaming");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = text(host.get("http-client", "/read?name=stream.txt").await).await;
        if seen == "200:;200:hello;" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the callback saw {seen:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn slow_and_huge_responses_stop_at_the_apps_limits() {
    let server = TestServer::http().await;
    let (host, _folder) = client_host(&[]);
    let slow = fetch(&host, &format!("http://127.0.0.1:{}/slow", server.port())).await;
    assert!(error_of(&slow).contains("no response within 1s (outbound_timeout)"), "{slow}");
    let huge = fetch(&host, &format!("http://127.0.0.1:{}/huge", server.port())).await;
    assert!(error_of(&huge).contains("larger than the app's outbound_response_limit of 1MiB"), "{huge}");
}

#[tokio::test]
async fn https_trusts_the_operators_ca_file() {
    let ca = TestCa::new();
    let server = TestServer::https(&ca).await;
    let url = format!("https://localhost:{}/hello", server.port());
    {
        let (host, _folder) = client_host(&[]);
        let untrusted = fetch(&host, &url).await;
        assert!(error_of(&untrusted).to_lowercase().contains("certificate"), "{untrusted}");
    }
    let folder = AppsFolder::with(&[]);
    let ca_file = folder.path.join("ca.pem");
    ca.write_to(&ca_file);
    let (host, _apps) = client_host(&["--tls-ca", ca_file.to_str().unwrap()]);
    let trusted = fetch(&host, &url).await;
    assert_eq!(trusted["status"], 200, "{trusted}");
    assert_eq!(trusted["body"], "hello");
}

#[tokio::test]
async fn bad_requests_are_lua_errors_naming_the_call() {
    let (host, _folder) = client_host(&[]);
    let errors = get_json(&host, "/errors").await;
    let expect = |key: &str, needle: &str| {
        let message = errors[key].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{key}: {message:?} lacks {needle:?}");
    };
    expect("bad_argument", "Bad argument, expected string or table");
    expect("no_url", "http.request: the table has no url");
    expect("deprecated", "http.request:set_json is deprecated; use set_body");
    expect("websocket", "http.request:execute_websocket: client WebSockets are not available");
    expect("not_a_url", "http.request:execute: \"not a url\" is not a URL");
}
