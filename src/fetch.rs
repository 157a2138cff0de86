//! One fetch per module version: requests in this process share one flight, and the flight takes
//! the store's cluster-wide lock, so across all replicas one fetches while the others wait and
//! then read what it stored. A flight also tells its waiters what it has so far: the `.info` once
//! the upstream named the version, the `.mod` and the zip once they passed their checks, so
//! clients in this process are served while the version is still being stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tempfile::TempPath;
use tokio::sync::{Semaphore, watch};
use tracing::{Instrument, info_span};

use crate::error::Error;
use crate::intake::{Candidate, Intake, Origin};
use crate::store::{BlobRef, LockService, StoredVersion, VersionStore};
use crate::telemetry::metrics::METRICS;
use crate::upstream::{Upstream, UpstreamError};
use gomod::module::ModulePath;
use gomod::version::Version;

type Flight = Shared<BoxFuture<'static, Result<StoredVersion, Error>>>;

/// What a flight has fetched and checked so far.
#[derive(Clone, Default)]
pub struct Progress {
    /// The upstream's `.info`, once it named the version asked for and the rules allow it.
    info: Option<Bytes>,
    /// The `.mod`, once it declares the module (and, when the checksum database is asked, once
    /// every check passed).
    go_mod: Option<Bytes>,
    /// The zip, once every check passed.
    zip: Option<CheckedZip>,
}

/// A fetched zip that passed every check, in its local file; the file goes when the last holder
/// lets go (an open file stays readable after that).
#[derive(Clone)]
pub struct CheckedZip {
    pub blob: BlobRef,
    file: Arc<TempPath>,
}

impl CheckedZip {
    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// A part of a version a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Info,
    Mod,
    Zip,
}

/// A part, from the stored version or from a flight that has it checked but not yet stored.
pub enum Fetched {
    Stored(StoredVersion),
    Info(Bytes),
    GoMod(Bytes),
    /// With the flight, so a response can end only once the version is stored.
    Zip(CheckedZip, Storing),
}

/// A flight that is storing a version it has checked.
pub struct Storing(Flight);

impl Storing {
    pub async fn stored(self) -> Result<StoredVersion, Error> {
        self.0.await
    }
}

impl Progress {
    /// `.info` or `.mod`; a zip is picked by [`Fetcher::part`], which adds the flight.
    fn part(&self, part: Part) -> Option<Fetched> {
        match part {
            Part::Info => self.info.clone().map(Fetched::Info),
            Part::Mod => self.go_mod.clone().map(Fetched::GoMod),
            Part::Zip => None,
        }
    }
}

pub struct Fetcher {
    versions: Arc<dyn VersionStore>,
    locks: Arc<dyn LockService>,
    upstream: Arc<dyn Upstream>,
    intake: Arc<Intake>,
    flights: Mutex<HashMap<String, (Flight, watch::Receiver<Progress>)>>,
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
        self.join(module, version).0.await
    }

    /// `part` of `module@version` as soon as the flight has it checked, or the stored version
    /// once it is stored (whichever comes first); an error if the flight fails before.
    pub async fn part(
        self: &Arc<Self>,
        module: &ModulePath,
        version: &Version,
        part: Part,
    ) -> Result<Fetched, Error> {
        let (mut flight, mut progress) = self.join(module, version);
        loop {
            {
                let seen = progress.borrow_and_update();
                if let Some(found) = seen.part(part) {
                    return Ok(found);
                }
                if let (Part::Zip, Some(zip)) = (part, &seen.zip) {
                    return Ok(Fetched::Zip(zip.clone(), Storing(flight.clone())));
                }
            }
            tokio::select! {
                done = &mut flight => return done.map(Fetched::Stored),
                changed = progress.changed() => {
                    if changed.is_err() {
                        return flight.await.map(Fetched::Stored);
                    }
                }
            }
        }
    }

    /// The flight for `module@version`, started if there is none.
    fn join(
        self: &Arc<Self>,
        module: &ModulePath,
        version: &Version,
    ) -> (Flight, watch::Receiver<Progress>) {
        let key = format!("{module}@{version}");
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((flight, progress)) = flights.get(&key) {
            return (flight.clone(), progress.clone());
        }
        let (tell, progress) = watch::channel(Progress::default());
        let this = self.clone();
        let (m, v, k) = (module.clone(), version.clone(), key.clone());
        let span = info_span!("fetch", module = %m, version = %v);
        let task = tokio::spawn(
            async move {
                let result = this.fill(&m, &v, &k, &tell).await;
                this.flights
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&k);
                result
            }
            .instrument(span),
        );
        let flight = async move { task.await.unwrap_or_else(|e| Err(Error::internal(e))) }
            .boxed()
            .shared();
        flights.insert(key, (flight.clone(), progress.clone()));
        (flight, progress)
    }

    async fn fill(
        &self,
        module: &ModulePath,
        version: &Version,
        key: &str,
        tell: &watch::Sender<Progress>,
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
            let fetched = self.fetch_and_store(module, version, tell).await;
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
        tell: &watch::Sender<Progress>,
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
        tell.send_modify(|p| p.info = Some(Bytes::from(info.raw.clone())));
        let go_mod = upstream
            .go_mod(module, version)
            .instrument(info_span!("upstream_mod"))
            .await?;
        let origin = Origin::Fetched {
            source: String::new(),
        };
        self.intake.go_mod_acceptable(module, &go_mod, &origin)?;
        if !self.intake.verifies(&origin) {
            tell.send_modify(|p| p.go_mod = Some(Bytes::from(go_mod.clone())));
        }
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
        let temp = Arc::new(temp.into_temp_path());
        let download = upstream
            .zip(module, version, &temp, self.max_zip_bytes)
            .instrument(info_span!("upstream_zip"))
            .await?;
        let checked = self
            .intake
            .check(Candidate {
                module,
                version,
                info: Some(info.raw),
                go_mod: Some(go_mod),
                zip: &temp,
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
        // Checked: waiters may have it now; storing it is this flight's business.
        tell.send_modify(|p| {
            p.go_mod = Some(Bytes::copy_from_slice(checked.go_mod()));
            p.zip = Some(CheckedZip {
                blob: checked.blob().clone(),
                file: temp.clone(),
            });
        });
        let admitted = self.intake.store(checked).await?;
        Ok(admitted.stored)
    }
}
