//! One fetch per module version: requests in this process share one flight, and the flight takes
//! the store's cluster-wide lock, so across all replicas one fetches while the others wait and
//! then read what it stored.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::sync::Semaphore;
use tracing::{Instrument, info_span};

use crate::error::ServiceError;
use crate::policy::hook::Hook;
use crate::store::{Inserted, NewVersion, Store};
use crate::sumdb::verify::{Verdict, ZipVerifier};
use crate::telemetry::metrics::METRICS;
use crate::upstream::{Upstream, UpstreamError};
use gomod::module::ModulePath;
use gomod::version::Version;

type Flight = Shared<BoxFuture<'static, Result<(), ServiceError>>>;

pub struct Fetcher {
    store: Arc<dyn Store>,
    upstream: Arc<dyn Upstream>,
    flights: Mutex<HashMap<String, Flight>>,
    permits: Semaphore,
    lock_wait: Duration,
    max_zip_bytes: u64,
    temp_dir: PathBuf,
    /// Asked before a new version is stored (policy).
    hook: Option<Arc<Hook>>,
    /// Asked before a fetched version is stored (checksum database).
    verifier: Option<Arc<dyn ZipVerifier>>,
}

pub struct FetcherOptions {
    pub max_concurrent: usize,
    pub lock_wait: Duration,
    pub max_zip_bytes: u64,
    pub temp_dir: PathBuf,
}

impl Fetcher {
    pub fn new(
        store: Arc<dyn Store>,
        upstream: Arc<dyn Upstream>,
        options: FetcherOptions,
    ) -> Self {
        Self {
            store,
            upstream,
            flights: Mutex::new(HashMap::new()),
            permits: Semaphore::new(options.max_concurrent.max(1)),
            lock_wait: options.lock_wait,
            max_zip_bytes: options.max_zip_bytes,
            temp_dir: options.temp_dir,
            hook: None,
            verifier: None,
        }
    }

    /// Asks `hook` before storing any version new to the store.
    pub fn with_hook(mut self, hook: Option<Arc<Hook>>) -> Self {
        self.hook = hook;
        self
    }

    /// Checks every fetched version with `verifier` before storing it.
    pub fn with_verifier(mut self, verifier: Option<Arc<dyn ZipVerifier>>) -> Self {
        self.verifier = verifier;
        self
    }

    /// Makes sure `module@version` is stored, fetching it if nobody has. The fetch runs in its own
    /// task: a client that hangs up does not cancel it for the others.
    pub async fn ensure(
        self: &Arc<Self>,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), ServiceError> {
        let key = format!("{module}@{version}");
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let this = self.clone();
                    let (m, v, k) = (module.clone(), version.clone(), key.clone());
                    let span = info_span!("fetch", module = %m, version = %v);
                    let task = tokio::spawn(
                        async move {
                            let result = this.fill(&m, &v, &k).await;
                            this.flights
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .remove(&k);
                            result
                        }
                        .instrument(span),
                    );
                    let flight = async move {
                        task.await.unwrap_or_else(|e| {
                            Err(ServiceError::Internal(format!("fetch task failed: {e}")))
                        })
                    }
                    .boxed()
                    .shared();
                    flights.insert(key, flight.clone());
                    flight
                }
            }
        };
        flight.await
    }

    async fn fill(
        &self,
        module: &ModulePath,
        version: &Version,
        key: &str,
    ) -> Result<(), ServiceError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ServiceError::Unavailable("shutting down".into()))?;
        let waited = Instant::now();
        let lock = self
            .store
            .lock(key, self.lock_wait)
            .instrument(info_span!("lock_wait"))
            .await;
        METRICS
            .lock_wait_seconds
            .observe(waited.elapsed().as_secs_f64());
        let lock = match lock {
            Ok(lock) => lock,
            Err(e) => {
                METRICS.lock_waits.with_label_values(&["timeout"]).inc();
                return Err(e.into());
            }
        };
        let result = async {
            // Another replica may have stored it while we waited for the lock.
            if self.store.version(module, version).await?.is_some() {
                METRICS
                    .lock_waits
                    .with_label_values(&["stored_by_other"])
                    .inc();
                tracing::info!("stored by another replica while this one waited");
                return Ok(());
            }
            METRICS.lock_waits.with_label_values(&["acquired"]).inc();
            let started = Instant::now();
            let fetched = self.fetch_and_store(module, version).await;
            METRICS
                .fetch_seconds
                .observe(started.elapsed().as_secs_f64());
            let outcome = match &fetched {
                Ok(()) => "stored",
                Err(ServiceError::NotFound(_) | ServiceError::Gone(_)) => "not_found",
                Err(ServiceError::Forbidden(_)) => "denied",
                Err(_) => "error",
            };
            METRICS.fetches.with_label_values(&[outcome]).inc();
            fetched
        }
        .await;
        lock.release().await;
        result
    }

    async fn fetch_and_store(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), ServiceError> {
        let upstream = &self.upstream;
        let info = upstream
            .info(module, version.as_str())
            .instrument(info_span!("upstream_info"))
            .await?;
        if info.version != version.as_str() {
            return Err(UpstreamError::Invalid(format!(
                "asked for {module}@{version}, .info names version {:?}",
                info.version
            ))
            .into());
        }
        // The version exists upstream: ask the hook before downloading and storing it.
        if let Some(hook) = &self.hook {
            hook.check(module.as_str(), version.as_str())
                .instrument(info_span!("validation_hook"))
                .await?;
        }
        let go_mod = upstream
            .go_mod(module, version)
            .instrument(info_span!("upstream_mod"))
            .await?;
        check_go_mod(module, &go_mod)?;

        let temp = tempfile::Builder::new()
            .prefix("fetch-")
            .suffix(".zip")
            .tempfile_in(&self.temp_dir)
            .map_err(|e| {
                ServiceError::Internal(format!(
                    "temporary file in {}: {e}",
                    self.temp_dir.display()
                ))
            })?;
        let download = upstream
            .zip(module, version, temp.path(), self.max_zip_bytes)
            .instrument(info_span!("upstream_zip"))
            .await?;

        let (path, m, v) = (
            temp.path().to_path_buf(),
            module.to_string(),
            version.to_string(),
        );
        let checked = tokio::task::spawn_blocking(move || gomod::zip::check_zip(&path, &m, &v))
            .instrument(info_span!("verify"))
            .await
            .map_err(|e| ServiceError::Internal(format!("zip check task failed: {e}")))?
            .map_err(|e| UpstreamError::Invalid(format!("zip for {module}@{version}: {e}")))?;

        let mod_h1 = gomod::dirhash::hash_go_mod(&go_mod);
        if let Some(verifier) = &self.verifier {
            self.verify(verifier.as_ref(), module, version, &checked.h1, &mod_h1)
                .instrument(info_span!("sumdb_verify"))
                .await?;
        }

        let new = NewVersion {
            module,
            version,
            info: &info.raw,
            go_mod: &go_mod,
            zip_path: temp.path(),
            zip_size: download.size,
            zip_sha256: hex::encode(download.sha256),
            zip_h1: checked.h1,
            mod_h1,
            source: download.source,
        };
        let inserted = self
            .store
            .insert_version(&new)
            .instrument(info_span!("store_write", bytes = download.size))
            .await?;
        if inserted == Inserted::AlreadyStored {
            tracing::info!("already stored; kept the stored copy");
        }
        Ok(())
    }
}

