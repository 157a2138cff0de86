//! Which certificate authorities agora trusts when it connects out over TLS: the system's, plus
//! the operator's own (`tls.ca_file`, a PEM bundle: a company's private CA).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

#[derive(Clone)]
pub struct Trust {
    extra: Vec<CertificateDer<'static>>,
    client: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("extra_roots", &self.extra.len())
            .finish()
    }
}

impl Trust {
    /// The system's authorities, and those of `ca_file` when one is named ("" names none).
    pub fn load(ca_file: &str) -> anyhow::Result<Self> {
        let extra = if ca_file.is_empty() {
            Vec::new()
        } else {
            read_bundle(Path::new(ca_file))?
        };
        Self::with(extra)
    }

    fn with(extra: Vec<CertificateDer<'static>>) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra.clone(), provider)
                .map_err(|e| anyhow::anyhow!("TLS trust: {e}"))?;
        let client = rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Self {
            extra,
            client: Arc::new(client),
        })
    }

    /// A rustls client configuration with these authorities (HTTP/1.1 only).
    pub fn rustls(&self) -> Arc<rustls::ClientConfig> {
        self.client.clone()
    }

    /// `builder` trusting these authorities too.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder.tls_certs_merge(
            self.extra
                .iter()
                .filter_map(|c| reqwest::Certificate::from_der(c).ok()),
        )
    }
}

fn read_bundle(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| anyhow::anyhow!("tls.ca_file {shown}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("tls.ca_file {shown}: {e}"))?;
    if certs.is_empty() {
        anyhow::bail!("tls.ca_file {shown}: no certificate in it");
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["ca.test".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let good = dir.path().join("good.pem");
        std::fs::write(&good, cert.pem()).expect("write");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        let junk = dir.path().join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let cases = [
            (String::new(), Some(0)),
            (good.display().to_string(), Some(1)),
            (empty.display().to_string(), None),
            (junk.display().to_string(), None),
            (dir.path().join("none.pem").display().to_string(), None),
        ];
        for (file, want) in cases {
            let got = Trust::load(&file).ok().map(|t| t.extra.len());
            assert_eq!(got, want, "{file}");
        }
    }
}
