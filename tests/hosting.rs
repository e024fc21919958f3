//! Operating the host: which Host names reach which app, app config, the compiled-guest
//! cache, and stopping with requests in flight.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use astra_tests::{Host, StatusLineCounter, apps, raw_request, scratch_dir, text};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;

async fn get_with_host(host: &Host, host_name: &str, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host_name}\r\nConnection: close\r\n\r\n");
    let answer = raw_request(host.addr, request.as_bytes()).await;
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

/// The hosting apps with their operator config, which grants their extra host names.
fn hosting_host(extra: &[&str]) -> Host {
    let config = apps("hosting.toml").display().to_string();
    let mut args = vec!["--config", config.as_str()];
    args.extend_from_slice(extra);
    Host::serve(&apps("hosting"), &args)
}

#[tokio::test]
async fn host_names_reach_their_apps() {
    let host = hosting_host(&["--domain", "apps.test", "--domain", "example.org"]);
    assert_eq!(get_with_host(&host, "shop.localhost", "/").await, (200, "shop".into()));
    assert_eq!(get_with_host(&host, "SHOP.localhost:8080", "/").await, (200, "shop".into()));
    assert_eq!(get_with_host(&host, "shop.apps.test", "/").await, (200, "shop".into()));
    assert_eq!(get_with_host(&host, "blog.example.org", "/").await, (200, "blog".into()));
    // Granted by the operator's config.
    assert_eq!(get_with_host(&host, "www.shop.example.com", "/").await, (200, "shop".into()));
    assert_eq!(get_with_host(&host, "shop.example.com.", "/").await, (200, "shop".into()));
    // No app: 404, and nothing about the apps there are.
    let (status, body) = get_with_host(&host, "blog.example.com", "/").await;
    assert_eq!(status, 404);
    assert!(!body.contains("shop") && !body.contains("blog"), "{body}");
    // The start-up table lists every host of an app.
    assert!(
        host.log().lines().any(|l| l.starts_with("shop ")
            && l.contains("shop.localhost, shop.apps.test, shop.example.org, shop.example.com, www.shop.example.com")
            && l.ends_with("ready")),
        "{}",
        host.log()
    );
}

#[tokio::test]
async fn host_names_an_app_lists_for_itself_are_not_served() {
    let host = hosting_host(&[]);
    // squatter lists shop's own name, blog's granted one and one of its own choosing.
    assert_eq!(get_with_host(&host, "shop.localhost", "/").await, (200, "shop".into()));
    assert_eq!(get_with_host(&host, "news.example.com", "/").await, (200, "blog".into()));
    assert_eq!(get_with_host(&host, "squatter.example.net", "/").await.0, 404);
    for listed in ["shop.localhost", "news.example.com", "squatter.example.net"] {
        let refusal = format!(
            "[squatter] astra.toml: hosts: {listed} is not served: host names beyond the app's own are granted by the \
             operator (hosts in the [apps.squatter] section of the --config file)"
        );
        assert!(host.log().contains(&refusal), "{}", host.log());
    }
    assert_eq!(get_with_host(&host, "squatter.localhost", "/").await, (200, "squatter".into()));
    assert!(host.log().lines().any(|l| l.starts_with("squatter ") && l.contains(" squatter.localhost ")));
}

#[tokio::test]
async fn a_default_app_answers_unknown_hosts() {
    let host = Host::serve(&apps("hosting"), &["--default-app", "blog"]);
    assert_eq!(get_with_host(&host, "nobody.localhost", "/").await, (200, "blog".into()));
    assert_eq!(get_with_host(&host, "shop.localhost", "/").await, (200, "shop".into()));

    let output = std::process::Command::new(astra_tests::binary())
        .args(["--apps", &apps("hosting").display().to_string(), "--default-app", "nosuch", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--default-app nosuch: there is no app folder of that name")
    );
}

#[tokio::test]
async fn app_config_sets_the_entry_script_and_limits() {
    let host = Host::serve(&apps("hosting"), &[]);
    assert_eq!(text(host.get("custom-entry", "/").await).await, "started from src/main.lua");
    assert_eq!(text(host.get("tiny-responses", "/small").await).await.len(), 1024);
    let response = host.get("tiny-responses", "/large").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(response).await, "response size limit exceeded\n");
    assert!(host.log_contains("[tiny-responses] GET /large: the response body is larger than the 1KiB limit").await);
}

#[tokio::test]
async fn response_headers_are_bounded() {
    let host = Host::serve(&apps("hosting"), &[]);
    let fine = host.get("tiny-responses", "/some-headers").await;
    assert_eq!(fine.status(), StatusCode::OK);
    assert!(fine.headers().contains_key("x-header-50"));
    for route in ["/many-headers", "/many-cookies"] {
        let response = host.get("tiny-responses", route).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{route}");
        assert_eq!(text(response).await, "response headers limit exceeded\n");
        let logged = format!("[tiny-responses] GET {route}: the response headers take ");
        assert!(host.log_contains(&logged).await, "{}", host.log());
    }
    assert_eq!(host.log().matches("headers), over the 64 KiB limit").count(), 2, "{}", host.log());
}

