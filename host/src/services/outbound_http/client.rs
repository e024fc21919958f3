//! The HTTP client an app's requests go through: hyper's pooled client over a connector
//! that dials only what `services::net` vets, with TLS from rustls.
//!
//! The connector is given the whole URL (scheme, host, port) of every new connection, so
//! the app's rules are checked per connection with everything they need, redirects
//! included; hyper never resolves a name itself. Connections are pooled per app, so a
//! connection one app opened is never used for another's request.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::net::TcpStream;

use crate::services::net::{self, ConnectError, EgressPolicy};

pub type Body = http_body_util::Full<bytes::Bytes>;
pub type HttpClient = Client<HttpsConnector<VettedConnector>, Body>;

/// Idle connections an app keeps per server.
const IDLE_PER_HOST: usize = 4;

/// The trust roots every app's TLS uses: the system's, and the operator's CA file if given.
pub fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let certificates = CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
        if certificates.is_empty() {
            return Err(format!("--tls-ca {}: no PEM certificate in it", path.display()));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
        }
    } else if added == 0 {
        tracing::warn!(
            "no system CA certificates were found: apps' https requests will fail (install ca-certificates, or give --tls-ca)"
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One app's client.
pub fn client(policy: Arc<EgressPolicy>, tls: Arc<rustls::ClientConfig>, connect_timeout: Duration) -> HttpClient {
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config((*tls).clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(VettedConnector { policy, connect_timeout });
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(IDLE_PER_HOST).build(connector)
}

/// Dials a URL's host under the app's rules.
#[derive(Clone)]
pub struct VettedConnector {
    policy: Arc<EgressPolicy>,
    connect_timeout: Duration,
}

/// A refusal or failure of the connector, found again in hyper's error chain.
#[derive(Debug)]
pub struct Refused(pub ConnectError);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for Refused {}

impl tower::Service<Uri> for VettedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = Refused;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Refused>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Refused>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (policy, timeout) = (self.policy.clone(), self.connect_timeout);
        Box::pin(async move {
            let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
            let host = uri.host().unwrap_or_default();
            let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_string();
            let port = uri.port_u16().or_else(|| net::policy::default_port(&scheme)).unwrap_or(80);
            let stream = net::connect(&policy, &scheme, &host, port, timeout).await.map_err(Refused)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// The connector's own error inside one of hyper's, if that is what it is.
pub fn refusal<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a ConnectError> {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return Some(&refused.0);
        }
        source = error.source();
    }
    None
}
