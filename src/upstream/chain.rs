//! Walking the upstream list (`config::upstreams`) the way the go command does: after an entry
//! followed by `,` the walk goes on only on "not found" (404/410); after `|` it goes on after any
//! error.

use async_trait::async_trait;

pub use crate::config::upstreams::{Entry, Fallback, UpstreamList};

use super::{Info, Upstream, UpstreamError, ZipDownload};
use gomod::module::ModulePath;
use gomod::version::Version;

/// Upstreams walked in order with GOPROXY fallback rules.
pub struct Chain {
    links: Vec<(Box<dyn Upstream>, Fallback)>,
}

impl Chain {
    pub fn new(links: Vec<(Box<dyn Upstream>, Fallback)>) -> Self {
        Self { links }
    }

    async fn walk<'a, T, F>(&'a self, op: F) -> Result<T, UpstreamError>
    where
        F: Fn(&'a dyn Upstream) -> futures::future::BoxFuture<'a, Result<T, UpstreamError>>,
    {
        // Like the go command, report the most useful error: a real failure over "not found".
        let mut best: Option<UpstreamError> = None;
        for (upstream, fallback) in &self.links {
            match op(upstream.as_ref()).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let go_on = e.is_not_found() || *fallback == Fallback::OnAnyError;
                    best = Some(match best {
                        Some(prev) if !prev.is_not_found() && e.is_not_found() => prev,
                        _ => e,
                    });
                    if !go_on {
                        break;
                    }
                }
            }
        }
        Err(best.unwrap_or_else(|| UpstreamError::NotFound("no upstream configured".into())))
    }
}

#[async_trait]
impl Upstream for Chain {
    fn name(&self) -> String {
        "chain".into()
    }

    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        self.walk(|u| u.list(module)).await
    }

    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        self.walk(|u| u.latest(module)).await
    }

    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        self.walk(|u| u.info(module, query)).await
    }

    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        self.walk(|u| u.go_mod(module, version)).await
    }

    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &std::path::Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        self.walk(|u| u.zip(module, version, dest, max_bytes)).await
    }
}

/// The `off` entry: every request fails, and the walk stops there.
pub struct Off;

#[async_trait]
impl Upstream for Off {
    fn name(&self) -> String {
        "off".into()
    }
    async fn list(&self, _: &ModulePath) -> Result<String, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn latest(&self, _: &ModulePath) -> Result<Info, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn info(&self, _: &ModulePath, _: &str) -> Result<Info, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn go_mod(&self, _: &ModulePath, _: &Version) -> Result<Vec<u8>, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn zip(
        &self,
        _: &ModulePath,
        _: &Version,
        _: &std::path::Path,
        _: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
}
