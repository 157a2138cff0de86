//! Private modules (`private`, GOPRIVATE-style globs): they go to the direct upstream only, so
//! their paths never reach a proxy upstream. Everything else takes the configured chain.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Info, Upstream, UpstreamError, ZipDownload};
use gomod::module::{ModulePath, match_prefix_patterns};
use gomod::version::Version;

pub struct PrivateSplit {
    patterns: String,
    private: Arc<dyn Upstream>,
    public: Arc<dyn Upstream>,
}

impl PrivateSplit {
    pub fn new(patterns: &str, private: Arc<dyn Upstream>, public: Arc<dyn Upstream>) -> Self {
        Self {
            patterns: patterns.to_string(),
            private,
            public,
        }
    }

    /// Whether `module` matches the private patterns.
    pub fn is_private(&self, module: &ModulePath) -> bool {
        match_prefix_patterns(&self.patterns, module.as_str())
    }

    fn pick(&self, module: &ModulePath) -> &dyn Upstream {
        if self.is_private(module) {
            self.private.as_ref()
        } else {
            self.public.as_ref()
        }
    }
}

#[async_trait]
impl Upstream for PrivateSplit {
    fn name(&self) -> String {
        "private-split".into()
    }
    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        self.pick(module).list(module).await
    }
    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        self.pick(module).latest(module).await
    }
    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        self.pick(module).info(module, query).await
    }
    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        self.pick(module).go_mod(module, version).await
    }
    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        self.pick(module)
            .zip(module, version, dest, max_bytes)
            .await
    }
}
