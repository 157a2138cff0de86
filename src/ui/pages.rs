//! One struct per page: what its template shows, read from the stores.

use std::sync::Arc;

use askama::Template;

use super::setup::{Setup, setup_text};
use super::{CSS_PATH, info_when, when};
use crate::error::Error;
use crate::store::{AdminStore, CatalogQuery, VersionStore};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

pub(super) const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Modules per page of the catalog.
const PAGE: i64 = 50;
/// Versions shown on a module page.
const MAX_VERSIONS: i64 = 1000;

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    setup: String,
    private: &'a str,
    auth: bool,
    host: &'a str,
}

pub struct SearchRow {
    pub path: String,
    pub href: String,
    pub versions: i64,
    pub last_stored: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    pub modules: Vec<SearchRow>,
    next: Option<String>,
}

pub struct VersionLine {
    pub version: String,
    pub href: String,
    /// The version's own time (its `.info`), or when it was stored if that is unknown.
    pub time: String,
    pub source: String,
    pub retracted: Option<String>,
    pub hidden: Option<String>,
}

#[derive(Template)]
#[template(path = "module.html")]
pub struct ModulePage<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    path: String,
    deprecated: Option<String>,
    latest: Option<String>,
    pub versions: Vec<VersionLine>,
}

#[derive(Template)]
#[template(path = "version.html")]
pub struct VersionPage<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    version: String,
    path: String,
    module_href: String,
    base: String,
    time: String,
    source: String,
    hidden: Option<String>,
    zip_h1: String,
    mod_h1: String,
    zip_size: u64,
    zip_sha256: String,
    go_mod: String,
    /// The form token, when an administrator is looking.
    admin_csrf: Option<String>,
    files: Vec<(String, u64)>,
    files_shown: usize,
    files_total: usize,
    license: Option<String>,
}

impl VersionPage<'_> {
    /// The page of a version with its name and nothing of its content (all a hidden version's
    /// page shows; the others fill the rest in).
    fn named(path: &ModulePath, version: &Version) -> Self {
        Self {
            css: &CSS_PATH,
            query: "",
            agora_version: VERSION,
            version: version.to_string(),
            path: path.to_string(),
            module_href: module_href(path.as_str()),
            base: String::new(),
            time: String::new(),
            source: String::new(),
            hidden: None,
            zip_h1: String::new(),
            mod_h1: String::new(),
            zip_size: 0,
            zip_sha256: String::new(),
            go_mod: String::new(),
            admin_csrf: None,
            files: Vec::new(),
            files_shown: 0,
            files_total: 0,
            license: None,
        }
    }
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    hit_ratio: String,
    hits: u64,
    misses: u64,
    passes: u64,
    stored: u64,
    not_found: u64,
    failed: u64,
    mismatches: u64,
    /// (module@version, link)
    newest: Vec<(String, String)>,
    /// (module, link, when)
    used: Vec<(String, String, String)>,
    /// (module, link, uses, last used)
    top: Vec<(String, String, i64, String)>,
}

/// Renders the pages from the stores and the settings they show.
pub struct Pages {
    pub blobs: Arc<dyn crate::store::BlobStore>,
    /// The listings of stored zips, made once and kept.
    pub zips: super::zipview::ZipViews,
    pub admin: Arc<dyn AdminStore>,
    pub tokens: Arc<dyn crate::store::TokenStore>,
    pub versions: Arc<dyn VersionStore>,
    pub private: String,
    pub sumdb_names: String,
    pub auth: bool,
}

pub(super) fn render(t: &impl Template) -> Result<String, Error> {
    t.render()
        .map_err(|e| Error::internal(anyhow::anyhow!("rendering a page: {e}")))
}

/// The page of a module: `/ui/mod/<escaped path>`.
pub fn module_href(path: &str) -> String {
    format!(
        "/ui/mod/{}",
        module::escape_path(path).unwrap_or_else(|_| path.to_string())
    )
}

pub fn version_href(path: &str, version: &str) -> String {
    format!(
        "{}/@v/{}",
        module_href(path),
        module::escape_version(version).unwrap_or_else(|_| version.to_string())
    )
}

