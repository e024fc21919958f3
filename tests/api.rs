//! Issue 4, end to end: cookies with a real cookie jar, static files, compression decoded by
//! a real client, forms, multipart, WebSockets with a real client, the datetime, serde and
//! crypto modules, shutdown, and every example of the Astra docs run unchanged.

use std::io::Write as _;
use std::time::{Duration, Instant};

use astra_tests::{Host, apps, raw_request, text, workspace};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

fn api() -> Host {
    Host::serve(&apps("api"), &[])
}

#[tokio::test]
async fn cookies_round_trip_through_a_cookie_jar() {
    let host = Host::serve(&workspace().join("examples/apps"), &[]);
    let client = host.client("cookies");
    for expected in ["visit number 1", "visit number 2", "visit number 3"] {
        let response = client.get(host.url("cookies", "/")).send().await.unwrap();
        assert_eq!(text(response).await, expected);
    }
    let response = client.get(host.url("cookies", "/forget")).send().await.unwrap();
    let removal = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(removal.starts_with("visits=;") && removal.contains("Max-Age=0"), "{removal}");
    let response = client.get(host.url("cookies", "/")).send().await.unwrap();
    assert_eq!(text(response).await, "visit number 1", "the jar dropped the removed cookie");
}

#[tokio::test]
async fn the_seed_cookie_calls() {
    let host = Host::serve(&apps("seed"), &[]);
    let client = host.client("cookies");
    assert_eq!(text(client.get(host.url("cookies", "/")).send().await.unwrap()).await, "HEY");
    assert_eq!(text(client.get(host.url("cookies", "/get")).send().await.unwrap()).await, "no cookie");
    let response = client.get(host.url("cookies", "/set")).send().await.unwrap();
    assert_eq!(response.headers()["set-cookie"], "key=value");
    assert_eq!(text(client.get(host.url("cookies", "/get")).send().await.unwrap()).await, "key=value");
    client.get(host.url("cookies", "/remove")).send().await.unwrap();
    assert_eq!(text(client.get(host.url("cookies", "/get")).send().await.unwrap()).await, "no cookie");

    let response = client.get(host.url("cookies", "/attributes")).send().await.unwrap();
    let set_cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session = set_cookies.iter().find(|c| c.starts_with("session=abc")).expect("the session cookie");
    for attribute in
        ["HttpOnly", "SameSite=Lax", "Path=/", "Domain=cookies.localhost", "Max-Age=600", "Expires=Fri, 01 Jan 2100"]
    {
        assert!(session.contains(attribute), "{attribute} missing from {session}");
    }
    let forever = set_cookies.iter().find(|c| c.starts_with("forever=yes")).expect("the permanent cookie");
    assert!(forever.contains("Max-Age=630720000"), "{forever}");
    let getters = json_of(response).await;
    assert_eq!(
        getters,
        json!({ "name": "session", "value": "abc", "domain": "cookies.localhost", "path": "/",
                "expiration": 4102444800u64, "http_only": true, "max_age": 600, "secure": false,
                "same_site": "lax", "permanent_max_age": 630720000 })
    );
}

#[tokio::test]
async fn static_files_stay_inside_the_app_folder() {
    let host = api();
    let client = host.client("everything");
    let response = client.get(host.url("everything", "/static/hello.txt")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("last-modified"));
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(text(response).await, "hello from a static file\n");
    assert_eq!(
        text(client.get(host.url("everything", "/static/nested/deep.txt")).send().await.unwrap()).await,
        "nested file\n"
    );
    assert_eq!(
        text(client.get(host.url("everything", "/static/")).send().await.unwrap()).await,
        "<p>index of public</p>\n"
    );
    assert_eq!(
        text(client.get(host.url("everything", "/one-file")).send().await.unwrap()).await,
        "hello from a static file\n"
    );

    let ranged =
        client.get(host.url("everything", "/static/hello.txt")).header("range", "bytes=0-4").send().await.unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(text(ranged).await, "hello");

    for attack in [
        "/static/../init.lua",
        "/static/%2e%2e/init.lua",
        "/static/..%2finit.lua",
        "/static/nested/%2e%2e/%2e%2e/init.lua",
        "/static/leak.txt",
        "/static/%2fetc%2fpasswd",
    ] {
        let answer = raw_request(
            host.addr,
            format!("GET {attack} HTTP/1.1\r\nHost: everything.localhost\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 404") || answer.starts_with("HTTP/1.1 400"), "{attack}: {answer}");
        assert!(!answer.contains("server.new") && !answer.contains("root:"), "{attack} leaked: {answer}");
    }
}

