//! Sends each request either to the direct (git) upstream or to the rest of the chain, as a
//! `Route` decides per module (and version, when the request names one). Private modules and
//! policy rules with `action = "direct"` are both routes.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Info, Upstream, UpstreamError, ZipDownload};
use gomod::module::ModulePath;
use gomod::version::Version;

/// Which modules go to the direct upstream.
pub trait Route: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &'static str;
    /// Whether this request goes direct; `version` is set when the request names a canonical one.
    fn direct(&self, module: &ModulePath, version: Option<&str>) -> bool;
}

pub struct Router {
    route: Box<dyn Route>,
    direct: Arc<dyn Upstream>,
    rest: Arc<dyn Upstream>,
}

impl Router {
    pub fn new(route: Box<dyn Route>, direct: Arc<dyn Upstream>, rest: Arc<dyn Upstream>) -> Self {
        Self {
            route,
            direct,
            rest,
        }
    }

    fn pick(&self, module: &ModulePath, version: Option<&str>) -> &dyn Upstream {
        if self.route.direct(module, version) {
            self.direct.as_ref()
        } else {
            self.rest.as_ref()
        }
    }
}

#[async_trait]
impl Upstream for Router {
    fn name(&self) -> String {
        self.route.name().into()
    }
    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        self.pick(module, None).list(module).await
    }
    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        self.pick(module, None).latest(module).await
    }
    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        let version = Version::parse(query).ok();
        self.pick(module, version.as_ref().map(Version::as_str))
            .info(module, query)
            .await
    }
    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        self.pick(module, Some(version.as_str()))
            .go_mod(module, version)
            .await
    }
    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        self.pick(module, Some(version.as_str()))
            .zip(module, version, dest, max_bytes)
            .await
    }
}
