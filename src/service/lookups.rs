//! Upstream lookups (`list`, `@latest`, queries, and the discovery and git work they imply) run a
//! bounded number at a time, and an upstream's "not found" is remembered for a while, so a flood
//! of requests for modules that do not exist asks the upstream once per module and query.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::Error;
use crate::upstream::UpstreamError;
use gomod::module::ModulePath;
use gomod::version::Version;

pub struct Lookups {
    negative: Option<moka::sync::Cache<(ModulePath, String), Error>>,
    permits: Semaphore,
    wait: Duration,
}

/// How a lookup failed.
pub enum Failed {
    /// The upstream's own failure, new.
    Upstream(UpstreamError),
    /// The upstream said "not found" a moment ago; or no turn came within the wait.
    Known(Error),
}

impl Failed {
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Upstream(e) => e.is_not_found(),
            Self::Known(e) => e.is_not_found(),
        }
    }
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Upstream(e) => e.into(),
            Failed::Known(e) => e,
        }
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Upstream(e) => e.fmt(f),
            Self::Known(e) => e.fmt(f),
        }
    }
}

impl Lookups {
    /// `negative_ttl` zero remembers nothing; `max` lookups run at once, others wait up to `wait`.
    pub fn new(negative_ttl: Duration, max: usize, wait: Duration) -> Self {
        Self {
            negative: (!negative_ttl.is_zero()).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(8 << 20)
                    .weigher(|k: &(ModulePath, String), v: &Error| {
                        (k.0.as_str().len() + k.1.len() + v.to_string().len() + 64)
                            .try_into()
                            .unwrap_or(u32::MAX)
                    })
                    .time_to_live(negative_ttl)
                    .support_invalidation_closures()
                    .build()
            }),
            permits: Semaphore::new(max.max(1)),
            wait,
        }
    }

    /// Runs `call` (named `what` among the module's lookups) within the limit, remembering a
    /// "not found".
    pub async fn run<T, F>(&self, module: &ModulePath, what: String, call: F) -> Result<T, Failed>
    where
        F: Future<Output = Result<T, UpstreamError>>,
    {
        let key = (module.clone(), what);
        if let Some(known) = self.negative.as_ref().and_then(|n| n.get(&key)) {
            return Err(Failed::Known(known));
        }
        let busy = || {
            Failed::Known(Error::Busy {
                reason: "too many upstream lookups at once; retry shortly".into(),
            })
        };
        let _permit = tokio::time::timeout(self.wait, self.permits.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let result = call.await;
        if let (Err(e), Some(negative)) = (&result, &self.negative)
            && matches!(e, UpstreamError::NotFound(_) | UpstreamError::Gone(_))
        {
            negative.insert(key, e.clone().into());
        }
        result.map_err(Failed::Upstream)
    }

    /// What the upstream said a moment ago about `module@version`, if it had no such version.
    pub fn missing(&self, module: &ModulePath, version: &Version) -> Option<Error> {
        self.negative
            .as_ref()?
            .get(&(module.clone(), version_key(version)))
    }

    /// Remembers that the upstream has no `module@version` (a failed fetch).
    pub fn remember_missing(&self, module: &ModulePath, version: &Version, e: &Error) {
        if let Some(negative) = &self.negative
            && e.is_not_found()
        {
            negative.insert((module.clone(), version_key(version)), e.clone());
        }
    }

    /// Forgets everything remembered about a module (it was just published to).
    pub fn forget(&self, module: &ModulePath) {
        if let Some(negative) = &self.negative {
            let module = module.clone();
            let _ = negative.invalidate_entries_if(move |k, _| k.0 == module);
        }
    }
}

fn version_key(version: &Version) -> String {
    format!("v:{version}")
}