#[tokio::test]
async fn a_static_path_outside_the_app_is_a_startup_error() {
    let apps_dir = astra_tests::scratch_dir("apps");
    std::fs::create_dir_all(apps_dir.join("outside")).unwrap();
    std::fs::write(
        apps_dir.join("outside/init.lua"),
        "local s = require('http').server.new()\ns:static_dir('/x', '../')\ns:run()\n",
    )
    .unwrap();
    let host = Host::serve(&apps_dir, &[]);
    assert!(
        host.log_contains("[outside] did not start: init.lua: STATIC_DIR /x: \"../\" is outside the app folder").await,
        "{}",
        host.log()
    );
    let _ = std::fs::remove_dir_all(apps_dir);
}

#[tokio::test]
async fn responses_are_compressed_by_accept_encoding() {
    let host = Host::serve(&workspace().join("examples/apps"), &[]);
    let raw = reqwest::Client::builder()
        .resolve("files.localhost", host.addr)
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .build()
        .unwrap();
    let decoding = host.client("files");
    let url = host.url("files", "/assets/css/site.css");
    let original = std::fs::read_to_string(workspace().join("examples/apps/files/public/css/site.css")).unwrap();
    for encoding in ["gzip", "br", "zstd"] {
        let response = raw.get(&url).header("accept-encoding", encoding).send().await.unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding);
        let compressed = response.bytes().await.unwrap();
        assert!(compressed.len() < original.len() / 4, "{encoding}: {} bytes", compressed.len());
        let response = decoding.get(&url).header("accept-encoding", encoding).send().await.unwrap();
        assert_eq!(text(response).await, original, "{encoding} decodes to the file");
    }
    let response = raw.get(&url).send().await.unwrap();
    assert!(response.headers().get("content-encoding").is_none(), "no Accept-Encoding, no compression");

    // Per route: the config turns compression on and adds headers.
    let host = api();
    let raw = reqwest::Client::builder().resolve("everything.localhost", host.addr).no_gzip().build().unwrap();
    let response = raw.get(host.url("everything", "/big")).header("accept-encoding", "gzip").send().await.unwrap();
    assert!(response.headers().get("content-encoding").is_none(), "compression is off by default");
    let response = raw
        .get(host.url("everything", "/big-route-compressed"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["x-route"], "configured");
}

#[tokio::test]
async fn compressed_request_bodies_are_decompressed() {
    let host = api();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(b"a gzipped request body").unwrap();
    let body = encoder.finish().unwrap();
    let response = host
        .client("everything")
        .post(host.url("everything", "/echo"))
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(text(response).await, "a gzipped request body");
}

