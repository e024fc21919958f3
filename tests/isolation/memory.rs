//! What a client or an app can make the host hold: responses for clients that do not read
//! (H2), pongs for a client that pings without reading (H3), a decompressed body (H4).

use std::time::{Duration, Instant};

use astra_tests::{AppsFolder, Host};
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::assert_good;

/// A connection with a small receive buffer, so that what the host sends stays with the host.
async fn stingy_connection(host: &Host) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(host.addr).await.unwrap()
}

/// H2: a 16 MiB response stayed in host memory for every client that did not read it,
/// with no write timeout (100 such clients held 1.6 GB). Now an app's responses in flight
/// are held within its buffer_limit (64 MiB), beyond which it answers 503, and a client
/// that takes nothing for the write timeout is cut off.
#[tokio::test]
async fn responses_held_for_clients_that_do_not_read_are_bounded() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/big"]);
    // One instance: what is held is the responses, not the instances making them.
    let host = Host::serve(&folder.path, &["--max-instances", "1", "--write-timeout", "2s"]);
    assert_eq!(host.get("big", "/").await.status(), StatusCode::OK);
    let before = host.resident_kib();
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut stream = stingy_connection(&host).await;
        stream.write_all(b"GET /big HTTP/1.1\r\nHost: big.localhost\r\n\r\n").await.unwrap();
        stalled.push(stream);
    }
    let refused = "GET /big: a response of 16777152 bytes waits for room: the app's clients hold its buffer_limit";
    assert!(host.log_count_reaches(refused, 16).await, "{}", host.log());
    let grown = host.resident_kib().saturating_sub(before);
    assert!(grown < 150 * 1024, "20 stalled clients of a 16 MiB response grew the host by {grown} KiB");
    assert_good(&host).await;

    // The write timeout cuts the stalled clients off, and their room is given back.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = host.get("big", "/big").await;
        if response.status() == StatusCode::OK {
            assert_eq!(response.bytes().await.unwrap().len(), 16 * 1024 * 1024 - 64);
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the stalled clients were never cut off");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each stalled client was either cut off mid-response or refused with a whole 503.
    let (mut cut_off, mut refused) = (0, 0);
    for mut stream in stalled {
        let mut answer = Vec::new();
        let mut buffer = vec![0; 1 << 16];
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while !answer.ends_with(b"(buffer_limit)\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return true,
                    Ok(read) => answer.extend_from_slice(&buffer[..read]),
                }
            }
            false
        })
        .await
        .expect("a stalled client got neither its response nor the end of its connection");
        if ended {
            assert!(
                answer.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&answer[..answer.len().min(200)])
            );
            cut_off += 1;
        } else {
            assert!(answer.starts_with(b"HTTP/1.1 503"), "{}", String::from_utf8_lossy(&answer));
            refused += 1;
        }
    }
    assert!(cut_off >= 1 && refused >= 16, "{cut_off} cut off, {refused} refused");
}

/// A raw WebSocket handshake on `stream`.
async fn upgrade(stream: &mut TcpStream, app: &str, path: &str) {
    let handshake = format!(
        "GET {path} HTTP/1.1\r\nHost: {app}.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
}

/// H3: while a handler waited in `recv`, every ping got a pong queued for a client that
/// never read them: the host grew by 52 MB a second, without end. The write buffer is now
/// bounded, and the client is cut off by the write timeout.
#[tokio::test]
async fn a_ping_flood_without_reading_is_bounded_and_cut_off() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/sockets"]);
    let host = Host::serve(&folder.path, &["--write-timeout", "1s"]);
    let before = host.resident_kib();
    let mut stream = stingy_connection(&host).await;
    upgrade(&mut stream, "sockets", "/echo").await;
    let mask = [1u8, 2, 3, 4];
    let mut ping = vec![0x89, 0x80 | 125];
    ping.extend_from_slice(&mask);
    ping.extend((0..125).map(|i| b'p' ^ mask[i % 4]));
    let pings = ping.repeat(100);
    let started = Instant::now();
    let mut grew_most = 0;
    let cut_off = loop {
        if stream.write_all(&pings).await.is_err() {
            break true;
        }
        grew_most = grew_most.max(host.resident_kib().saturating_sub(before));
        if started.elapsed() > Duration::from_secs(15) {
            break false;
        }
    };
    assert!(cut_off, "the host kept reading pings for 15 s from a client that reads nothing");
    assert!(grew_most < 64 * 1024, "the ping flood grew the host by {grew_most} KiB");
    assert_good(&host).await;
}

/// H4: a route's own `body_limit` had no ceiling, so a 64 KiB gzip bomb to a route of
/// `body_limit = 1 << 40` was inflated to 64 MiB in host memory. A route's limit is now
/// capped by the app's, and the body is counted as it is decoded.
#[tokio::test]
async fn a_route_cannot_raise_its_body_limit_above_the_apps() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/big"]);
    let host = Host::serve(&folder.path, &[]);
    let warning = "[big] POST /upload: config.body_limit is above the app's body_limit of 2MiB, which applies";
    assert!(host.log().contains(warning), "{}", host.log());

    let mut bomb = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        std::io::Write::write_all(&mut bomb, &zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 128 * 1024);
    let before = host.resident_kib();
    let response = host
        .client("big")
        .post(host.url("big", "/upload"))
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().await.unwrap().contains("this route's limit of 2097152 bytes"));
    let grown = host.resident_kib().saturating_sub(before);
    assert!(grown < 32 * 1024, "the bomb grew the host by {grown} KiB");
    // Within the limit, the route still reads its body.
    let response = host.client("big").post(host.url("big", "/upload")).body(vec![b'x'; 1 << 20]).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "read 1048576");
    assert_good(&host).await;
}
