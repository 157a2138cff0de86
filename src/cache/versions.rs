//! Hot version rows in memory.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::store::{Inserted, NewVersion, StoreError, StoredVersion, VersionStore};
use gomod::module::ModulePath;
use gomod::version::Version;

/// A [`VersionStore`] keeping recently read rows in memory, bounded in bytes. Rows are re-read
/// after a while only because retention may delete a version from another process.
pub struct CachedVersions {
    inner: Arc<dyn VersionStore>,
    /// `None` when sized 0: a cache of one row would only churn.
    hot: Option<moka::sync::Cache<(ModulePath, Version), StoredVersion>>,
}

/// How long a row is trusted before it is read again.
const REREAD: Duration = Duration::from_secs(600);

impl CachedVersions {
    pub fn new(inner: Arc<dyn VersionStore>, max_bytes: u64) -> Self {
        let hot = (max_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &(ModulePath, Version), v: &StoredVersion| {
                    let n = k.0.as_str().len()
                        + v.info.len()
                        + v.go_mod.len()
                        + v.zip.sha256.len()
                        + v.zip_h1.len()
                        + v.mod_h1.len()
                        + 128;
                    u32::try_from(n).unwrap_or(u32::MAX)
                })
                .time_to_live(REREAD)
                .build()
        });
        Self { inner, hot }
    }

    /// Keeps a row this replica just stored, sparing the read that would follow.
    pub fn remember(&self, module: &ModulePath, version: &Version, stored: &StoredVersion) {
        if let Some(hot) = &self.hot {
            hot.insert((module.clone(), version.clone()), stored.clone());
        }
    }
}

#[async_trait]
impl VersionStore for CachedVersions {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let Some(hot) = &self.hot else {
            return self.inner.version(module, version).await;
        };
        let key = (module.clone(), version.clone());
        if let Some(hit) = hot.get(&key) {
            return Ok(Some(hit));
        }
        let found = self.inner.version(module, version).await?;
        if let Some(stored) = &found {
            hot.insert(key, stored.clone());
        }
        Ok(found)
    }

    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        self.inner.versions(module).await
    }

    async fn insert_version(&self, new: &NewVersion<'_>) -> Result<Inserted, StoreError> {
        self.inner.insert_version(new).await
    }
}
