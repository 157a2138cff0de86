//! What each proxy request means, independent of HTTP: `list`, `@latest`, and a version's
//! `.info`, `.mod` and `.zip`, answered from the store (through the replica's caches), filled on
//! a miss, merged with the upstream's lists, and served from what is stored when the upstream is
//! down. The rules decide what may be served and how a miss is filled.

mod files;
pub mod hidden;
mod lists;
pub mod lookups;
pub mod usage;

use std::sync::Arc;

use bytes::Bytes;

use crate::cache::{CachedVersions, ListCache};
use crate::fetch::Fetcher;
use crate::policy::LiveRules;
use crate::store::{BlobBody, BlobStore};
use crate::upstream::Upstream;
use gomod::module::ModulePath;
use hidden::HiddenVersions;
use lookups::Lookups;
use usage::UsageRecorder;

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

/// How a request is answered: here, or at another URL (policy mode `redirect`).
pub enum Reply<T> {
    Found(Answer<T>),
    Redirect(String),
}

pub struct Answer<T> {
    pub body: T,
    pub cache: CacheResult,
    /// Canonical versions never change; everything else may.
    pub immutable: bool,
}

impl<T> Reply<T> {
    fn found(body: T, cache: CacheResult, immutable: bool) -> Self {
        Self::Found(Answer {
            body,
            cache,
            immutable,
        })
    }
}

pub struct ZipAnswer {
    pub size: u64,
    pub sha256: String,
    pub body: BlobBody,
}

/// What the service is made of; composed at startup.
pub struct Parts {
    pub versions: Arc<CachedVersions>,
    pub blobs: Arc<dyn BlobStore>,
    pub upstream: Arc<dyn Upstream>,
    pub fetcher: Arc<Fetcher>,
    pub lists: ListCache,
    pub lookups: Lookups,
    pub rules: Arc<LiveRules>,
    pub hidden: HiddenVersions,
    pub usage: UsageRecorder,
    /// Stored zips are answered with a redirect to a URL presigned for this long (object store
    /// only); `None` streams them through the replica.
    pub zip_redirect: Option<std::time::Duration>,
}

pub struct ProxyService {
    versions: Arc<CachedVersions>,
    blobs: Arc<dyn BlobStore>,
    upstream: Arc<dyn Upstream>,
    fetcher: Arc<Fetcher>,
    lists: ListCache,
    lookups: Lookups,
    rules: Arc<LiveRules>,
    hidden: HiddenVersions,
    usage: UsageRecorder,
    zip_redirect: Option<std::time::Duration>,
}

impl ProxyService {
    pub fn new(parts: Parts) -> Self {
        Self {
            versions: parts.versions,
            blobs: parts.blobs,
            zip_redirect: parts.zip_redirect,
            upstream: parts.upstream,
            fetcher: parts.fetcher,
            lists: parts.lists,
            lookups: parts.lookups,
            rules: parts.rules,
            hidden: parts.hidden,
            usage: parts.usage,
        }
    }

    /// Forgets what this replica cached about a module: its lists, what the upstream did not
    /// have, and (with `version_id`) a version's hidden state. Called after publishing or hiding.
    pub fn forget(&self, module: &ModulePath, version_id: Option<i64>) {
        self.lists.forget(module);
        self.lookups.forget(module);
        if version_id.is_some() {
            self.hidden.forget();
        }
    }
}

/// An answer body of bytes.
pub type Small = Reply<Bytes>;
