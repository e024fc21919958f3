//! The modules from an app's routes: `validation` (with `regex`), `stores`, and `fs` on the
//! file view.

use astra_tests::{AppsFolder, Host, apps, scratch_dir, text};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn host() -> Host {
    Host::serve(&apps("stdlib"), &[])
}

async fn post(host: &Host, app: &str, path: &str, body: &str) -> (StatusCode, String) {
    let response = host.client(app).post(host.url(app, path)).body(body.to_string()).send().await.unwrap();
    (response.status(), text(response).await)
}

#[tokio::test]
async fn validation_checks_a_form_and_fills_its_defaults() {
    let host = host();
    let (status, body) =
        post(&host, "validation", "/signup", r#"{"name":"Ada Lovelace","email":"ada@example.com"}"#).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        user,
        json!({ "name": "Ada Lovelace", "email": "ada@example.com", "plan": "free", "slug": "ada-lovelace" })
    );
    for (form, error) in [
        (r#"{"name":"Ada","email":"not an email"}"#, "email: string does not match pattern"),
        (r#"{"name":"Ada","email":"a@b","age":12}"#, "age: out of range"),
        (r#"{"name":"Ada","email":"a@b","age":13.5}"#, "age: expected integer, got 13.5"),
        (r#"{"email":"a@b"}"#, "name: expected string, got nil"),
        (r#"{"name":"Ada","email":"a@b","admin":true}"#, "unexpected key: admin"),
    ] {
        let (status, body) = post(&host, "validation", "/signup", form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], error, "{form}");
    }
}

#[tokio::test]
async fn stores_keep_their_state_in_the_instance() {
    let host = host();
    for expected in 1..=3 {
        let (_, body) = post(&host, "stores", "/visit", "").await;
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["visits"], expected);
    }
    post(&host, "stores", "/note", "first").await;
    let (_, body) = post(&host, "stores", "/note", "second").await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!(["notes: first", "notes: second"]));
}

async fn json(host: &Host, app: &str, method: reqwest::Method, path: &str, body: &str) -> Value {
    let response = host.client(app).request(method, host.url(app, path)).body(body.to_string()).send().await.unwrap();
    response.json().await.unwrap()
}

async fn get(host: &Host, path: &str) -> Value {
    json(host, "files", reqwest::Method::GET, path, "").await
}

#[tokio::test]
async fn fs_reads_the_app_folder_and_writes_the_data_folder() {
    let folder = AppsFolder::with(&["stdlib/files"]);
    let outside = scratch_dir("outside");
    std::fs::write(outside.join("secret.txt"), "the host's").unwrap();
    folder.link("files", "content/escape.txt", &outside.join("secret.txt"));
    let host = Host::serve(&folder.path, &[]);

    assert_eq!(get(&host, "/read?path=content/readme.txt").await["result"], "shipped with the app\n");
    let written = json(&host, "files", reqwest::Method::POST, "/write?path=content/new.txt", "fresh").await;
    assert_eq!(written["ok"], true, "{written}");
    assert_eq!(std::fs::read_to_string(host.data_dir.join("files/content/new.txt")).unwrap(), "fresh");
    assert!(!folder.file("files", "content/new.txt").exists(), "the app folder is not written to");
    assert_eq!(get(&host, "/list?path=content").await["result"], json!(["escape.txt", "new.txt", "readme.txt"]));

    for path in ["content/escape.txt", "/etc/passwd", "../../../etc/passwd", "../files/init.lua/x"] {
        let read = get(&host, &format!("/read?path={path}")).await;
        assert_eq!(read["ok"], false, "{path}: {read}");
    }
    let escaped = get(&host, "/read?path=content/escape.txt").await;
    assert!(!escaped.to_string().contains("the host's"), "{escaped}");
    let outside_write = json(&host, "files", reqwest::Method::POST, "/write?path=../../outside.txt", "x").await;
    assert_eq!(outside_write["ok"], true, "`..` stops at the view's root: {outside_write}");
    assert!(host.data_dir.join("files/outside.txt").exists());
}

async fn post_json(host: &Host, app: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let (status, text) = post(host, app, path, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn serde_decodes_and_encodes_every_format() {
    let host = host();
    let document = json!({ "name": "astra", "port": 8080, "tags": ["web", "lua"], "db": { "host": "localhost" } });
    for (format, text) in [
        ("json", r#"{"name":"astra","port":8080,"tags":["web","lua"],"db":{"host":"localhost"}}"#),
        ("json5", "{name: 'astra', port: 8080, tags: ['web', 'lua',], db: {host: 'localhost'}} // done"),
        ("yaml", "name: astra\nport: 8080\ntags: [web, lua]\ndb:\n  host: localhost\n"),
        ("toml", "name = 'astra'\nport = 8080\ntags = ['web', 'lua']\n[db]\nhost = 'localhost'\n"),
    ] {
        let (status, decoded) = post_json(&host, "serde", &format!("/{format}/decode"), text).await;
        assert_eq!((status, &decoded), (StatusCode::OK, &document), "{format}");
        let (status, encoded) = post(&host, "serde", &format!("/{format}/encode"), &document.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{format}: {encoded}");
        let (_, again) = post_json(&host, "serde", &format!("/{format}/decode"), &encoded).await;
        assert_eq!(again, document, "{format} round trip through {encoded}");
    }

    let (_, ini) = post_json(&host, "serde", "/ini/decode", "name = \"astra\"\n[db]\nport = 5432\n").await;
    assert_eq!(ini, json!({ "name": "\"astra\"", "db": { "port": "5432" } }));
    let (_, ini) = post(&host, "serde", "/ini/encode", r#"{"db":{"port":"5432"},"name":"astra"}"#).await;
    assert_eq!(ini.replace("\r\n", "\n"), "name=astra\n[db]\nport=5432\n");

    let (_, xml) = post(&host, "serde", "/xml/encode", r#"{"@id":"7","item":["a","b"]}"#).await;
    assert_eq!(xml, r#"<root id="7"><item>a</item><item>b</item></root>"#);
    let (_, decoded) = post_json(&host, "serde", "/xml/decode", &xml).await;
    assert_eq!(decoded, json!({ "@id": "7", "item": [{ "$text": "a" }, { "$text": "b" }] }));

    let (_, csv) = post_json(&host, "serde", "/csv/decode", "name,age\nAda,36\nbroken\nBob,41\n").await;
    assert_eq!(csv, json!({ "headers": ["name", "age"], "body": [["Ada", 36], ["Bob", 41]] }));

    for (format, text, message) in [
        ("json", "{", "the text is not valid JSON"),
        ("json5", "{a: }", "the text is not valid JSON5"),
        ("yaml", "a: 1\n---\nb: 2\n", "more than one document"),
        ("toml", "a = ", "the text is not valid TOML"),
        ("xml", "<a><b></a>", "the text is not valid XML"),
    ] {
        let (status, error) = post_json(&host, "serde", &format!("/{format}/decode"), text).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{format}");
        assert!(error["error"].as_str().unwrap().contains(message), "{format}: {error}");
    }
    let (status, error) = post_json(&host, "serde", "/toml/encode", "[1, 2]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().unwrap().starts_with("cannot encode as TOML"), "{error}");
}

#[tokio::test]
async fn utils_loads_the_env_files_in_astras_order_and_reports_a_bad_line() {
    let host = host();
    let env = json(&host, "utils", reqwest::Method::GET, "/env", "").await;
    assert_eq!(
        env,
        json!({ "A": "env", "B": "production", "C": "local", "D": "env-local", "E": "toml", "DEV_BEFORE": "loaded" })
    );
    let warning = "[utils] .env.dev:2: cannot parse \"this line is broken\"; it and the lines after it are not loaded";
    assert!(host.log_contains(warning).await, "{}", host.log());
    assert_eq!(host.log().matches(".env.dev:2").count(), 1, "reported once, not by every instance");

    let first = json(&host, "utils", reqwest::Method::GET, "/uuid", "").await["uuid"].clone();
    let second = json(&host, "utils", reqwest::Method::GET, "/uuid", "").await["uuid"].clone();
    assert_ne!(first, second);
    assert_eq!(first.as_str().unwrap().len(), 36, "{first}");
    assert_eq!(json(&host, "utils", reqwest::Method::POST, "/env/LOCAL", "mine").await, json!({ "LOCAL": "mine" }));
    assert_eq!(json(&host, "utils", reqwest::Method::GET, "/dotenv", "").await, json!({ "extra": "from extra.env" }));
    assert_eq!(json(&host, "utils", reqwest::Method::GET, "/reloaded", "").await, json!({ "fresh": true }));
}

#[tokio::test]
async fn templates_serve_pages_render_markdown_and_reload_in_debug_mode() {
    let folder = AppsFolder::with(&["stdlib/templates"]);
    let host = Host::serve(&folder.path, &[]);
    let page = |path: &'static str| {
        let host = &host;
        async move {
            let response = host.get("templates", path).await;
            let status = response.status();
            let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
            (status, content_type.unwrap_or_default(), text(response).await)
        }
    };

    let (status, content_type, index) = page("/").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/html"));
    assert!(index.contains("<title>Test site</title>"), "{index}");
    assert!(index.contains("<body>Welcome, everyone, to Test site.</body>"), "{index}");
    for path in ["/about", "/about/"] {
        let (status, _, about) = page(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(about.contains("<title>About</title>") && about.contains("[0][1][2]"), "{about}");
    }
    assert_eq!(page("/blog/post").await.0, StatusCode::NOT_FOUND, "excluded templates get no route");

    let (status, _, post) = page("/post/hello").await;
    assert_eq!(status, StatusCode::OK, "{post}");
    assert!(post.contains("<title>HELLO</title>"), "{post}");
    assert!(post.contains("<h1>Hello</h1>") && post.contains("<em>first</em>"), "{post}");
    assert!(post.contains("&lt;script&gt;") && !post.contains("<script>"), "raw HTML is escaped: {post}");
    assert_eq!(page("/post/missing").await.0, StatusCode::NOT_FOUND);

    assert_eq!(page("/page").await.2, "version one");
    assert_eq!(page("/debug").await.2, "false");
    let (_, content_type, script) = page("/debug.js").await;
    assert_eq!(content_type, "text/javascript");
    assert!(script.contains("fetch(\"/debug\")"), "{script}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    folder.write("templates", "live/page.html", "version two");
    assert_eq!(page("/debug").await.2, "true");
    assert_eq!(page("/page").await.2, "version two");
}

#[tokio::test]
async fn datetime_keeps_local_time_in_the_apps_zone() {
    let host = host();
    let get = |path: &'static str| json(&host, "datetime", reqwest::Method::GET, path, "");
    assert_eq!(
        get("/local?year=2024&month=7&day=4&hour=9").await,
        json!({ "rfc3339": "2024-07-04T09:00:00+05:30", "offset": 330, "weekday": 4 })
    );
    assert_eq!(
        json(&host, "datetime", reqwest::Method::POST, "/parse", "2020-12-25T07:30:45.5-03:00").await,
        json!({
            "iso": "2020-12-25T07:30:45.500-03:00",
            "utc": "2020-12-25T10:30:45.500+00:00",
            "here": "2020-12-25T16:00:45.500+05:30"
        })
    );
    let refused = json(&host, "datetime", reqwest::Method::POST, "/parse", "not a date").await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid date string (date-only | RFC 3339 | RFC 2822): not a date"),
        "{refused}"
    );
    assert_eq!(
        get("/next-month?date=2023-01-31").await,
        json!({ "date": "2023-02-28", "formatted": "31 January 2023" })
    );
    let bad_format = get("/format?with=%25Q").await;
    assert!(bad_format["error"].as_str().unwrap().contains("is not a valid strftime format"), "{bad_format}");
    assert_eq!(get("/os-date?at=0").await, json!({ "text": "1970-01-01 05:30 +0530" }));
}

#[tokio::test]
async fn an_app_without_a_zone_keeps_the_hosts_and_a_bad_zone_is_named() {
    let folder = AppsFolder::with(&["stdlib/datetime-host", "stdlib/datetime"]);
    folder.write("datetime", "astra.toml", "timezone = \"../../../etc/passwd\"\n");
    let host = Host::serve_with_env(&folder.path, &[], &[("TZ", "Europe/Berlin")]);
    let local = json(&host, "datetime-host", reqwest::Method::GET, "/", "").await;
    assert_eq!(local, json!({ "summer": 120, "text": "14:00 CEST" }));
    assert_eq!(host.get("datetime", "/local").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let refusal = "[datetime] did not start: astra.toml: timezone: \"../../../etc/passwd\" is not a time zone name";
    assert!(host.log_contains(refusal).await, "{}", host.log());
}