#[tokio::test]
async fn an_app_cannot_raise_its_memory_above_what_it_is_given() {
    let apps_dir = scratch_dir("apps");
    std::fs::create_dir_all(apps_dir.join("greedy")).unwrap();
    std::fs::write(apps_dir.join("greedy/init.lua"), "require('http').server.new():run()\n").unwrap();
    std::fs::write(apps_dir.join("greedy/astra.toml"), "[limits]\nmemory = \"1GiB\"\n").unwrap();
    let host = Host::serve(&apps_dir, &[]);
    assert!(
        host.log().contains(
            "[greedy] astra.toml: limits.memory = 1GiB is above the 64MiB this app is given, which applies: \
             an app may only lower its limits"
        ),
        "{}",
        host.log()
    );
    assert!(host.log().lines().any(|line| line.starts_with("greedy ") && line.ends_with(" ready")), "{}", host.log());
    let _ = std::fs::remove_dir_all(apps_dir);
}

#[tokio::test]
async fn the_compiled_guest_is_cached_on_disk() {
    let cache = scratch_dir("cache");
    let cache_arg = cache.display().to_string();
    let other_build = cache.join("guest-0123456789abcdef.cwasm");
    std::fs::write(&other_build, b"compiled by an older astra-host").unwrap();
    let first = Host::serve(&apps("hosting"), &["--cache-dir", &cache_arg]);
    assert!(first.log().contains("compiling the Lua guest"), "{}", first.log());
    drop(first);
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "one compiled guest in the cache, the other build's removed");
    assert!(!other_build.exists());
    let second = Host::serve(&apps("hosting"), &["--cache-dir", &cache_arg]);
    assert!(!second.log().contains("compiling the Lua guest"), "{}", second.log());
    assert_eq!(text(second.get("shop", "/").await).await, "shop");
    let _ = std::fs::remove_dir_all(cache);
}

/// `count` WebSockets to shop's `/hold`, each holding an instance until it is closed, and
/// what each instance sent first: its random token and the order it hashes keys in.
async fn hold_instances(host: &Host, count: usize) -> Vec<(Socket, String)> {
    let mut held = Vec::new();
    for _ in 0..count {
        let stream = TcpStream::connect(host.addr).await.unwrap();
        let url = format!("ws://shop.localhost:{}/hold", host.addr.port());
        let (mut socket, _) = tokio_tungstenite::client_async(url, stream).await.expect("the upgrade succeeds");
        let Some(Ok(Message::Text(first))) = socket.next().await else { panic!("no first message") };
        held.push((socket, first.to_string()));
    }
    held
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let mut host = Host::serve(&apps("hosting"), &[]);
    let slow = tokio::spawn(host.client("shop").get(host.url("shop", "/slow")).send());
    assert!(host.log_contains("[shop] slow request started").await, "{}", host.log());
    host.signal_terminate();
    assert!(host.log_contains("finishing in-flight requests").await, "{}", host.log());
    let response = slow.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "slow request done");
    let status = host.wait();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn instances_of_one_app_are_seeded_apart() {
    let host = Host::serve(&apps("hosting"), &[]);
    let held = hold_instances(&host, 2).await;
    let seen: Vec<(&str, &str)> =
        held.iter().map(|(_, first)| first.split_once(' ').expect("token and order")).collect();
    assert_ne!(seen[0].0, seen[1].0, "two instances started together drew the same math.random");
    assert_ne!(seen[0].1, seen[1].1, "two instances started together hash strings alike");
}

#[tokio::test]
async fn websocket_messages_are_bounded_like_bodies() {
    let host = Host::serve(&astra_tests::workspace().join("examples/apps"), &["--body-limit", "1KiB"]);
    let stream = TcpStream::connect(host.addr).await.unwrap();
    let url = format!("ws://websocket.localhost:{}/", host.addr.port());
    let (mut socket, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let _greeting = socket.next().await;
    socket.send(Message::text("x".repeat(1000))).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text(format!("echo: {}", "x".repeat(1000))));
    socket.send(Message::text("x".repeat(2000))).await.unwrap();
    let ended = socket.next().await;
    assert!(!matches!(ended, Some(Ok(Message::Text(_)))), "an oversized message ends the connection, got {ended:?}");
    assert!(host.log_contains("[websocket] Connection closed").await, "{}", host.log());
}

#[tokio::test]
async fn idle_instances_are_released_but_one_stays_warm() {
    let host = Host::serve(&apps("hosting"), &["--idle-timeout", "300ms"]);
    // Four sockets open at once hold four instances.
    for (mut socket, _) in hold_instances(&host, 4).await {
        socket.close(None).await.unwrap();
    }
    assert!(host.log_contains("[shop] released ").await, "{}", host.log());
    // The warm one still answers at once.
    assert_eq!(text(host.get("shop", "/").await).await, "shop");
}

#[tokio::test]
async fn an_instance_serves_many_requests_without_growing() {
    const REQUESTS: usize = 150_000;
    let host = Host::serve(&apps("hosting"), &[]);
    let stream = TcpStream::connect(host.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        let request = b"GET / HTTP/1.1\r\nHost: soak.localhost\r\n\r\n";
        for _ in 0..REQUESTS / 100 {
            writer.write_all(&request.repeat(100)).await.unwrap();
        }
        writer
    });
    // Pipelined on one connection; count the answers as they come.
    let mut answers = StatusLineCounter::default();
    let mut buffer = vec![0; 1 << 16];
    while answers.count < REQUESTS {
        let read = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("no answer for 60 s after {} answers: {}", answers.count, host.log()))
            .unwrap();
        assert!(read > 0, "the connection closed after {} answers: {}", answers.count, host.log());
        answers.feed(&buffer[..read]);
    }
    let _writer = sending.await.unwrap();
    // One instance, 6 MiB: it served them all and was never replaced.
    assert_eq!(text(host.get("soak", "/served").await).await, REQUESTS.to_string());
    assert!(!host.log().contains("memory limit exceeded"), "{}", host.log());
}
