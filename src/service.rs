//! What each proxy request means, independent of HTTP: look in the store, fill it on a miss,
//! merge lists with the upstream's, and fall back to what is stored when the upstream is down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{Instrument, info_span};

use crate::error::ServiceError;
use crate::fetch::Fetcher;
use crate::policy::{self, Action, LiveRules, Mode, Rules};
use crate::store::{Store, StoredVersion, ZipStream, zip_stream};
use crate::upstream::{Info, Upstream, UpstreamError};
use crate::zipcache::ZipCache;
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// Whether the answer came from the store or needed the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    Hit,
    Miss,
    /// Not stored at all (lists, queries).
    Pass,
}

impl CacheResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Pass => "pass",
        }
    }
}

pub struct Answer<T> {
    pub body: T,
    pub cache: CacheResult,
    /// Canonical versions never change; everything else may.
    pub immutable: bool,
}

pub struct ZipAnswer {
    pub size: u64,
    pub sha256: String,
    pub body: ZipBody,
}

pub enum ZipBody {
    Memory(Bytes),
    /// The replica's local copy.
    File(tokio::fs::File),
    /// Straight from the store, chunk by chunk.
    Stream(ZipStream),
}

pub struct ProxyService {
    store: Arc<dyn Store>,
    upstream: Arc<dyn Upstream>,
    fetcher: Arc<Fetcher>,
    lists: moka::sync::Cache<(ModulePath, ListKind), Bytes>,
    list_bytes: u64,
    hot: moka::sync::Cache<(ModulePath, Version), Arc<StoredVersion>>,
    small_zips: moka::sync::Cache<i64, Bytes>,
    memory_zip_max: u64,
    disk: Option<Arc<ZipCache>>,
    rules: Arc<LiveRules>,
    /// Hidden-version reasons per version id, re-read after a short while so a version hidden on
    /// another replica is refused there too.
    hidden: moka::sync::Cache<i64, Option<Arc<str>>>,
    usage: Arc<crate::admin::usage::UsageRecorder>,
    /// Recent "not found" answers of the upstream, so a flood of requests for modules or
    /// versions that do not exist asks the upstream once per module and query, not per request.
    negative: Option<moka::sync::Cache<(ModulePath, String), ServiceError>>,
    /// Upstream list, `@latest` and query lookups at once (each may mean discovery and git).
    lookups: tokio::sync::Semaphore,
    lookup_wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ListKind {
    List,
    Latest,
}

pub struct ServiceOptions {
    pub list_ttl: Duration,
    /// Bytes of `list` and `@latest` answers kept.
    pub list_bytes: u64,
    /// How long an upstream's "not found" is remembered (zero: not at all).
    pub negative_ttl: Duration,
    /// Upstream lookups at once, and how long a request waits for its turn before a 503.
    pub max_lookups: usize,
    pub lookup_wait: Duration,
    pub memory_bytes: u64,
    pub memory_zip_max: u64,
    /// Large zips are copied here on first use and served from the file after.
    pub disk: Option<Arc<ZipCache>>,
    /// How often served versions' last use is written (retention reads it).
    pub usage_flush: Duration,
}

impl ProxyService {
    pub fn new(
        store: Arc<dyn Store>,
        upstream: Arc<dyn Upstream>,
        fetcher: Arc<Fetcher>,
        options: ServiceOptions,
    ) -> Self {
        let half = (options.memory_bytes / 2).max(1);
        Self {
            store,
            upstream,
            fetcher,
            lists: moka::sync::Cache::builder()
                .max_capacity(options.list_bytes.max(1))
                .weigher(|k: &(ModulePath, ListKind), v: &Bytes| {
                    (k.0.as_str().len() + v.len() + 64)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .time_to_live(options.list_ttl.max(Duration::from_millis(1)))
                .build(),
            hot: moka::sync::Cache::builder()
                .max_capacity(half)
                // Retention may delete a version from another process: re-read now and then.
                .time_to_live(Duration::from_secs(600))
                .weigher(|_, v: &Arc<StoredVersion>| {
                    (v.info.len() + v.go_mod.len() + 256)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .build(),
            small_zips: moka::sync::Cache::builder()
                .max_capacity(half)
                .weigher(|_, v: &Bytes| v.len().try_into().unwrap_or(u32::MAX))
                .build(),
            list_bytes: options.list_bytes,
            memory_zip_max: options.memory_zip_max,
            disk: options.disk,
            rules: Arc::new(LiveRules::fixed(Rules::default())),
            hidden: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(crate::admin::HIDDEN_RECHECK)
                .build(),
            usage: Arc::new(crate::admin::usage::UsageRecorder::with_interval(
                options.usage_flush,
            )),
            negative: (!options.negative_ttl.is_zero()).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(8 << 20)
                    .weigher(|k: &(ModulePath, String), v: &ServiceError| {
                        (k.0.as_str().len() + k.1.len() + v.to_string().len() + 64)
                            .try_into()
                            .unwrap_or(u32::MAX)
                    })
                    .time_to_live(options.negative_ttl)
                    .support_invalidation_closures()
                    .build()
            }),
            lookups: tokio::sync::Semaphore::new(options.max_lookups.max(1)),
            lookup_wait: options.lookup_wait,
        }
    }

    /// Runs an upstream lookup (`what` names it in the negative cache) within the concurrency
    /// limit, remembering a "not found" for a while.
    async fn lookup<T, F>(
        &self,
        module: &ModulePath,
        what: String,
        call: F,
    ) -> Result<T, LookupError>
    where
        F: std::future::Future<Output = Result<T, UpstreamError>>,
    {
        let key = (module.clone(), what);
        if let Some(cached) = self.negative.as_ref().and_then(|n| n.get(&key)) {
            return Err(LookupError::Remembered(cached));
        }
        let _permit = tokio::time::timeout(self.lookup_wait, self.lookups.acquire())
            .await
            .map_err(|_| {
                LookupError::Busy(ServiceError::Unavailable(
                    "busy: too many upstream lookups at once; retry shortly".into(),
                ))
            })?
            .map_err(|_| LookupError::Busy(ServiceError::Unavailable("shutting down".into())))?;
        let result = call.await;
        if let (Err(e), Some(negative)) = (&result, &self.negative)
            && matches!(e, UpstreamError::NotFound(_) | UpstreamError::Gone(_))
        {
            negative.insert(key, ServiceError::from(e.clone()));
        }
        result.map_err(LookupError::Upstream)
    }

    /// Remembers that the upstream has no `module@version` (a failed fetch).
    fn remember_missing(&self, module: &ModulePath, version: &Version, e: &ServiceError) {
        if let Some(negative) = &self.negative
            && matches!(e, ServiceError::NotFound(_) | ServiceError::Gone(_))
        {
            negative.insert((module.clone(), format!("v:{version}")), e.clone());
        }
    }

    /// Applies these policy rules (docs/policy.md) to every request.
    pub fn with_rules(mut self, rules: Arc<LiveRules>) -> Self {
        self.rules = rules;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Forgets what this replica cached about a version's visibility and its lists.
    pub fn forget(&self, module: &ModulePath, version_id: i64) {
        self.hidden.invalidate(&version_id);
        self.forget_lists(module);
    }

    async fn is_hidden(&self, module: &ModulePath, version: &str) -> Result<bool, ServiceError> {
        Ok(self
            .store
            .hidden_versions(module)
            .await?
            .iter()
            .any(|v| v == version))
    }

    /// Caches a `list` or `@latest` answer, unless it alone would take an eighth of the cache:
    /// one huge list must not push out every other.
    fn keep_list(&self, key: (ModulePath, ListKind), body: &Bytes) {
        if (body.len() as u64).saturating_mul(8) <= self.list_bytes {
            self.lists.insert(key, body.clone());
        }
    }

    /// Drops this replica's cached `list` and `@latest` of a module, and what it remembered
    /// the upstream not having.
    pub fn forget_lists(&self, module: &ModulePath) {
        self.lists.invalidate(&(module.clone(), ListKind::List));
        self.lists.invalidate(&(module.clone(), ListKind::Latest));
        if let Some(negative) = &self.negative {
            let module = module.clone();
            let _ = negative.invalidate_entries_if(move |k, _| k.0 == module);
        }
    }

    /// `@v/list`: the upstream's versions merged with the stored ones; the stored ones alone when
    /// the upstream is down.
    pub async fn list(&self, module: &ModulePath) -> Result<Answer<Bytes>, ServiceError> {
        let mode = self.module_policy(module, "list")?;
        let key = (module.clone(), ListKind::List);
        if let Some(body) = self.lists.get(&key) {
            return Ok(Answer {
                body: self.without_denied(module, body),
                cache: CacheResult::Hit,
                immutable: false,
            });
        }
        let stored = self
            .store
            .versions(module)
            .instrument(info_span!("store_lookup"))
            .await?;
        let upstream = if mode == Mode::None {
            Err(LookupError::Upstream(stored_only(module)))
        } else {
            self.lookup(
                module,
                "list".into(),
                self.upstream
                    .list(module)
                    .instrument(info_span!("upstream_list")),
            )
            .await
        };
        let mut versions: Vec<String> = match upstream {
            Ok(body) => body
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect(),
            Err(e) if stored.is_empty() => return Err(e.into()),
            Err(e) => {
                if !e.is_not_found() {
                    tracing::warn!(error = %e.to_service(), "upstream list failed; serving stored versions");
                }
                Vec::new()
            }
        };
        versions.extend(stored);
        let hidden = self.store.hidden_versions(module).await?;
        versions.retain(|v| listable(module, v) && !hidden.contains(v));
        versions.sort_by(|a, b| gomod::semver::compare(a, b).then_with(|| a.cmp(b)));
        versions.dedup();
        let mut body = versions.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        let body = Bytes::from(body);
        self.keep_list(key, &body);
        Ok(Answer {
            body: self.without_denied(module, body),
            cache: CacheResult::Miss,
            immutable: false,
        })
    }

    /// `@latest`: the upstream's answer, or the highest stored version when it has none.
    pub async fn latest(&self, module: &ModulePath) -> Result<Answer<Bytes>, ServiceError> {
        let mode = self.module_policy(module, "@latest")?;
        let key = (module.clone(), ListKind::Latest);
        if let Some(body) = self.lists.get(&key) {
            self.resolved_policy(module, &body)?;
            return Ok(Answer {
                body,
                cache: CacheResult::Hit,
                immutable: false,
            });
        }
        let upstream = if mode == Mode::None {
            Err(LookupError::Upstream(stored_only(module)))
        } else {
            self.lookup(
                module,
                "latest".into(),
                self.upstream
                    .latest(module)
                    .instrument(info_span!("upstream_latest")),
            )
            .await
        };
        let body = match upstream {
            Ok(info) if self.is_hidden(module, &info.version).await? => {
                // The upstream's latest was hidden here: answer with the best visible one.
                match self.latest_stored(module).await? {
                    Some(stored) => stored.info.clone(),
                    None => {
                        return Err(ServiceError::Gone(format!(
                            "not found: {module}@{} was removed",
                            info.version
                        )));
                    }
                }
            }
            Ok(info) => Bytes::from(self.checked_query_answer(module, info)?.raw),
            Err(e) => match self.latest_stored(module).await? {
                Some(stored) => {
                    if !e.is_not_found() {
                        tracing::warn!(error = %e.to_service(), "upstream latest failed; serving the highest stored version");
                    }
                    stored.info.clone()
                }
                None => return Err(e.into()),
            },
        };
        self.keep_list(key, &body);
        self.resolved_policy(module, &body)?;
        Ok(Answer {
            body,
            cache: CacheResult::Miss,
            immutable: false,
        })
    }

    /// The version the go command would pick among the stored ones: releases over pre-releases over
    /// pseudo-versions, skipping what the newest stored go.mod retracts.
    async fn latest_stored(
        &self,
        module: &ModulePath,
    ) -> Result<Option<Arc<StoredVersion>>, ServiceError> {
        let mut versions = self.store.versions(module).await?;
        let hidden = self.store.hidden_versions(module).await?;
        versions.retain(|v| !hidden.contains(v));
        let pick = |retracted: &dyn Fn(&str) -> bool| {
            gomod::latest::pick_latest_with_pseudo(versions.iter().map(String::as_str), retracted)
                .and_then(|v| Version::parse(&v).ok())
        };
        let Some(newest) = pick(&|_| false) else {
            return Ok(None);
        };
        let Some(newest_stored) = self.stored(module, &newest).await? else {
            return Ok(None);
        };
        let retractions = gomod::modfile::parse_lax(&newest_stored.go_mod).ok();
        let chosen = match retractions {
            Some(file) => pick(&|v| file.is_retracted(v)),
            None => Some(newest),
        };
        match chosen {
            Some(v) => self.stored(module, &v).await,
            None => Ok(None),
        }
    }

    /// `.info` of a canonical version (stored, fetched on a miss) or of a query the upstream resolves.
    pub async fn info(
        &self,
        module: &ModulePath,
        query: &str,
    ) -> Result<Answer<Bytes>, ServiceError> {
        if let Some(version) = canonical_for(module, query) {
            let (stored, cache) = self.ensure(module, &version, "info").await?;
            return Ok(Answer {
                body: stored.info.clone(),
                cache,
                immutable: true,
            });
        }
        let escaped = gomod::module::escape_version(query).unwrap_or_else(|_| query.to_string());
        let file = format!("{}.info", crate::upstream::path_segment(&escaped));
        if self.module_policy(module, &file)? == Mode::None {
            return Err(stored_only(module).into());
        }
        let info = self
            .lookup(
                module,
                format!("q:{query}"),
                self.upstream
                    .info(module, query)
                    .instrument(info_span!("upstream_info")),
            )
            .await?;
        let info = self.checked_query_answer(module, info)?;
        self.version_allowed(module, &info.version)?;
        Ok(Answer {
            body: Bytes::from(info.raw),
            cache: CacheResult::Pass,
            immutable: false,
        })
    }

    pub async fn go_mod(
        &self,
        module: &ModulePath,
        version: &str,
    ) -> Result<Answer<Bytes>, ServiceError> {
        let version = self.require_canonical(module, version)?;
        let (stored, cache) = self.ensure(module, &version, "mod").await?;
        Ok(Answer {
            body: stored.go_mod.clone(),
            cache,
            immutable: true,
        })
    }

    pub async fn zip(
        &self,
        module: &ModulePath,
        version: &str,
    ) -> Result<Answer<ZipAnswer>, ServiceError> {
        let version = self.require_canonical(module, version)?;
        let (stored, cache) = self.ensure(module, &version, "zip").await?;
        let body = if let Some(bytes) = self.small_zips.get(&stored.id) {
            ZipBody::Memory(bytes)
        } else if stored.zip_size <= self.memory_zip_max {
            let bytes = self.read_small_zip(&stored).await?;
            self.small_zips.insert(stored.id, bytes.clone());
            ZipBody::Memory(bytes)
        } else {
            self.large_zip(&stored).await
        };
        let answer = ZipAnswer {
            size: stored.zip_size,
            sha256: stored.zip_sha256.clone(),
            body,
        };
        Ok(Answer {
            body: answer,
            cache,
            immutable: true,
        })
    }

    /// From the local disk copy, made on first use; straight from the store when there is no
    /// disk cache or it fails.
    async fn large_zip(&self, stored: &StoredVersion) -> ZipBody {
        let Some(disk) = &self.disk else {
            return ZipBody::Stream(zip_stream(self.store.clone(), stored));
        };
        if let Some(file) = disk.open_zip(&stored.zip_sha256).await {
            return ZipBody::File(file);
        }
        match disk
            .fill(
                &stored.zip_sha256,
                stored.zip_size,
                zip_stream(self.store.clone(), stored),
            )
            .await
        {
            Ok(()) => {
                if let Some(file) = disk.open_zip(&stored.zip_sha256).await {
                    return ZipBody::File(file);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not cache the zip on disk; serving from the store")
            }
        }
        ZipBody::Stream(zip_stream(self.store.clone(), stored))
    }

    async fn read_small_zip(&self, stored: &StoredVersion) -> Result<Bytes, ServiceError> {
        use futures::TryStreamExt;
        let chunks: Vec<Bytes> = zip_stream(self.store.clone(), stored).try_collect().await?;
        Ok(Bytes::from(chunks.concat()))
    }

    fn require_canonical(
        &self,
        module: &ModulePath,
        version: &str,
    ) -> Result<Version, ServiceError> {
        let v = Version::parse(version).map_err(|e| {
            ServiceError::NotFound(format!(
                "not found: {module}@{version}: invalid version: {e}"
            ))
        })?;
        module::check(module.as_str(), v.as_str())
            .map_err(|e| ServiceError::NotFound(format!("not found: {e}")))?;
        Ok(v)
    }

    /// The upstream's answer to a query must name a canonical version valid for this module.
    fn checked_query_answer(&self, module: &ModulePath, info: Info) -> Result<Info, ServiceError> {
        if canonical_for(module, &info.version).is_none() {
            return Err(UpstreamError::Invalid(format!(
                "upstream answered {module} with version {:?}, which is not a canonical version of it",
                info.version
            ))
            .into());
        }
        Ok(info)
    }

    async fn stored(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<Arc<StoredVersion>>, ServiceError> {
        let key = (module.clone(), version.clone());
        if let Some(hit) = self.hot.get(&key) {
            return Ok(Some(hit));
        }
        let found = self
            .store
            .version(module, version)
            .instrument(info_span!("store_lookup"))
            .await?;
        Ok(found.map(|s| {
            let s = Arc::new(s);
            self.hot.insert(key, s.clone());
            s
        }))
    }

    /// The stored version, fetched first if this is its first request anywhere (as the policy's
    /// mode says: now, in the background, elsewhere or not at all); 410 with the reason if it is
    /// hidden. `ext` names the file asked for, for a redirect.
    async fn ensure(
        &self,
        module: &ModulePath,
        version: &Version,
        ext: &str,
    ) -> Result<(Arc<StoredVersion>, CacheResult), ServiceError> {
        let decision = self.version_allowed(module, version.as_str())?;
        let (stored, cache) = self
            .ensure_stored(module, version, ext, decision.mode)
            .await?;
        let hidden = match self.hidden.get(&stored.id) {
            Some(h) => h,
            None => {
                let h: Option<Arc<str>> =
                    self.store.hidden_reason(stored.id).await?.map(Into::into);
                self.hidden.insert(stored.id, h.clone());
                h
            }
        };
        if let Some(reason) = hidden {
            return Err(ServiceError::Gone(format!(
                "not found: {module}@{version} was removed: {reason}"
            )));
        }
        self.usage.record(self.store.clone(), stored.id);
        Ok((stored, cache))
    }

    async fn ensure_stored(
        &self,
        module: &ModulePath,
        version: &Version,
        ext: &str,
        mode: Mode,
    ) -> Result<(Arc<StoredVersion>, CacheResult), ServiceError> {
        if let Some(stored) = self.stored(module, version).await? {
            return Ok((stored, CacheResult::Hit));
        }
        let remembered = || {
            self.negative
                .as_ref()
                .and_then(|n| n.get(&(module.clone(), format!("v:{version}"))))
        };
        match mode {
            Mode::Sync | Mode::Async if let Some(missing) = remembered() => return Err(missing),
            Mode::Sync => {}
            Mode::Async => {
                let (fetcher, m, v) = (self.fetcher.clone(), module.clone(), version.clone());
                tokio::spawn(async move {
                    if let Err(e) = fetcher.ensure(&m, &v).await {
                        tracing::warn!(module = %m, version = %v, error = %e, "background fetch failed");
                    }
                });
                return Err(ServiceError::NotFound(format!(
                    "not found: {module}@{version}: fetching in the background, retry shortly"
                )));
            }
            Mode::Redirect(base) => {
                let file = policy::version_file(version, ext);
                return Err(ServiceError::Redirect(policy::redirect_url(
                    &base, module, &file,
                )));
            }
            Mode::None => return Err(stored_only(module).into()),
        }
        let started = Instant::now();
        if let Err(e) = self.fetcher.ensure(module, version).await {
            self.remember_missing(module, version, &e);
            return Err(e);
        }
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "filled");
        match self.stored(module, version).await? {
            Some(stored) => Ok((stored, CacheResult::Miss)),
            None => Err(ServiceError::Internal(format!(
                "{module}@{version} was fetched but is not in the store"
            ))),
        }
    }
}

impl ProxyService {
    /// The policy for a module-wide request (`file` under the module, for a redirect): deny and
    /// redirect end the request here; otherwise the mode.
    fn module_policy(&self, module: &ModulePath, file: &str) -> Result<Mode, ServiceError> {
        let decision = self.rules.decide(module.as_str(), None);
        match decision.action {
            Action::Deny => Err(ServiceError::Forbidden(format!(
                "forbidden: {module}: {}",
                decision.reason
            ))),
            _ => match decision.mode {
                Mode::Redirect(base) => Err(ServiceError::Redirect(policy::redirect_url(
                    &base, module, file,
                ))),
                mode => Ok(mode),
            },
        }
    }

    /// Refuses a version the policy rules deny (403 with the rule's reason).
    pub fn check_allowed(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), ServiceError> {
        self.version_allowed(module, version.as_str()).map(|_| ())
    }

    /// The policy for one version; a denied version is refused, stored or not.
    fn version_allowed(
        &self,
        module: &ModulePath,
        version: &str,
    ) -> Result<policy::Decision, ServiceError> {
        let decision = self.rules.decide(module.as_str(), Some(version));
        if decision.action == Action::Deny {
            return Err(ServiceError::Forbidden(format!(
                "forbidden: {module}@{version}: {}",
                decision.reason
            )));
        }
        Ok(decision)
    }

    /// An `@latest` answer must not name a denied version.
    fn resolved_policy(&self, module: &ModulePath, info: &[u8]) -> Result<(), ServiceError> {
        if let Ok(info) = Info::parse(info.to_vec()) {
            self.version_allowed(module, &info.version)?;
        }
        Ok(())
    }

    /// A list without the versions the rules deny.
    fn without_denied(&self, module: &ModulePath, body: Bytes) -> Bytes {
        let rules = self.rules.get();
        let denied = |v: &str| rules.decide(module.as_str(), Some(v)).action == Action::Deny;
        if !body
            .split(|&b| b == b'\n')
            .any(|l| denied(&String::from_utf8_lossy(l)))
        {
            return body;
        }
        let text = String::from_utf8_lossy(&body);
        let kept: String = text
            .lines()
            .filter(|v| !denied(v))
            .map(|v| format!("{v}\n"))
            .collect();
        Bytes::from(kept)
    }
}

/// A miss under mode `none`.
fn stored_only(module: &ModulePath) -> UpstreamError {
    UpstreamError::NotFound(format!(
        "not found: {module}: not stored, and policy mode \"none\" fetches nothing"
    ))
}

/// `query` as a version the module can have, if it is canonical and passes `module.Check`. Anything
/// else is a query for the upstream to resolve (`v2.0.0` of an unsuffixed path may become
/// `v2.0.0+incompatible`).
fn canonical_for(module: &ModulePath, query: &str) -> Option<Version> {
    let v = Version::parse(query).ok()?;
    module::check(module.as_str(), v.as_str()).ok()?;
    Some(v)
}

/// What `list` may contain: canonical versions of this module, and no pseudo-versions.
fn listable(module: &ModulePath, v: &str) -> bool {
    canonical_for(module, v).is_some() && !gomod::pseudo::is_pseudo_version(v)
}

/// How an upstream lookup failed.
enum LookupError {
    Upstream(UpstreamError),
    /// The upstream said "not found" a moment ago.
    Remembered(ServiceError),
    /// No turn within the wait.
    Busy(ServiceError),
}

impl LookupError {
    fn is_not_found(&self) -> bool {
        match self {
            Self::Upstream(e) => e.is_not_found(),
            Self::Remembered(_) => true,
            Self::Busy(_) => false,
        }
    }

    fn to_service(&self) -> ServiceError {
        match self {
            Self::Upstream(e) => e.clone().into(),
            Self::Remembered(e) | Self::Busy(e) => e.clone(),
        }
    }
}

impl From<LookupError> for ServiceError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::Upstream(e) => e.into(),
            LookupError::Remembered(e) | LookupError::Busy(e) => e,
        }
    }
}
