//! Which stored versions are hidden here, and why. A replica re-reads a version's state after a
//! short while, so a version hidden on another replica is refused there too.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{AdminStore, StoreError};
use gomod::module::ModulePath;

/// How long a replica trusts what it read about a version being hidden.
pub const RECHECK: Duration = Duration::from_secs(30);

pub struct HiddenVersions {
    admin: Arc<dyn AdminStore>,
    reasons: moka::sync::Cache<i64, Option<Arc<str>>>,
}

impl HiddenVersions {
    pub fn new(admin: Arc<dyn AdminStore>) -> Self {
        Self {
            admin,
            reasons: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(RECHECK)
                .build(),
        }
    }

    /// Why the version with this id is hidden, if it is.
    pub async fn reason(&self, version_id: i64) -> Result<Option<Arc<str>>, StoreError> {
        if let Some(known) = self.reasons.get(&version_id) {
            return Ok(known);
        }
        let reason: Option<Arc<str>> = self.admin.hidden_reason(version_id).await?.map(Into::into);
        self.reasons.insert(version_id, reason.clone());
        Ok(reason)
    }

    /// The hidden versions of a module.
    pub async fn of_module(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        self.admin.hidden_versions(module).await
    }

    pub fn forget(&self, version_id: i64) {
        self.reasons.invalidate(&version_id);
    }
}
