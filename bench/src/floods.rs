//! The `floods` scenario: what a client can make astra-host hold, as its resident memory
//! before, at the peak of, and after each flood of the adversarial test (SECURITY.md).
//! Each row states the bound the host keeps to, which the peak is read against.

use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::Row;
use crate::servers::{Server, workspace};

pub async fn floods() -> Vec<Row> {
    let apps = workspace().join("bench/apps-floods");
    let host = Server::astra_host(&apps, &["--write-timeout", "5s"]).await;
    let _ = host.get("floods", "/").await;
    vec![stalled_readers(&host).await, ping_flood(&host).await, decompression_bombs(&host).await]
}

/// Resident memory now, and the most of it while `flood` runs (sampled every 50 ms).
async fn measured<F: std::future::Future<Output = String>>(host: &Server, flood: F) -> (f64, f64, f64, String) {
    let before = host.resident_mib();
    let mut flood = std::pin::pin!(flood);
    let mut peak = before;
    let outcome = loop {
        tokio::select! {
            outcome = &mut flood => break outcome,
            () = tokio::time::sleep(Duration::from_millis(50)) => peak = peak.max(host.resident_mib()),
        }
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    (before, peak.max(host.resident_mib()), host.resident_mib(), outcome)
}

fn row(what: &str, (before, peak, after, outcome): (f64, f64, f64, String), bound: &str) -> Row {
    Row::note(
        what,
        format!(
            "RSS {before:.0} MiB before, {peak:.0} MiB at the peak (+{:.0}), {after:.0} MiB after; {outcome}; bound: {bound}",
            peak - before
        ),
    )
}

async fn stingy_connection(host: &Server) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.set_recv_buffer_size(4096).ok()?;
    socket.connect(host.addr).await.ok()
}

/// 100 clients ask for a 16 MiB response and read nothing for 8 s.
async fn stalled_readers(host: &Server) -> Row {
    let flood = async {
        let mut stalled = Vec::new();
        for _ in 0..100 {
            if let Some(mut stream) = stingy_connection(host).await {
                let _ = stream.write_all(b"GET /big HTTP/1.1\r\nHost: floods.localhost\r\n\r\n").await;
                stalled.push(stream);
            }
        }
        tokio::time::sleep(Duration::from_secs(8)).await;
        let mut refused = 0;
        for stream in &mut stalled {
            let mut head = [0; 12];
            if stream.read_exact(&mut head).await.is_ok() && head.starts_with(b"HTTP/1.1 503") {
                refused += 1;
            }
        }
        format!("{refused} of 100 refused (503)")
    };
    let bound = "the app's instances, 8 × (64 MiB of memory + a 16 MiB response being made), and its \
                 buffer_limit of responses held, 64 MiB: 704 MiB (100 such clients held 1.6 GB before it)";
    row("100 clients not reading a 16 MiB response", measured(host, flood).await, bound)
}

/// One client sends pings without reading the pongs, for up to 15 s.
async fn ping_flood(host: &Server) -> Row {
    let flood = async {
        let Some(mut stream) = stingy_connection(host).await else { return "could not connect".to_string() };
        let handshake = "GET /echo HTTP/1.1\r\nHost: floods.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let mut head = [0; 12];
        if stream.write_all(handshake.as_bytes()).await.is_err() || stream.read_exact(&mut head).await.is_err() {
            return "the upgrade failed".into();
        }
        let mask = [1u8, 2, 3, 4];
        let mut ping = vec![0x89, 0x80 | 125];
        ping.extend_from_slice(&mask);
        ping.extend((0..125).map(|i| b'p' ^ mask[i % 4]));
        let pings = ping.repeat(100);
        let started = Instant::now();
        let mut sent = 0u64;
        while started.elapsed() < Duration::from_secs(15) {
            if stream.write_all(&pings).await.is_err() {
                return format!("{sent} pings, then cut off after {:.1} s", started.elapsed().as_secs_f64());
            }
            sent += 100;
        }
        format!("{sent} pings in 15 s, not cut off")
    };
    let bound = "one response_limit (16 MiB) over tungstenite's 128 KiB write buffer, until the write timeout";
    row("WebSocket ping flood, pongs never read", measured(host, flood).await, bound)
}

/// Eight clients at once send a 64 KiB gzip body that inflates to 64 MiB, to a route whose
/// config asks for a body limit of 1 TiB.
async fn decompression_bombs(host: &Server) -> Row {
    let mut bomb = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        let _ = std::io::Write::write_all(&mut bomb, &zeros);
    }
    let bomb = bomb.finish().unwrap_or_default();
    let flood = async {
        let sends = (0..8).map(|_| async {
            let mut stream = TcpStream::connect(host.addr).await.ok()?;
            let head = format!(
                "POST /upload HTTP/1.1\r\nHost: floods.localhost\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bomb.len()
            );
            stream.write_all(head.as_bytes()).await.ok()?;
            stream.write_all(&bomb).await.ok()?;
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
            Some(answer.starts_with(b"HTTP/1.1 413"))
        });
        let answers = futures_util::future::join_all(sends).await;
        format!("{} of 8 answered 413", answers.into_iter().filter(|answer| *answer == Some(true)).count())
    };
    let bound = "the app's body_limit (2 MiB) decoded, per request";
    row("8 gzip bombs (64 KiB → 64 MiB), route body_limit = 1 TiB", measured(host, flood).await, bound)
}
