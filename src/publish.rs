//! Publishing module versions: who may publish what (a token with the publish scope, a module
//! within the server's publish patterns and the token's own, unknown to the checksum database),
//! the upload itself (bounded in size and in silence), and the client side of `agora publish`.
//! The zip is checked and stored by the intake exactly as a fetched one is, so published and
//! fetched versions are served alike; a version that exists is never replaced (409).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::auth::Principal;
use crate::error::Error;
use crate::intake::{Admitted, Candidate, Intake, Origin};
use crate::store::{AdminStore, AuditEntry, VersionStore};
use crate::sumdb::SumdbProxy;
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// What publishing needs.
#[derive(Clone)]
pub struct Publisher {
    pub intake: Arc<Intake>,
    pub versions: Arc<dyn VersionStore>,
    pub admin: Arc<dyn AdminStore>,
    /// A published version must be unknown to the checksum database.
    pub sumdb: Option<Arc<SumdbProxy>>,
    pub max_bytes: u64,
    pub temp_dir: PathBuf,
    /// GOPRIVATE-style globs of the modules that may be published (`admin.publish_patterns`,
    /// else `private`); empty: none may.
    pub patterns: String,
    /// Longest silence while reading the body.
    pub read_timeout: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    pub module: String,
    pub version: String,
    /// The zip's `h1:` hash, as go.sum has it.
    pub h1: String,
    /// The go.mod's `h1:` hash (`/go.mod` line of go.sum).
    pub go_mod_h1: String,
    /// False when the version was stored already (nothing changed).
    pub new: bool,
}

impl Published {
    pub fn of(module: &ModulePath, version: &Version, admitted: &Admitted) -> Self {
        Self {
            module: module.to_string(),
            version: version.to_string(),
            h1: admitted.stored.zip_h1.clone(),
            go_mod_h1: admitted.stored.mod_h1.clone(),
            new: admitted.new,
        }
    }
}

impl Publisher {
    /// Everything that can refuse a publish before its body is read: the patterns (the
    /// server's, then the token's), the rules and the validation hook, a version stored already,
    /// and the checksum database.
    pub async fn may_publish(
        &self,
        principal: &Principal,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), Error> {
        if self.patterns.is_empty() {
            return Err(Error::denied(format!(
                "{module}: publishing is off here (admin.publish_patterns, by default the private patterns, is empty)"
            )));
        }
        if !module::match_prefix_patterns(&self.patterns, module.as_str()) {
            return Err(Error::denied(format!(
                "{module} is outside the modules this server publishes ({})",
                self.patterns
            )));
        }
        if !principal.may_publish(module.as_str()) {
            return Err(Error::denied(format!(
                "token {:?} may only publish {}",
                principal.name, principal.patterns
            )));
        }
        self.intake.may_store(module, version).await?;
        if self.versions.version(module, version).await?.is_some() {
            return Err(Error::Exists {
                module: module.to_string(),
                version: version.to_string(),
            });
        }
        if let Some(sumdb) = &self.sumdb
            && let Some(db) = sumdb.knows(module, version).await?
        {
            return Err(Error::denied(format!(
                "{module}@{version} is known to the checksum database {db}: a public version is never published here"
            )));
        }
        Ok(())
    }

    /// Publishes `body` (the module zip) as `module@version` for `principal`: checks, uploads
    /// to a temporary file, stores through the intake, records the audit row.
    pub async fn publish<S, E>(
        &self,
        principal: &Principal,
        module: &ModulePath,
        version: &Version,
        declared_len: Option<u64>,
        body: S,
    ) -> Result<Published, Error>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.may_publish(principal, module, version).await?;
        if declared_len.is_some_and(|n| n > self.max_bytes) {
            return Err(Error::TooLarge {
                limit: self.max_bytes,
            });
        }
        let temp = tempfile::Builder::new()
            .prefix("publish-")
            .suffix(".zip")
            .tempfile_in(&self.temp_dir)
            .map_err(Error::internal)?;
        self.receive(body, temp.path()).await?;
        let admitted = self
            .intake
            .admit(Candidate {
                module,
                version,
                info: None,
                go_mod: None,
                zip: temp.path(),
                digest: None,
                expect_h1: None,
                origin: Origin::Published {
                    by: principal.name.clone(),
                },
            })
            .await?;
        if !admitted.new {
            return Err(Error::Exists {
                module: module.to_string(),
                version: version.to_string(),
            });
        }
        let audit = AuditEntry {
            id: 0,
            at: crate::admin::unix_now(),
            actor: principal.name.clone(),
            action: "publish".into(),
            module: module.to_string(),
            version: version.to_string(),
            detail: admitted.stored.zip_h1.clone(),
        };
        if let Err(e) = self.admin.record_audit(&audit).await {
            tracing::error!(error = %e, "recording the publish in the audit log");
        }
        tracing::info!(module = %module, version = %version, actor = %principal.name, h1 = %admitted.stored.zip_h1, "published");
        Ok(Published::of(module, version, &admitted))
    }

    /// Streams the body to `dest`: at most `max_bytes`, and never silent for longer than
    /// `read_timeout`.
    async fn receive<S, E>(&self, mut body: S, dest: &Path) -> Result<(), Error>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(Error::internal)?;
        let mut written = 0u64;
        loop {
            let next = tokio::time::timeout(self.read_timeout, body.next())
                .await
                .map_err(|_| Error::Stalled {
                    secs: self.read_timeout.as_secs(),
                })?;
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| Error::invalid(format!("reading the body: {e}")))?;
            written += chunk.len() as u64;
            if written > self.max_bytes {
                return Err(Error::TooLarge {
                    limit: self.max_bytes,
                });
            }
            file.write_all(&chunk).await.map_err(Error::internal)?;
        }
        file.flush().await.map_err(Error::internal)
    }
}

/// The client side of `agora publish`: PUTs a zip to a server.
pub async fn upload(
    server: &str,
    token: Option<&str>,
    module: &ModulePath,
    version: &Version,
    zip: &Path,
) -> anyhow::Result<Published> {
    let url = format!(
        "{}/{}/@v/{}.zip",
        server.trim_end_matches('/'),
        module.escaped(),
        module::escape_version(version.as_str())
            .map_err(|e| anyhow::anyhow!("version {version}: {e}"))?
    );
    let file = tokio::fs::File::open(zip).await?;
    let size = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    crate::install_crypto_provider();
    let mut request = reqwest::Client::new()
        .put(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/zip")
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(body);
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {}", text.trim());
    }
    Ok(serde_json::from_str(&text)?)
}
