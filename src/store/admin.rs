//! Administration of stored versions: hiding, usage, expiry and the audit trail. Version rows
//! themselves never change; all of this lives in tables beside them.

use async_trait::async_trait;

use super::{BlobRef, StoreError};

/// One stored version as administration sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub id: i64,
    pub module: String,
    pub version: String,
    /// `proxy <url>`, `direct <url>`, `publish:<who>`, `import:<who>`.
    pub source: String,
    pub zip: BlobRef,
    /// Unix seconds.
    pub stored_at: i64,
    /// The `.info`'s `Time`: when the version was made, as the go command reports it.
    pub time: Option<String>,
    pub last_used_at: Option<i64>,
    /// How many times it was served (counted since usage counts began).
    pub uses: i64,
    pub hidden_reason: Option<String>,
}

/// The `Time` a stored `.info` names, if it is readable.
pub fn info_time(info: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Info {
        #[serde(rename = "Time")]
        time: Option<String>,
    }
    serde_json::from_slice::<Info>(info).ok()?.time
}

/// Which versions `catalog` returns: ordered by id, after `after_id`.
#[derive(Debug, Clone, Default)]
pub struct CatalogQuery<'a> {
    pub after_id: i64,
    pub limit: i64,
    pub module: Option<&'a str>,
    pub include_hidden: bool,
}

/// A module as the web catalog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSummary {
    pub path: String,
    /// Stored versions, hidden ones included.
    pub versions: i64,
    /// When its newest version was stored, seconds since the epoch.
    pub last_stored: i64,
}

/// A hidden version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub version_id: i64,
    pub module: String,
    pub version: String,
    pub reason: String,
}

/// A visible version in the public catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub id: i64,
    pub module: String,
    pub version: String,
}

/// A module's uses, summed over its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleUse {
    pub path: String,
    pub uses: i64,
    /// Unix seconds.
    pub last_used_at: i64,
}

/// Uses of one version gathered by a replica: how many, and the latest (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Use {
    pub version_id: i64,
    pub count: i64,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub module: String,
    pub version: String,
    pub detail: String,
}

#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Every hidden version (hiding is a rare, manual act: there are few).
    async fn hidden(&self) -> Result<Vec<Hidden>, StoreError>;
    /// Modules whose path contains `text`, in path order after `after`, at most `limit`.
    async fn search_modules(
        &self,
        text: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<ModuleSummary>, StoreError>;
    /// The newest visible versions, newest first.
    async fn newest_versions(&self, limit: i64) -> Result<Vec<CatalogRow>, StoreError>;
    /// Modules by when one of their versions was last served, most recent first.
    async fn recently_used_modules(&self, limit: i64) -> Result<Vec<ModuleUse>, StoreError>;
    /// Modules by how often their versions were served, most used first.
    async fn top_modules(&self, limit: i64) -> Result<Vec<ModuleUse>, StoreError>;
    /// Every blob a version row names, once each (for `agora blobs`).
    async fn blob_refs(&self) -> Result<Vec<super::BlobRef>, StoreError>;
    /// Stored versions with what administration needs to know of them.
    async fn catalog(&self, query: &CatalogQuery<'_>) -> Result<Vec<VersionRow>, StoreError>;
    /// Visible versions, ordered by id, after `after_id`: the public catalog's page, read
    /// without the columns only administration needs.
    async fn catalog_page(&self, after_id: i64, limit: i64) -> Result<Vec<CatalogRow>, StoreError>;
    /// Hides a version and records it in the audit log; false if it was hidden already.
    async fn hide_version(
        &self,
        row: &VersionRow,
        reason: &str,
        actor: &str,
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Deletes a version's row (for retention), recording it in the audit log; its blob is the
    /// caller's to delete after.
    async fn expire_version(
        &self,
        row: &VersionRow,
        actor: &str,
        at: i64,
        detail: &str,
    ) -> Result<(), StoreError>;
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    async fn audit_log(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;
    /// Adds the counts to each version's and its module's uses and raises their last use to at
    /// least the given time; unknown (expired) ids are skipped.
    async fn touch_usage(&self, uses: &[Use]) -> Result<(), StoreError>;
}
