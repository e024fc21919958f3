//! `stores.pubsub` across an app's instances: the chat example's sockets, each holding an
//! instance of its own, and instances idle in the pool, all hear what one publishes.

use std::time::Duration;

use astra_tests::{AppsFolder, Host, text, workspace};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn join(host: &Host, name: &str) -> Socket {
    let stream = tokio::net::TcpStream::connect(host.addr).await.unwrap();
    let url = format!("ws://chat.localhost:{}/ws?name={name}", host.addr.port());
    tokio_tungstenite::client_async(url, stream).await.expect("the upgrade succeeds").0
}

/// The next chat message a socket gets, as JSON.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn the_chat_example_broadcasts_across_instances() {
    let host = Host::serve(&workspace().join("examples/apps"), &[]);
    let mut ada = join(&host, "ada").await;
    assert_eq!(next(&mut ada).await, json!({"from": "room", "text": "ada joined"}));
    let mut bob = join(&host, "bob").await;
    // Each socket holds its own instance: ada hears bob join from another one.
    assert_eq!(next(&mut bob).await, json!({"from": "room", "text": "bob joined"}));
    assert_eq!(next(&mut ada).await, json!({"from": "room", "text": "bob joined"}));
    ada.send(Message::Text("hello bob".into())).await.unwrap();
    assert_eq!(next(&mut bob).await, json!({"from": "ada", "text": "hello bob"}));
    assert_eq!(next(&mut ada).await, json!({"from": "ada", "text": "hello bob"}));
    bob.close(None).await.unwrap();
    assert_eq!(next(&mut ada).await, json!({"from": "room", "text": "bob left"}));
}

#[tokio::test]
async fn idle_instances_hear_what_another_published() {
    let folder = AppsFolder::with(&["services/pubsub"]);
    let host = Host::serve(&folder.path, &[]);
    // Three instances at once: each holds its instance for half a second.
    let holds = (0..3).map(|_| host.get("pubsub", "/heard?hold=500"));
    for response in futures_util::future::join_all(holds).await {
        assert_eq!(text(response).await, "{}", "nothing heard yet (an empty table)");
    }
    let publish = host.client("pubsub").post(host.url("pubsub", "/publish")).body("it rains").send().await.unwrap();
    assert_eq!(text(publish).await, "published");
    // The idle instances ran their subscriber between requests; every instance now answers
    // with the message, whichever serves the request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let holds = (0..3).map(|_| host.get("pubsub", "/heard?hold=500"));
    for response in futures_util::future::join_all(holds).await {
        let heard: Value = serde_json::from_str(&text(response).await).unwrap();
        assert_eq!(heard, json!(["news: it rains"]));
    }
    let not_json = text(host.get("pubsub", "/not-json").await).await;
    assert!(not_json.contains("stores.pubsub.publish: the data reaches other instances as JSON"), "{not_json}");
}