impl Fetcher {
    /// Asks the checksum database about a fetched version: a mismatch is refused. A database that
    /// cannot be asked lets the version through with a warning unless the verifier fails closed:
    /// the go command checks every download against the database itself, so this check is
    /// defence in depth, and an outage of the database should not stop the proxy.
    async fn verify(
        &self,
        verifier: &dyn ZipVerifier,
        module: &ModulePath,
        version: &Version,
        zip_h1: &str,
        mod_h1: &str,
    ) -> Result<(), ServiceError> {
        let verdict = verifier.verify(module, version, zip_h1, mod_h1).await;
        METRICS
            .sumdb_verifications
            .with_label_values(&[verdict.label()])
            .inc();
        match verdict {
            Verdict::Ok => {
                tracing::info!("checksum database agrees");
                Ok(())
            }
            Verdict::Private | Verdict::NotFound => Ok(()),
            Verdict::Mismatch(reason) => {
                tracing::error!(%reason, "refused: the checksum database disagrees with the upstream");
                Err(UpstreamError::Invalid(reason).into())
            }
            Verdict::Unavailable(why) if verifier.fail_closed() => {
                tracing::error!(reason = %why, "refused: the checksum database could not be asked");
                Err(UpstreamError::Invalid(format!(
                    "{module}@{version} could not be checked against the checksum database: {why}"
                ))
                .into())
            }
            Verdict::Unavailable(why) => {
                tracing::warn!(reason = %why, "checksum database could not be asked; stored unverified");
                Ok(())
            }
        }
    }
}

/// The go.mod must parse and declare a module. Like the go command's own fetcher, only the major
/// version suffix has to match the requested path: forks and renamed modules
/// (`github.com/Sirupsen/logrus` declaring `github.com/sirupsen/logrus`) are served, and the go
/// command decides whether it accepts them as a dependency.
fn check_go_mod(module: &ModulePath, go_mod: &[u8]) -> Result<(), UpstreamError> {
    let parsed = gomod::modfile::parse_lax(go_mod)
        .map_err(|e| UpstreamError::Invalid(format!("go.mod for {module}: {e}")))?;
    let Some(declared) = parsed.module_path() else {
        return Err(UpstreamError::Invalid(format!(
            "go.mod for {module} has no module directive"
        )));
    };
    if declared == module.as_str() {
        return Ok(());
    }
    let major = |p: &str| {
        gomod::module::split_path_version(p)
            .map(|(_, m)| m.trim_start_matches(['/', '.']).to_string())
    };
    match (major(declared), major(module.as_str())) {
        (Some(a), Some(b)) if a == b => {
            tracing::warn!(
                declared,
                "go.mod declares another module path with the same major version; served as the go command would"
            );
            Ok(())
        }
        _ => Err(UpstreamError::Invalid(format!(
            "go.mod declares module {declared:?}, whose major version does not match {:?}",
            module.as_str()
        ))),
    }
}