/// Where the protocol serves a version's files, without the extension.
fn files_base(path: &str, version: &str) -> String {
    format!(
        "/{}/@v/{}",
        module::escape_path(path).unwrap_or_else(|_| path.to_string()),
        module::escape_version(version).unwrap_or_else(|_| version.to_string())
    )
}

impl Pages {
    /// `/`: what this is and how to use it from `base` (this server's URL as the client sees it).
    pub fn home(&self, base: &str, host: &str) -> Result<String, Error> {
        render(&HomeTemplate {
            css: &CSS_PATH,
            query: "",
            agora_version: VERSION,
            setup: setup_text(&Setup {
                base,
                private: &self.private,
                sumdb_names: &self.sumdb_names,
            }),
            private: self.private.trim(),
            auth: self.auth,
            host,
        })
    }

    /// `/ui/search?q=&after=`: modules whose path contains `q`.
    pub async fn search(&self, q: &str, after: &str) -> Result<String, Error> {
        let q = q.trim();
        let found = self.admin.search_modules(q, after, PAGE).await?;
        let next = (found.len() as i64 == PAGE)
            .then(|| found.last())
            .flatten()
            .map(|last| {
                let enc = |s: &str| {
                    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                        .to_string()
                };
                format!("/ui/search?q={}&after={}", enc(q), enc(&last.path))
            });
        let modules = found
            .into_iter()
            .map(|m| SearchRow {
                href: module_href(&m.path),
                last_stored: when(m.last_stored),
                versions: m.versions,
                path: m.path,
            })
            .collect();
        render(&SearchPage {
            css: &CSS_PATH,
            query: q,
            agora_version: VERSION,
            modules,
            next,
        })
    }

    /// `/ui/mod/<path>`: the module's versions, newest first, with where each came from and
    /// what the newest go.mod says of them.
    pub async fn module(&self, path: &ModulePath, is_admin: bool) -> Result<String, Error> {
        let rows = self
            .admin
            .catalog(&CatalogQuery {
                after_id: 0,
                limit: MAX_VERSIONS,
                module: Some(path.as_str()),
                include_hidden: true,
            })
            .await?;
        if rows.is_empty() {
            return Err(Error::not_found(format!("{path}: not stored here")));
        }
        let mut rows = rows;
        rows.sort_by(|a, b| gomod::semver::compare(&b.version, &a.version));
        // Retractions and deprecation come from the newest visible version's go.mod.
        let newest = rows.iter().find(|r| r.hidden_reason.is_none());
        let modfile = match newest {
            Some(r) => match Version::parse(&r.version) {
                Ok(v) => self
                    .versions
                    .version(path, &v)
                    .await?
                    .and_then(|s| gomod::modfile::parse_lax(&s.go_mod).ok()),
                Err(_) => None,
            },
            None => None,
        };
        let deprecated = modfile
            .as_ref()
            .and_then(|m| m.module.as_ref())
            .and_then(|d| d.deprecated.clone());
        let retracted = |v: &str| {
            modfile
                .as_ref()
                .and_then(|m| m.retraction_rationale(v))
                .map(str::to_string)
        };
        let latest = gomod::latest::pick_latest(
            rows.iter()
                .filter(|r| r.hidden_reason.is_none())
                .map(|r| r.version.as_str()),
            |v| retracted(v).is_some(),
        )
        .or_else(|| newest.map(|r| r.version.clone()));
        let versions = rows
            .iter()
            .map(|r| VersionLine {
                href: version_href(path.as_str(), &r.version),
                time: r
                    .time
                    .as_deref()
                    .map(info_when)
                    .unwrap_or_else(|| when(r.stored_at)),
                source: crate::redact::redact(&r.source).into_owned(),
                retracted: retracted(&r.version),
                // Readers see that a version is hidden, administrators also why.
                hidden: r
                    .hidden_reason
                    .as_ref()
                    .map(|why| if is_admin { why.clone() } else { String::new() }),
                version: r.version.clone(),
            })
            .collect();
        render(&ModulePage {
            css: &CSS_PATH,
            query: "",
            agora_version: VERSION,
            path: path.to_string(),
            deprecated,
            latest,
            versions,
        })
    }

