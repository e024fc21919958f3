//! The pure modules from an app's routes: `validation` (with `regex`) and `stores`.

use astra_tests::{Host, apps, text};
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
