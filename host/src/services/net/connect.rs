//! Opening a TCP connection for an app, in the order that makes DNS rebinding fail: check
//! the destination against what the app declared, resolve it, drop every address that is
//! not public unless the operator granted the destination, and dial only the addresses
//! left. The resolved address is the one connected to, so a name cannot be checked as one
//! address and reached as another.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::policy::{Denied, EgressPolicy};

#[derive(Debug)]
pub enum ConnectError {
    /// The policy refused it.
    Denied(Denied),
    /// The name did not resolve, or no vetted address answered.
    Failed(String),
    /// The connect timeout passed.
    Timeout(Duration),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Denied(denied) => denied.fmt(f),
            ConnectError::Failed(message) => f.write_str(message),
            ConnectError::Timeout(limit) => write!(f, "no connection within {}", crate::config::units::Span(*limit)),
        }
    }
}

/// Connects to `host:port` for `scheme` under `policy`, within `timeout` (resolving
/// included).
pub async fn connect(
    policy: &EgressPolicy,
    scheme: &str,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, ConnectError> {
    let host = host.to_ascii_lowercase();
    policy.check_destination(scheme, &host, port).map_err(ConnectError::Denied)?;
    let attempt = async {
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&host);
        let resolved: Vec<SocketAddr> = match literal.parse() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((literal, port))
                .await
                .map_err(|e| ConnectError::Failed(format!("cannot resolve {host}: {e}")))?
                .collect(),
        };
        let mut refusal = None;
        let mut last_error = None;
        for address in resolved {
            if let Err(denied) = policy.check_address(scheme, &host, port, address.ip()) {
                refusal.get_or_insert(denied);
                continue;
            }
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last_error = Some(format!("cannot connect to {host}:{port} ({address}): {e}")),
            }
        }
        Err(match (last_error, refusal) {
            (Some(error), _) => ConnectError::Failed(error),
            (None, Some(denied)) => ConnectError::Denied(denied),
            (None, None) => ConnectError::Failed(format!("{host} has no address")),
        })
    };
    tokio::time::timeout(timeout, attempt).await.unwrap_or(Err(ConnectError::Timeout(timeout)))
}
