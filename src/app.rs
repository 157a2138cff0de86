//! Composition: every part of a serving replica, built from the settings in one place. Nothing
//! else constructs the graph; the HTTP layer only takes what is composed here.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Authenticator;
use crate::cache::{CachedBlobs, CachedVersions, ListCache, ZipCache};
use crate::config::Settings;
use crate::fetch::{Fetcher, FetcherOptions};
use crate::intake::Intake;
use crate::policy::{Action, LiveRules, Rules};
use crate::publish::Publisher;
use crate::service::hidden::HiddenVersions;
use crate::service::lookups::Lookups;
use crate::service::usage::UsageRecorder;
use crate::service::{Parts, ProxyService};
use crate::store::{BlobStore, StoreOptions, Stores, VersionStore};
use crate::sumdb::SumdbProxy;
use crate::sumdb::verify::{SumdbVerifier, ZipVerifier};
use crate::upstream::proxy::ProxyUpstream;
use crate::upstream::router::Route;
use gomod::module::ModulePath;

/// Everything a replica serves with.
pub struct App {
    pub stores: Stores,
    pub service: Arc<ProxyService>,
    pub sumdb: Arc<SumdbProxy>,
    pub publisher: Publisher,
    pub authenticator: Arc<Authenticator>,
    /// Whether publishing and `/admin/…` are served at all.
    pub admin_enabled: bool,
    /// The web pages, and whether they are served (`ui.enabled`).
    pub pages: Arc<crate::ui::Pages>,
    pub ui_enabled: bool,
    pub readiness_timeout: Duration,
}

/// How the stores reach the database and the blobs. The settings were validated at load.
pub fn store_options(settings: &Settings) -> StoreOptions {
    let db = &settings.database;
    StoreOptions {
        blobs: settings
            .blob_location()
            .unwrap_or(crate::store::object::BlobLocation::Database),
        url: settings.database_url.clone(),
        max_connections: db.max_connections,
        fill_connections: db.fill_connections,
        lock_connections: u32::try_from(settings.fetch.max_concurrent).unwrap_or(u32::MAX),
        acquire_timeout: Duration::from_secs(db.acquire_timeout_secs),
        readiness_timeout: Duration::from_millis(db.readiness_timeout_ms.max(1)),
    }
}

