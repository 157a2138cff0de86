//! A private certificate authority for tests, and a TLS front for a plain server on loopback
//! (as a company's https code host would be: a certificate only the test CA vouches for).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct TestCa {
    /// The authority's certificate (PEM), for `tls.ca_file`.
    pub pem_file: PathBuf,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "agora test CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("CA certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        let pem_file = dir.path().join("test-ca.pem");
        std::fs::write(&pem_file, cert.pem()).expect("write CA");
        Self {
            pem_file,
            issuer: rcgen::Issuer::new(params, key),
            _dir: dir,
        }
    }

    /// A server configuration for `names` (host names or addresses), signed by this authority.
    pub fn server_config(&self, names: &[&str]) -> rustls::ServerConfig {
        agora::install_crypto_provider();
        let key = rcgen::KeyPair::generate().expect("key");
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der)
            .expect("server config")
    }
}

/// Serves TLS as `names` on `ip`, port 0, passing the plain bytes to `to`: its port.
pub async fn tls_front(ip: &str, to: SocketAddr, ca: &TestCa, names: &[&str]) -> u16 {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(ca.server_config(names)));
    let listener = tokio::net::TcpListener::bind((ip, 0))
        .await
        .expect("bind TLS front");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(conn).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(to).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}
