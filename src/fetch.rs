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

use crate::error::Error;
use crate::intake::{Candidate, Intake, Origin};
use crate::store::{BlobRef, LockService, StoredVersion, VersionStore};
use crate::telemetry::metrics::METRICS;
use crate::upstream::{Upstream, UpstreamError};
use gomod::module::ModulePath;
use gomod::version::Version;

type Flight = Shared<BoxFuture<'static, Result<StoredVersion, Error>>>;

pub struct Fetcher {
    versions: Arc<dyn VersionStore>,
    locks: Arc<dyn LockService>,
    upstream: Arc<dyn Upstream>,
    intake: Arc<Intake>,
    flights: Mutex<HashMap<String, Flight>>,
    permits: Semaphore,
    lock_wait: Duration,
    max_zip_bytes: u64,
    temp_dir: PathBuf,
}

pub struct FetcherOptions {
    pub max_concurrent: usize,
    pub lock_wait: Duration,
    pub max_zip_bytes: u64,
    pub temp_dir: PathBuf,
}

impl Fetcher {
    pub fn new(
        versions: Arc<dyn VersionStore>,
        locks: Arc<dyn LockService>,
        upstream: Arc<dyn Upstream>,
        intake: Arc<Intake>,
        options: FetcherOptions,
    ) -> Self {
        Self {
            versions,
            locks,
            upstream,
            intake,
            flights: Mutex::new(HashMap::new()),
            permits: Semaphore::new(options.max_concurrent.max(1)),
            lock_wait: options.lock_wait,
            max_zip_bytes: options.max_zip_bytes,
            temp_dir: options.temp_dir,
        }
    }

    /// Makes sure `module@version` is stored, fetching it if nobody has, and returns it. The
    /// fetch runs in its own task: a client that hangs up does not cancel it for the others.
    pub async fn ensure(
        self: &Arc<Self>,
        module: &ModulePath,
        version: &Version,
    ) -> Result<StoredVersion, Error> {
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
                    let flight =
                        async move { task.await.unwrap_or_else(|e| Err(Error::internal(e))) }
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
    ) -> Result<StoredVersion, Error> {
        let _permit = self.permits.acquire().await.map_err(|_| Error::Busy {
            reason: "shutting down".into(),
        })?;
        let waited = Instant::now();
        let lock = self
            .locks
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
            if let Some(stored) = self.versions.version(module, version).await? {
                METRICS
                    .lock_waits
                    .with_label_values(&["stored_by_other"])
                    .inc();
                tracing::info!("stored by another replica while this one waited");
                return Ok(stored);
            }
            METRICS.lock_waits.with_label_values(&["acquired"]).inc();
            let started = Instant::now();
            let fetched = self.fetch_and_store(module, version).await;
            METRICS
                .fetch_seconds
                .observe(started.elapsed().as_secs_f64());
            let outcome = match &fetched {
                Ok(_) => "stored",
                Err(e) if e.is_not_found() => "not_found",
                Err(Error::Denied { .. }) => "denied",
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
    ) -> Result<StoredVersion, Error> {
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
        // The version exists upstream: ask the rules and the hook before downloading it.
        self.intake.may_store(module, version).await?;
        let go_mod = upstream
            .go_mod(module, version)
            .instrument(info_span!("upstream_mod"))
            .await?;
        let temp = tempfile::Builder::new()
            .prefix("fetch-")
            .suffix(".zip")
            .tempfile_in(&self.temp_dir)
            .map_err(|e| {
                Error::internal(anyhow::anyhow!(
                    "temporary file in {}: {e}",
                    self.temp_dir.display()
                ))
            })?;
        let download = upstream
            .zip(module, version, temp.path(), self.max_zip_bytes)
            .instrument(info_span!("upstream_zip"))
            .await?;
        let admitted = self
            .intake
            .admit(Candidate {
                module,
                version,
                info: Some(info.raw),
                go_mod: Some(go_mod),
                zip: temp.path(),
                digest: Some(BlobRef {
                    sha256: hex::encode(download.sha256),
                    size: download.size,
                }),
                expect_h1: None,
                origin: Origin::Fetched {
                    source: download.source,
                },
            })
            .await?;
        Ok(admitted.stored)
    }
}
