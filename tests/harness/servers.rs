//! Local HTTP servers for the outbound-HTTP tests, each on a free port of 127.0.0.1, in
//! plain HTTP or TLS with a CA made for the test. One small HTTP/1.1 server answers by
//! path, so a test can ask for what it needs:
//! - `/hello`: "hello";
//! - `/echo`: the request as JSON (method, path, headers, body as text);
//! - `/slow`: answers after 5 s;
//! - `/huge`: 4 MiB of "x";
//! - `/redirect?to=URL`: a 302 to URL.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct TestServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// A plain HTTP server.
    pub async fn http() -> TestServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("a port");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream));
            }
        });
        TestServer { addr, task }
    }

    /// A TLS server with a certificate for `localhost` and 127.0.0.1 that `ca` signed.
    pub async fn https(ca: &TestCa) -> TestServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("a port");
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve(stream).await;
                    }
                });
            }
        });
        TestServer { addr, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A certificate authority made for one test, and a server certificate it signed.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub pem: String,
    server_config: Arc<tokio_rustls::rustls::ServerConfig>,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "astra-host test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("a server key");
        let server_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("server parameters");
        let server_cert = server_params.signed_by(&server_key, &issuer).expect("the server certificate");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone()],
                tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            )
            .expect("the server's TLS config");
        TestCa { pem: ca_cert.pem(), server_config: Arc::new(config) }
    }

    /// Writes the CA certificate where `--tls-ca` can read it.
    pub fn write_to(&self, path: &Path) {
        std::fs::write(path, &self.pem).expect("the CA file is written");
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(": ").map(|(name, value)| (name.to_ascii_lowercase(), value.to_string())))
        .collect();
    let length =
        headers.iter().find(|(name, _)| name == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let body = &buffer[head_end..head_end + length];
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, extra, content): (&str, String, Vec<u8>) = match path {
        "/hello" => ("200 OK", "x-test: yes\r\n".into(), b"hello".to_vec()),
        "/echo" => {
            let echoed = serde_json::json!({
                "method": method,
                "path": target,
                "headers": headers.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                "body": String::from_utf8_lossy(body),
            });
            ("200 OK", "content-type: application/json\r\n".into(), echoed.to_string().into_bytes())
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            ("200 OK", String::new(), b"late".to_vec())
        }
        "/huge" => ("200 OK", String::new(), vec![b'x'; 4 << 20]),
        "/redirect" => {
            let to = query.strip_prefix("to=").unwrap_or("/hello");
            ("302 Found", format!("location: {to}\r\n"), Vec::new())
        }
        _ => ("404 Not Found", String::new(), b"no such path".to_vec()),
    };
    let response =
        format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n", content.len());
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.write_all(&content).await;
    let _ = stream.shutdown().await;
}
