//! Where missing versions come from: other proxies over HTTP, walked as a GOPROXY list.

pub mod build;
pub mod chain;
pub mod direct;
pub mod private;
pub mod proxy;
pub mod router;
pub mod trust;

use std::path::Path;

use async_trait::async_trait;

use gomod::module::ModulePath;
use gomod::version::Version;

/// A `.info` answer: the raw JSON as the upstream sent it (kept, so `Origin` survives) and the
/// version it names.
#[derive(Debug, Clone)]
pub struct Info {
    pub raw: Vec<u8>,
    pub version: String,
}

impl Info {
    /// Parses an upstream `.info` body; anything but a JSON object with a string `Version` is refused.
    pub fn parse(raw: Vec<u8>) -> Result<Self, UpstreamError> {
        let parsed: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| UpstreamError::Invalid(format!("malformed .info: {e}")))?;
        let version = parsed
            .as_object()
            .and_then(|o| o.get("Version"))
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                UpstreamError::Invalid("malformed .info: not an object with a Version".into())
            })?
            .to_string();
        Ok(Self { raw, version })
    }
}

/// A zip written to a local file, with what was learnt while writing it.
#[derive(Debug, Clone)]
pub struct ZipDownload {
    pub size: u64,
    pub sha256: [u8; 32],
    pub source: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// 404 or 410 from the upstream: the walk may go on.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Gone(String),
    /// `off`, or nothing left to try.
    #[error("module lookup disabled by upstream=off")]
    Disabled,
    /// Any status but 200, 404 and 410. `url` is the shown (credential-free) form; what the
    /// upstream said is logged, never passed on.
    #[error("upstream {url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("upstream {0} timed out")]
    Timeout(String),
    #[error("upstream {url}: {reason}")]
    Transport { url: String, reason: String },
    /// The upstream answered 200 with something we must not store.
    #[error("upstream sent an invalid answer: {0}")]
    Invalid(String),
    #[error("upstream zip is larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("local i/o while fetching: {0}")]
    Io(String),
}

impl UpstreamError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_) | Self::Gone(_) | Self::Disabled)
    }
}

#[async_trait]
pub trait Upstream: Send + Sync {
    /// A short name for logs and the `source` column.
    fn name(&self) -> String;
    /// The raw `@v/list` body.
    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError>;
    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError>;
    /// `.info` of a canonical version or of any query (branch, hash, non-canonical version).
    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError>;
    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError>;
    /// Streams the zip into `dest`, refusing more than `max_bytes`.
    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError>;
}

/// A shared upstream is an upstream (the direct upstream serves both the chain and private
/// modules).
#[async_trait]
impl<T: Upstream + ?Sized> Upstream for std::sync::Arc<T> {
    fn name(&self) -> String {
        (**self).name()
    }
    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        (**self).list(module).await
    }
    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        (**self).latest(module).await
    }
    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        (**self).info(module, query).await
    }
    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        (**self).go_mod(module, version).await
    }
    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        (**self).zip(module, version, dest, max_bytes).await
    }
}
