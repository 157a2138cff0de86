//! TLS interception for the egress proxy: a tool's https request is decrypted there, so the
//! proxy sees each answer and can refuse redirects, which svn and fossil would otherwise follow
//! unchecked inside the tunnel. The tool trusts only a certificate authority made when agora
//! starts, whose key never leaves memory; agora itself connects to the real host over TLS,
//! checked against the system's authorities and `tls.ca_file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

use crate::upstream::trust::Trust;

/// Host certificates kept before the cache starts again (each is a few hundred bytes).
const MAX_HOSTS: usize = 1024;

pub struct Interceptor {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    /// The authority's certificate, for the tools (the directory goes when agora stops).
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
    hosts: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
    connector: TlsConnector,
}

impl Interceptor {
    pub fn new(trust: &Trust) -> Result<Self, String> {
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "agora egress (this process only)",
        );
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        let dir = tempfile::Builder::new()
            .prefix("agora-egress-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, cert.pem()).map_err(|e| e.to_string())?;
        Ok(Self {
            issuer: rcgen::Issuer::new(params, key),
            ca_file,
            _dir: dir,
            hosts: Mutex::new(HashMap::new()),
            connector: TlsConnector::from(trust.rustls()),
        })
    }

    /// The PEM file of the authority the tools must trust.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The tool's side: TLS as `host`, with a certificate this process signed.
    pub async fn accept(
        &self,
        host: &str,
        conn: TcpStream,
    ) -> Result<server::TlsStream<TcpStream>, String> {
        let config = self.config_for(host)?;
        TlsAcceptor::from(config)
            .accept(conn)
            .await
            .map_err(|e| format!("TLS with the tool for {host}: {e}"))
    }

    /// The host's side: TLS to `host` over `conn` (already at a checked address), its
    /// certificate checked as any https client would.
    pub async fn connect(
        &self,
        host: &str,
        conn: TcpStream,
    ) -> Result<client::TlsStream<TcpStream>, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| format!("{host}: not a TLS server name: {e}"))?;
        self.connector
            .connect(name, conn)
            .await
            .map_err(|e| format!("TLS to {host}: {e}"))
    }

    fn config_for(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, String> {
        let host = host.to_ascii_lowercase();
        let mut hosts = self
            .hosts
            .lock()
            .map_err(|_| "certificate cache poisoned")?;
        if let Some(c) = hosts.get(&host) {
            return Ok(c.clone());
        }
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let params = rcgen::CertificateParams::new(vec![host.clone()])
            .map_err(|e| format!("{host}: {e}"))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| format!("{host}: {e}"))?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der)
            .map_err(|e| format!("{host}: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        if hosts.len() >= MAX_HOSTS {
            hosts.clear();
        }
        hosts.insert(host, config.clone());
        Ok(config)
    }
}