impl App {
    pub fn compose(
        settings: &Settings,
        stores: Stores,
        clock: crate::clock::Clock,
    ) -> anyhow::Result<Self> {
        let temp_dir = settings.data_dir.join("tmp");
        std::fs::create_dir_all(&temp_dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", temp_dir.display()))?;
        let rules = crate::policy::rules_from(settings)?;
        let route = rules
            .clone()
            .map(|r| Box::new(DirectRules(r)) as Box<dyn Route>);
        let rules = rules.unwrap_or_else(|| Arc::new(LiveRules::fixed(Rules::default())));
        let upstream = crate::upstream::build::build(settings, route)?;

        let timeout = settings.upstream_timeout();
        let trust = crate::upstream::trust::Trust::load(&settings.tls.ca_file)?;
        let sumdb_client =
            ProxyUpstream::client(&trust, timeout.min(Duration::from_secs(10)), timeout)?;
        let sumdb = Arc::new(SumdbProxy::new(
            settings,
            sumdb_client,
            stores.sumdb.clone(),
        ));
        let verifier: Option<Arc<dyn ZipVerifier>> = if settings.sumdb.verify_zips {
            SumdbVerifier::new(sumdb.clone(), settings.sumdb.verify_fail_closed)
                .map(|v| Arc::new(v) as Arc<dyn ZipVerifier>)
        } else {
            None
        };

        let cache = &settings.cache;
        let half = (cache.memory_bytes / 2).max(1);
        let versions = Arc::new(CachedVersions::new(stores.versions.clone(), half));
        let disk = if cache.disk_bytes > 0 {
            let dir = settings.data_dir.join("zip-cache");
            Some(
                ZipCache::open(dir.clone(), cache.disk_bytes)
                    .map_err(|e| anyhow::anyhow!("zip cache in {}: {e}", dir.display()))?,
            )
        } else {
            None
        };
        let blobs: Arc<dyn BlobStore> = Arc::new(CachedBlobs::new(
            stores.blobs.clone(),
            half,
            cache.memory_zip_max_bytes,
            disk,
        ));
        let pages_blobs = blobs.clone();
        let intake = Arc::new(
            Intake::new(versions.clone(), blobs.clone(), rules.clone())
                .with_hook(crate::policy::hook_from(settings)?)
                .with_verifier(verifier),
        );
        let fetcher = Arc::new(Fetcher::new(
            versions.clone(),
            stores.locks.clone(),
            upstream.clone(),
            intake.clone(),
            FetcherOptions {
                max_concurrent: settings.fetch.max_concurrent,
                lock_wait: Duration::from_secs(settings.fetch.lock_wait_secs),
                max_zip_bytes: settings.fetch.max_zip_bytes,
                temp_dir: temp_dir.clone(),
            },
        ));
        let service = Arc::new(ProxyService::new(Parts {
            versions: versions.clone(),
            blobs,
            upstream,
            fetcher,
            lists: ListCache::new(Duration::from_secs(cache.list_ttl_secs), cache.list_bytes),
            lookups: Lookups::new(
                Duration::from_secs(cache.negative_ttl_secs),
                settings.fetch.max_concurrent_lookups,
                timeout,
            ),
            rules,
            hidden: HiddenVersions::new(stores.admin.clone()),
            usage: UsageRecorder::new(
                stores.admin.clone(),
                Duration::from_secs(settings.admin.usage_flush_secs),
            ),
            zip_redirect: settings
                .blobs
                .redirect
                .then(|| Duration::from_secs(settings.blobs.redirect_ttl_secs)),
        }));
        let ui = &settings.ui;
        let authenticator = Arc::new(Authenticator::new(
            settings.auth.enabled,
            &settings.auth.open_paths,
            stores.tokens.clone(),
            crate::auth::Sessions::new(
                stores.sessions.clone(),
                clock.clone(),
                ui.session_secs,
                ui.session_idle_secs,
            ),
            crate::auth::LoginThrottle::new(clock, ui.login_max_failures, ui.login_window_secs),
        ));
        let publisher = Publisher {
            intake,
            versions: versions.clone() as Arc<dyn VersionStore>,
            admin: stores.admin.clone(),
            sumdb: Some(sumdb.clone()),
            max_bytes: settings.admin.max_publish_bytes,
            temp_dir: temp_dir.clone(),
            patterns: settings.publish_patterns().to_string(),
            read_timeout: Duration::from_secs(settings.admin.publish_read_timeout_secs.max(1)),
        };
        let pages = Arc::new(crate::ui::Pages {
            blobs: pages_blobs,
            zips: crate::ui::ZipViews::new(temp_dir.clone()),
            admin: stores.admin.clone(),
            tokens: stores.tokens.clone(),
            versions: versions.clone() as Arc<dyn VersionStore>,
            private: settings.private.clone(),
            sumdb_names: settings.sumdb.names.clone(),
            auth: settings.auth.enabled,
        });
        Ok(Self {
            pages,
            ui_enabled: settings.ui.enabled,
            stores,
            service,
            sumdb,
            publisher,
            authenticator,
            admin_enabled: settings.admin.enabled,
            readiness_timeout: Duration::from_millis(settings.database.readiness_timeout_ms.max(1)),
        })
    }
}

/// Modules whose rule says `direct` go to the direct (git) upstream only; the others take the
/// configured chain. Decided per request, so a reloaded rules file applies at once.
struct DirectRules(Arc<LiveRules>);

impl Route for DirectRules {
    fn name(&self) -> &'static str {
        "policy-router"
    }

    fn direct(&self, module: &ModulePath, version: Option<&str>) -> bool {
        self.0.decide(module.as_str(), version).action == Action::Direct
    }
}
