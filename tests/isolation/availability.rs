//! What one client or app can take from others: the long-call lane held while waiting on a
//! client (H7), every instance of an app held by idle sockets or slow uploads (M3), and
//! worker threads held by compressing a response (M4).

use std::time::Duration;

use astra_tests::{AppsFolder, Host, text};
use futures_util::StreamExt;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::assert_good;

/// The good app's 20 ms route, which must answer in seconds, not when a stall ends.
async fn work_is_done(host: &Host) {
    let work = tokio::time::timeout(Duration::from_secs(10), host.get("good", "/work")).await;
    let response = work.expect("the good app's long route waited on another's client");
    assert_eq!(text(response).await, "worked 20ms");
}

/// A POST of `length` bytes with only `sent` of them sent.
async fn stalled_post(host: &Host, app: &str, path: &str, length: usize, sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(host.addr).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: {app}.localhost\r\nContent-Length: {length}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b'x'; sent]).await.unwrap();
    stream
}

/// H7: with two workers there is one lane for long calls, and a call held it while it
/// waited for a slow body or for a client to read what it sent: every app's long routes
/// waited (8 s, 30 s, for ever).
#[tokio::test]
async fn a_call_waiting_on_its_client_holds_no_lane() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/big", "attacks/sockets"]);
    let host = Host::serve(&folder.path, &["--workers", "2"]);
    let _slow_body = stalled_post(&host, "big", "/spin-read", 100, 0).await;
    work_is_done(&host).await;

    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(host.addr).await.unwrap();
    let url = format!("ws://sockets.localhost:{}/flood", host.addr.port());
    let (_flooded, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    // The handler spins 20 ms, then sends until its client's buffers are full.
    tokio::time::sleep(Duration::from_millis(500)).await;
    work_is_done(&host).await;
}

/// M3: eight idle WebSockets held every instance of an app, and its HTTP routes got 503
/// after 30 s, for as long as the sockets stayed open; eight slow uploads did the same.
#[tokio::test]
async fn idle_sockets_and_slow_uploads_cannot_hold_every_instance() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/big", "attacks/sockets"]);
    let host = Host::serve(&folder.path, &["--max-instances", "3", "--websocket-idle-timeout", "1s"]);
    let url = format!("ws://sockets.localhost:{}/echo", host.addr.port());
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let stream = TcpStream::connect(host.addr).await.unwrap();
        let (socket, _) = tokio_tungstenite::client_async(url.clone(), stream).await.unwrap();
        sockets.push(socket);
    }
    // Two sockets may hold instances (the third waited for one to be closed for being
    // idle); the app's routes keep the third instance.
    let routes = tokio::time::timeout(Duration::from_secs(10), host.get("sockets", "/")).await;
    assert_eq!(text(routes.expect("the app's routes were held by its sockets")).await, "sockets");
    let first = tokio::time::timeout(Duration::from_secs(10), sockets[0].next()).await;
    let first = first.expect("an idle socket stayed open").expect("a close frame").unwrap();
    let Message::Close(Some(frame)) = first else { panic!("{first:?}") };
    assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::Away, "idle for too long"));
    assert!(host.log_contains("[sockets] a WebSocket was closed after 1s without a message").await);

    let mut uploads = Vec::new();
    for _ in 0..10 {
        uploads.push(stalled_post(&host, "big", "/spin-read", 100, 10).await);
    }
    let routes = tokio::time::timeout(Duration::from_secs(10), host.get("big", "/")).await;
    assert_eq!(text(routes.expect("the app's routes waited behind slow uploads")).await, "big");
    for mut upload in uploads {
        upload.write_all(&[b'x'; 90]).await.unwrap();
        let mut answer = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buffer = [0; 4096];
            while !answer.contains("read 100") {
                let read = tokio::io::AsyncReadExt::read(&mut upload, &mut buffer).await.unwrap();
                if read == 0 {
                    break;
                }
                answer.push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        })
        .await;
        assert!(answer.ends_with("read 100"), "{answer}");
    }
    assert_good(&host).await;
}

/// M4: compressing a response ran on a worker thread outside the app's CPU budget and the
/// lanes (0.54 s for 16 MiB of gzip). It is now the app's work: past the app's CPU time
/// limit the response is cut off.
#[tokio::test]
async fn compressing_a_response_is_charged_to_its_app() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/compressor"]);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..16 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(folder.file("compressor", "random.bin"), &random).unwrap();
    let host = Host::serve(&folder.path, &[]);
    let client = reqwest::Client::builder().resolve("compressor.localhost", host.addr).no_gzip().build().unwrap();
    let url = host.url("compressor", "/random.bin");
    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(plain.bytes().await.unwrap().len(), random.len(), "sent as it is, it costs nothing to compress");

    let compressed = client.get(&url).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(compressed.status(), StatusCode::OK);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    assert!(compressed.bytes().await.is_err(), "the response was compressed whole, past the CPU time limit");
    let stopped = "[compressor] GET /random.bin: compressing the response took its CPU time limit";
    assert!(host.log_contains(stopped).await, "{}", host.log());
    assert_good(&host).await;
}