#[tokio::test]
async fn forms_multipart_and_client_addresses() {
    let host = api();
    let client = host.client("everything");
    let response = client
        .post(host.url("everything", "/form"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ada+Lovelace&lang=lua%205.4")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await, json!({ "name": "Ada Lovelace", "lang": "lua 5.4" }));

    let form = reqwest::multipart::Form::new().text("note", "just text").part(
        "upload",
        reqwest::multipart::Part::bytes(b"file contents\n".to_vec())
            .file_name("report.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let result = json_of(client.post(host.url("everything", "/multipart")).multipart(form).send().await.unwrap()).await;
    assert_eq!(result["fields"][0], json!({ "name": "note", "text": "just text" }));
    assert_eq!(
        result["fields"][1],
        json!({ "name": "upload", "file_name": "report.txt", "content_type": "text/plain", "text": "file contents\n" })
    );
    assert_eq!(result["file_name"], "report.txt");
    assert_eq!(result["saved"], "report.txt");
    assert_eq!(result["note_bytes"], 9);
    assert_eq!(result["missing"], true);
    assert!(result["note_headers"]["content-disposition"].as_str().unwrap().contains("name=\"note\""));
    let saved = std::fs::read_to_string(host.data_dir.join("everything/report.txt")).unwrap();
    assert_eq!(saved, "file contents\n", "save_file writes into the app's data folder");

    let ip = json_of(client.get(host.url("everything", "/ip")).send().await.unwrap()).await;
    assert_eq!(ip, json!({ "address": "127.0.0.1", "v4": true, "v6": false, "loopback": true }));
}

#[tokio::test]
async fn datetime_serde_and_crypto_modules() {
    let host = api();
    let moment = json_of(host.get("everything", "/datetime").await).await;
    let expected = json!({
        "year": 2024, "month": 2, "day": 29, "weekday": 4, "hour": 13, "minute": 45, "second": 30,
        "millisecond": 250, "epoch": 1709214330250i64, "offset": 0,
        "iso": "2024-02-29T13:45:30.250+00:00", "date": "2024-02-29", "time": "13:45:30.250+00:00",
        "datetime": "2024-02-29T13:45:30.250+00:00", "locale_date": "02/29/24",
        "locale_time": "13:45:30", "locale_datetime": "Thu Feb 29 13:45:30 2024",
        "rfc3339": "2024-02-29T13:45:30.250+00:00", "formatted": "2024/02/29",
        // Astra 0.52 keeps a parsed string's offset (+02:00 here).
        "parsed_utc_hour": 10, "rfc2822_day": 1, "now_year": moment["now_year"],
        "changed": "2024-03-31T07:00:00.000+00:00", "impossible_ok": false,
    });
    assert_eq!(moment, expected);
    assert!(moment["now_year"].as_i64().unwrap() >= 2024);

    let serde = json_of(host.get("everything", "/serde").await).await;
    assert_eq!(serde["encoded_back"], json!({ "list": [1, 2, 3], "name": "lua" }));
    assert_eq!((serde["a2"].clone(), serde["c"].clone()), (json!(false), json!("d")));
    assert_eq!(serde["escaped"], r#"{"s":"a\"b\\c\n\u0001é"}"#);
    assert_eq!(serde["extremes"], "[-9223372036854775808,9223372036854775807,2.5,-0.125,null,7]");
    assert_eq!(serde["invalid_utf8"], "\"bad \u{fffd} byte\"");
    assert_eq!(serde["keys"], r#"{"3":"three"}"#);
    assert_eq!(serde["nested"], r#"{"a":{"b":[{},{"c":true}]}}"#);
    assert!(serde["refused"].as_str().unwrap().contains("a function cannot be sent as JSON"), "{serde}");
    assert!(serde["bad_key"].as_str().unwrap().contains("a boolean key cannot be sent as JSON"), "{serde}");
    assert!(serde["cyclic"].as_str().unwrap().contains("tables nest too deeply"), "{serde}");
    // A table whose border is 0 is an object, even with values in its array part.
    assert_eq!(serde["holes"], r#"{"3":3}"#);
    assert_eq!(serde["float_key"], r#"{"2.5":"x"}"#);
    // An array that goes on past its array part: the constructor puts [3] in the hash part.
    assert_eq!(serde["spilled"], "[1,2,3]");

    let mut decoded = json_of(host.get("everything", "/json-decode").await).await;
    let invalid = decoded["invalid"].take();
    assert!(invalid.as_str().unwrap().contains("the text is not valid JSON"), "{invalid}");
    let deep = decoded["deep"].take();
    assert!(deep.as_str().unwrap().contains("recursion limit exceeded"), "{deep}");
    assert_eq!(
        decoded,
        json!({ "i": i64::MIN, "j": i64::MAX, "big_type": "float", "f": 2.5, "e_type": "float", "s": "é\n",
                "n_is_nil": true, "a1": 1, "inner": 2, "a2len": 2, "o": "v", "invalid": null,
                "duplicate": 2, "deep": null })
    );

    let strings = json_of(host.get("everything", "/json-strings").await).await;
    let expected: Vec<String> = ["\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1f}", "\u{7f}", "é", "\u{fffd}"]
        .iter()
        .flat_map(|special| {
            (1..=18).flat_map(move |length| {
                (0..length).map(move |at| format!("{}{special}{}", "a".repeat(at), "b".repeat(length - 1 - at)))
            })
        })
        .collect();
    assert_eq!(
        strings,
        json!(expected),
        "every escape at every offset of every short length survives a JSON round trip"
    );

    let crypto = json_of(host.get("everything", "/crypto").await).await;
    assert_eq!(crypto["sha2_256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(crypto["sha3_256"], "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    assert!(crypto["sha2_512"].as_str().unwrap().starts_with("ddaf35a193617aba"));
    assert!(crypto["sha3_512"].as_str().unwrap().starts_with("b751850b1a57168a"));
    assert_eq!(crypto["b64"], "aGVsbG8/Pg==");
    assert_eq!(crypto["b64url"], "aGVsbG8_Pg==");
    assert_eq!(crypto["decoded"], "hello?>");
    assert_eq!(crypto["decoded_url"], "hello?>");
}

async fn connect(host: &Host, app: &str, path: &str) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let stream = tokio::net::TcpStream::connect(host.addr).await.unwrap();
    let url = format!("ws://{app}.localhost:{}{path}", host.addr.port());
    let (socket, response) = tokio_tungstenite::client_async(url, stream).await.expect("the upgrade succeeds");
    assert_eq!(response.status(), 101);
    socket
}

#[tokio::test]
async fn websockets_carry_every_message_type() {
    let host = Host::serve(&workspace().join("examples/apps"), &[]);
    let mut socket = connect(&host, "websocket", "/").await;
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("hey there, this is a very informative message."));
    socket.send(Message::text("ping me")).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("echo: ping me"));
    socket.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::binary(vec![1u8, 2, 3]));

    socket.send(Message::text("all kinds")).await.unwrap();
    let mut received = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        received.push(message);
    }
    assert_eq!(
        received,
        vec![
            Message::text("yet another informative message"),
            Message::binary(b"this will be illegible soon".to_vec()),
            Message::binary(vec![0u8, 88, 14, 67, 45]),
            Message::Ping(vec![0u8, 88, 14, 67, 45].into()),
            Message::Pong(vec![17u8, 38, 80, 0, 85].into()),
            Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "finally, done with everything".into()
            })),
        ]
    );
    assert!(host.log_contains("[websocket] Connection opened!").await);
    assert!(host.log_contains("[websocket] Connection closed").await);
}

#[tokio::test]
async fn a_vanished_client_ends_the_seed_loop_and_frees_the_instance() {
    // Two instances: one for a socket, one kept for the routes.
    let host = Host::serve(&apps("seed"), &["--max-instances", "2"]);
    for round in 0..3 {
        let mut socket = connect(&host, "ws-loop", "/").await;
        socket.send(Message::text(format!("round {round}"))).await.unwrap();
        assert!(host.log_contains(&format!("value = \"round {round}\"")).await, "{}", host.log());
        drop(socket); // vanishes without a close frame
        // With one socket's worth of instances, the next connection only succeeds if the
        // handler ended.
    }
    let mut socket = connect(&host, "ws-open", "/").await;
    assert!(matches!(socket.next().await, Some(Ok(Message::Close(_))) | None));
    assert!(host.log_contains("[ws-open] Connection opened!").await);
}

#[tokio::test]
async fn websocket_handlers_get_the_request_and_finish_cleanly() {
    let host = api();
    let mut socket = connect(&host, "everything", "/ws?room=1").await;
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("welcome /ws?room=1"));
    socket.send(Message::text("hi")).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("echo hi"));
    socket.close(None).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while text(host.get("everything", "/ws-ended").await).await != "1" {
        assert!(Instant::now() < deadline, "the handler did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A plain GET to a WebSocket route is refused, not handled.
    assert_ne!(host.get("everything", "/ws").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn pings_reach_the_handler_and_every_close_form_works() {
    let host = api();
    let mut socket = connect(&host, "everything", "/ws").await;
    let _welcome = socket.next().await;
    socket.send(Message::Ping(b"are you there".to_vec().into())).await.unwrap();
    let mut replies = Vec::new();
    while replies.len() < 2 {
        replies.push(socket.next().await.unwrap().unwrap());
    }
    // The protocol answers the ping by itself, and the handler sees it too.
    assert!(replies.contains(&Message::Pong(b"are you there".to_vec().into())), "{replies:?}");
    assert!(replies.contains(&Message::text("got a ping: are you there")), "{replies:?}");

    socket.send(Message::text("close with a code")).await.unwrap();
    let closing = socket.next().await.unwrap().unwrap();
    assert_eq!(closing, Message::Close(Some(CloseFrame { code: CloseCode::Away, reason: "".into() })));

    let mut socket = connect(&host, "everything", "/ws").await;
    let _welcome = socket.next().await;
    socket.send(Message::text("close bare")).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::Close(None));

    // A handler's error closes the socket and is logged under the route.
    let mut socket = connect(&host, "everything", "/ws").await;
    let _welcome = socket.next().await;
    socket.send(Message::text("raise")).await.unwrap();
    assert!(!matches!(socket.next().await, Some(Ok(Message::Text(_)))));
    let logged = "[everything] WEBSOCKET /ws: init.lua:112: raised on purpose";
    assert!(host.log_contains(logged).await, "{}", host.log());
}

#[tokio::test]
async fn shutdown_stops_only_that_app_under_apps() {
    let host = api();
    assert_eq!(text(host.get("stopper", "/").await).await, "running");
    assert_eq!(text(host.get("stopper", "/stop").await).await, "stopping");
    let response = host.get("stopper", "/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text(response).await, "this app has shut down\n");
    assert_eq!(host.get("everything", "/ip").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_seed_examples_run_unchanged() {
    let host = Host::serve(&apps("seed"), &[]);
    let log = host.log();
    for app in [
        "minimal",
        "configuration",
        "requests",
        "responses",
        "cookies",
        "ws-open",
        "ws-loop",
        "middleware-basic",
        "middleware-context",
        "middleware-chain",
    ] {
        assert!(log.lines().any(|l| l.starts_with(app) && l.ends_with("ready")), "{app} is not ready:\n{log}");
    }
    assert_eq!(host.get("minimal", "/").await.status(), StatusCode::NOT_FOUND);
    assert!(text(host.get("configuration", "/").await).await.starts_with("hello from default Astra instance! "));

    let response = host.client("requests").get(host.url("requests", "/")).header("x-seed", "1").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(host.log_contains("[\"x-seed\"] = \"1\"").await, "{}", host.log());

    let response = host.get("responses", "/").await;
    assert_eq!(response.status().as_u16(), 300);
    assert_eq!(response.headers()["header-key"], "header-value");
    assert_eq!(text(response).await, "Responding with Code 300 cuz why not");

    let response = host.get("middleware-basic", "/sunny-day-plain-text").await;
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    let response = host.get("middleware-basic", "/sunny-day-html").await;
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(text(response).await, "What a great sunny day!");

    for (app, path) in [
        ("middleware-context", "/favourite-day"),
        ("middleware-chain", "/favourite-day"),
        ("middleware-chain", "/favourite-day-again"),
    ] {
        let response = host.get(app, path).await;
        assert_eq!(response.headers()["content-type"], "text/html", "{app}{path}");
        let body = text(response).await;
        assert!(body.starts_with("My favourite day is ") && body.matches('/').count() == 2, "{app}{path}: {body}");
    }
}

#[tokio::test]
async fn the_full_middleware_example_logs_to_its_data_folder() {
    let host = Host::serve(&workspace().join("examples/apps"), &[]);
    let response = host.get("middleware", "/sunny-day").await;
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(text(response).await, "What a great sunny day!");
    assert_eq!(text(host.get("middleware", "/normal-day").await).await, "It's a normal day... I guess...");
    assert!(text(host.get("middleware", "/favourite-day").await).await.starts_with("My favourite day is "));
    let logged = std::fs::read_to_string(host.data_dir.join("middleware/logs.txt")).unwrap();
    let lines: Vec<&str> = logged.lines().collect();
    assert_eq!(lines.len(), 3, "{logged}");
    assert!(lines[0].starts_with("[New Request ") && lines[0].ends_with("] GET /sunny-day"), "{logged}");
    assert!(lines[2].ends_with("] GET /favourite-day"), "{logged}");
}

#[test]
fn export_writes_editor_definitions() {
    let dir = astra_tests::scratch_dir("export");
    let output = std::process::Command::new(astra_tests::binary()).arg("export").arg(&dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("astra.d.lua"));
    let definitions = std::fs::read_to_string(dir.join(".astra/astra.d.lua")).unwrap();
    for needle in [
        "---@class HTTPServerRequest",
        "---@class HTTPServerResponse",
        "---@class Cookie",
        "---@class WebSocket",
        "function HTTPServer:websocket",
        "---@class DateTime",
        "---@class CryptoModule",
        "function pprint",
    ] {
        assert!(definitions.contains(needle), "{needle} missing");
    }
    let luarc: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(".luarc.json")).unwrap()).unwrap();
    assert_eq!(luarc["workspace.library"], json!([".astra"]));
    let _ = std::fs::remove_dir_all(dir);
}

/// The guestbook example, as a new user would try it: a YAML config, templates with
/// inheritance from its templates/ folder, a form checked by `validation`, entries kept in
/// its data folder.
#[tokio::test]
async fn the_guestbook_example_serves_validates_and_keeps_its_entries() {
    let host = Host::serve(&workspace().join("examples/apps"), &[]);
    let client = host.client("guestbook");
    let home = host.get("guestbook", "/").await;
    assert_eq!(home.headers()["content-type"], "text/html; charset=utf-8");
    let home = home.text().await.unwrap();
    assert!(home.contains("<title>Guestbook</title>") && home.contains("Leave a line for the next visitor."), "{home}");
    assert!(home.contains("Nobody has signed yet.") && home.contains("maxlength=\"280\""), "{home}");

    let sign = |form: &'static str| {
        client
            .post(host.url("guestbook", "/sign"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let signed = sign("name=Ada&message=Hello+%3Cthere%3E").await.unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed.headers()["location"], "/");
    let home = host.get("guestbook", "/").await.text().await.unwrap();
    assert!(home.contains("<h2>1 entry</h2>"), "{home}");
    assert!(home.contains("Hello &lt;there&gt;<br>&mdash; Ada,"), "the message is escaped: {home}");
    let saved = std::fs::read_to_string(host.data_dir.join("guestbook/entries.json")).unwrap();
    assert!(saved.contains("\"name\":\"Ada\""), "{saved}");

    for (form, error) in [
        ("name=%3Cb%3E&message=x", "Please check the form: name: string does not match pattern"),
        ("message=x", "Please check the form: name: expected string, got nil"),
        ("name=Bob&message=", "A message is 1 to 280 characters."),
    ] {
        let refused = sign(form).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{form}");
        let page = refused.text().await.unwrap();
        assert!(page.contains(&format!("<p class=\"error\">{error}</p>")), "{form}: {page}");
    }
    assert!(host.get("guestbook", "/").await.text().await.unwrap().contains("<h2>1 entry</h2>"));
}
