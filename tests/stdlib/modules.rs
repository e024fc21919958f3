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