    /// `/ui/mod/<path>/@v/<version>`: hashes, go.mod and downloads of one stored version.
    pub async fn version(
        &self,
        path: &ModulePath,
        version: &Version,
        admin_csrf: Option<String>,
    ) -> Result<String, Error> {
        let Some(stored) = self.versions.version(path, version).await? else {
            return Err(Error::not_found(format!(
                "{path}@{version}: not stored here"
            )));
        };
        let row = self
            .admin
            .catalog(&CatalogQuery {
                after_id: stored.id - 1,
                limit: 1,
                module: Some(path.as_str()),
                include_hidden: true,
            })
            .await?
            .into_iter()
            .find(|r| r.id == stored.id);
        let is_admin = admin_csrf.is_some();
        let hidden = row.as_ref().and_then(|r| r.hidden_reason.clone());
        if let Some(reason) = hidden {
            // A hidden version's page shows no more than the protocol's 410: that it is hidden,
            // and why only to administrators (it may have leaked a credential).
            return render(&VersionPage {
                hidden: Some(if is_admin { reason } else { String::new() }),
                ..VersionPage::named(path, version)
            });
        }
        let prefix = format!("{path}@{version}/");
        let contents = self
            .zips
            .contents(self.blobs.as_ref(), &stored.zip, &prefix)
            .await?;
        let time = crate::store::info_time(&stored.info)
            .as_deref()
            .map(info_when)
            .unwrap_or_default();
        render(&VersionPage {
            base: files_base(path.as_str(), version.as_str()),
            time,
            source: row
                .as_ref()
                .map(|r| crate::redact::redact(&r.source).into_owned())
                .unwrap_or_default(),
            zip_h1: stored.zip_h1,
            mod_h1: stored.mod_h1,
            zip_size: stored.zip.size,
            zip_sha256: stored.zip.sha256,
            go_mod: String::from_utf8_lossy(&stored.go_mod).into_owned(),
            admin_csrf,
            files_shown: contents.files.len(),
            files_total: usize::try_from(contents.total).unwrap_or(usize::MAX),
            files: contents.files.clone(),
            license: contents.license.clone(),
            ..VersionPage::named(path, version)
        })
    }

    /// `/ui/ops`: this replica's counters, the newest and most recently used from the store.
    pub async fn ops(&self) -> Result<String, Error> {
        use crate::telemetry::metrics::METRICS;
        let count =
            |v: &prometheus::IntCounterVec, label: &str| v.with_label_values(&[label]).get();
        let (hits, misses, passes) = (
            count(&METRICS.cache, "hit"),
            count(&METRICS.cache, "miss"),
            count(&METRICS.cache, "pass"),
        );
        let answered = hits + misses;
        let hit_ratio = if answered == 0 {
            "no versions served yet".to_string()
        } else {
            format!("{:.1} %", hits as f64 * 100.0 / answered as f64)
        };
        let newest = self
            .admin
            .newest_versions(20)
            .await?
            .into_iter()
            .map(|r| {
                let link = version_href(&r.module, &r.version);
                (format!("{}@{}", r.module, r.version), link)
            })
            .collect();
        let used = self
            .admin
            .recently_used_modules(20)
            .await?
            .into_iter()
            .map(|u| (module_href(&u.path), when(u.last_used_at), u.path))
            .map(|(link, at, m)| (m, link, at))
            .collect();
        let top = self
            .admin
            .top_modules(20)
            .await?
            .into_iter()
            .map(|u| {
                let link = module_href(&u.path);
                (u.path, link, u.uses, when(u.last_used_at))
            })
            .collect();
        render(&OpsPage {
            css: &CSS_PATH,
            query: "",
            agora_version: VERSION,
            hit_ratio,
            hits,
            misses,
            passes,
            stored: count(&METRICS.fetches, "stored"),
            not_found: count(&METRICS.fetches, "not_found"),
            failed: count(&METRICS.fetches, "error"),
            mismatches: count(&METRICS.sumdb_verifications, "mismatch"),
            newest,
            used,
            top,
        })
    }
}
