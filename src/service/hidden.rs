//! Which stored versions are hidden here, and why. Hiding is rare and manual, so a replica keeps
//! all of them in memory and re-reads the whole set after a short while: a version hidden on
//! another replica is refused here too within [`RECHECK`], and serving a version costs no query.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::store::{AdminStore, StoreError};
use gomod::module::ModulePath;

/// How long a replica trusts what it read about hidden versions.
pub const RECHECK: Duration = Duration::from_secs(30);

pub struct HiddenVersions {
    admin: Arc<dyn AdminStore>,
    known: RwLock<Option<Known>>,
    /// One re-read at a time; the others wait for it rather than repeat it.
    reading: tokio::sync::Mutex<()>,
}

struct Known {
    at: Instant,
    reasons: HashMap<i64, Arc<str>>,
    by_module: HashMap<String, Vec<String>>,
}

impl HiddenVersions {
    pub fn new(admin: Arc<dyn AdminStore>) -> Self {
        Self {
            admin,
            known: RwLock::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// Why the version with this id is hidden, if it is.
    pub async fn reason(&self, version_id: i64) -> Result<Option<Arc<str>>, StoreError> {
        self.read(|k| k.reasons.get(&version_id).cloned()).await
    }

    /// The hidden versions of a module.
    pub async fn of_module(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        self.read(|k| {
            k.by_module
                .get(module.as_str())
                .cloned()
                .unwrap_or_default()
        })
        .await
    }

    /// Reads the set again on next use (this replica just hid something).
    pub fn forget(&self) {
        *self.known.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn read<T>(&self, look: impl Fn(&Known) -> T) -> Result<T, StoreError> {
        if let Some(found) = self.fresh(&look) {
            return Ok(found);
        }
        let _reading = self.reading.lock().await;
        if let Some(found) = self.fresh(&look) {
            return Ok(found);
        }
        let mut known = Known {
            at: Instant::now(),
            reasons: HashMap::new(),
            by_module: HashMap::new(),
        };
        for h in self.admin.hidden().await? {
            known.reasons.insert(h.version_id, h.reason.into());
            known.by_module.entry(h.module).or_default().push(h.version);
        }
        let found = look(&known);
        *self.known.write().unwrap_or_else(|p| p.into_inner()) = Some(known);
        Ok(found)
    }

    fn fresh<T>(&self, look: &impl Fn(&Known) -> T) -> Option<T> {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        known
            .as_ref()
            .filter(|k| k.at.elapsed() < RECHECK)
            .map(look)
    }
}
