//! Storage of module versions behind one trait: PostgreSQL for clusters, SQLite for one process.
//!
//! A version is written whole in one transaction and never changed after; zips are kept as rows of
//! bounded chunks so they stream in and out without ever being held in memory whole.

pub mod postgres;
pub mod sqlite;

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use gomod::module::ModulePath;
use gomod::version::Version;

/// Zip bytes per stored chunk: large enough to keep row counts low, small enough that streaming
/// many zips at once stays within a few MiB per client.
pub const CHUNK_SIZE: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub id: i64,
    pub info: Bytes,
    pub go_mod: Bytes,
    pub zip_size: u64,
    pub zip_sha256: String,
    pub zip_h1: String,
    pub mod_h1: String,
    pub chunk_count: u32,
}

/// A checked version ready to store; the zip is a local file read in chunks.
pub struct NewVersion<'a> {
    pub module: &'a ModulePath,
    pub version: &'a Version,
    pub info: &'a [u8],
    pub go_mod: &'a [u8],
    pub zip_path: &'a Path,
    pub zip_size: u64,
    pub zip_sha256: String,
    pub zip_h1: String,
    pub mod_h1: String,
    pub source: String,
}

/// A client token as stored: never the secret, only its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: i64,
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub secret_sha256: String,
    /// Comma-separated scope names (`read,publish`).
    pub scopes: String,
    /// GOPRIVATE-style globs limiting what the token may publish ("" : no limit of its own).
    pub patterns: String,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A token to store; `secret_sha256` is the hex SHA-256 of the secret handed to the user.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub secret_sha256: &'a str,
    pub scopes: &'a str,
    /// GOPRIVATE-style globs limiting what the token may publish ("" : no limit of its own).
    pub patterns: &'a str,
    pub created_by: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// Someone stored it first; what is stored stays as it was.
    AlreadyStored,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded: worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("timed out after {0:?} waiting for another fetch of the same version")]
    LockTimeout(Duration),
    #[error("reading the zip to store: {0}")]
    Io(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(e.to_string()),
            other => Self::Database(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Database(format!("migrations: {e}"))
    }
}

/// Held while fetching one version; while it is held no other replica fetches that version.
#[async_trait]
pub trait FetchLock: Send {
    async fn release(self: Box<Self>);
}

pub type ZipStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send>>;

#[async_trait]
pub trait Store: AdminStore + Send + Sync {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError>;
    /// Every stored version of a module, unsorted.
    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError>;
    async fn zip_chunk(&self, version_id: i64, seq: u32) -> Result<Option<Bytes>, StoreError>;
    /// Stores a version whole, or nothing; never replaces one already stored.
    async fn insert_version(&self, new: &NewVersion<'_>) -> Result<Inserted, StoreError>;
    /// Takes the cluster-wide lock for `key`, waiting at most `wait`.
    async fn lock(&self, key: &str, wait: Duration) -> Result<Box<dyn FetchLock>, StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Whether every migration this build knows has been applied.
    async fn migrations_current(&self) -> Result<bool, StoreError>;
    /// Closes the pools, letting running queries finish.
    async fn close(&self);
    /// A cached checksum database response (`path` relative to `/sumdb/<name>/`).
    async fn sumdb_get(&self, name: &str, path: &str) -> Result<Option<Bytes>, StoreError>;
    /// Stores (or replaces) a checksum database response.
    async fn sumdb_put(&self, name: &str, path: &str, body: &[u8]) -> Result<(), StoreError>;
    /// Stores a new token; `AlreadyStored` when an active token already has that name.
    async fn token_create(&self, new: &NewToken<'_>) -> Result<Inserted, StoreError>;
    /// The token whose secret hashes to `secret_sha256`, revoked or not.
    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<StoredToken>, StoreError>;
    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;
    /// Revokes the active token with this name (or this numeric id); false when there is none.
    async fn token_revoke(&self, name_or_id: &str) -> Result<bool, StoreError>;
    /// Connection counts per pool, for metrics.
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }
}

/// One stored version as administration sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub id: i64,
    pub module: String,
    pub version: String,
    /// `proxy:<url>`, `direct`, `publish:<who>`, `import:<who>`.
    pub source: String,
    /// Unix seconds.
    pub stored_at: i64,
    pub last_used_at: Option<i64>,
    pub hidden_reason: Option<String>,
}

/// Which versions `catalog` returns: ordered by id, after `after_id`.
#[derive(Debug, Clone, Default)]
pub struct CatalogQuery<'a> {
    pub after_id: i64,
    pub limit: i64,
    pub module: Option<&'a str>,
    pub include_hidden: bool,
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

/// Administration of stored versions: hiding, usage, expiry and the audit trail. Version rows
/// themselves never change; all of this lives in tables beside them.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// The reason a version is hidden, if it is.
    async fn hidden_reason(&self, version_id: i64) -> Result<Option<String>, StoreError>;
    /// Hidden versions of a module.
    async fn hidden_versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError>;
    async fn catalog(&self, query: &CatalogQuery<'_>) -> Result<Vec<VersionRow>, StoreError>;
    /// Hides a version and records it in the audit log; false if it was hidden already.
    async fn hide_version(
        &self,
        row: &VersionRow,
        reason: &str,
        actor: &str,
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Deletes a version whole (for retention), recording it in the audit log.
    async fn expire_version(
        &self,
        row: &VersionRow,
        actor: &str,
        at: i64,
        detail: &str,
    ) -> Result<(), StoreError>;
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    async fn audit_log(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;
    /// Raises each version's last use to at least the given unix time; unknown ids are skipped.
    async fn touch_usage(&self, uses: &[(i64, i64)]) -> Result<(), StoreError>;
}

pub struct PoolStats {
    pub name: &'static str,
    pub size: u32,
    pub idle: usize,
}

/// Streams a stored zip chunk by chunk: memory stays at one chunk, and no connection is pinned
/// between chunks, so a slow client holds nothing.
pub fn zip_stream(store: Arc<dyn Store>, stored: &StoredVersion) -> ZipStream {
    let id = stored.id;
    let count = stored.chunk_count;
    Box::pin(futures::stream::try_unfold(0u32, move |seq| {
        let store = store.clone();
        async move {
            if seq >= count {
                return Ok(None);
            }
            match store.zip_chunk(id, seq).await? {
                Some(data) => Ok(Some((data, seq + 1))),
                None => Err(StoreError::Database(format!(
                    "zip chunk {seq} of version {id} is missing"
                ))),
            }
        }
    }))
}

/// Reads the zip to store in `CHUNK_SIZE` pieces: one chunk in memory at a time.
pub(crate) struct ChunkReader {
    file: tokio::fs::File,
}

impl ChunkReader {
    pub(crate) async fn open(path: &Path) -> Result<Self, StoreError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        Ok(Self { file })
    }

    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        use tokio::io::AsyncReadExt;
        let mut buf = Vec::with_capacity(CHUNK_SIZE);
        while buf.len() < CHUNK_SIZE {
            let n = (&mut self.file)
                .take((CHUNK_SIZE - buf.len()) as u64)
                .read_to_end(&mut buf)
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?;
            if n == 0 {
                break;
            }
        }
        Ok((!buf.is_empty()).then_some(buf))
    }
}

/// How many chunks a zip of `size` bytes is stored in.
pub fn expected_chunks(size: u64) -> u32 {
    size.div_ceil(CHUNK_SIZE as u64) as u32
}

/// The 64-bit advisory lock key of a module version.
pub fn lock_key(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Connects to the store the URL names.
pub async fn connect(settings: &crate::config::Settings) -> Result<Arc<dyn Store>, StoreError> {
    use crate::config::DatabaseKind;
    match settings
        .database_kind()
        .map_err(|e| StoreError::Database(e.to_string()))?
    {
        DatabaseKind::Postgres => Ok(Arc::new(postgres::PgStore::connect(settings)?)),
        DatabaseKind::Sqlite => Ok(Arc::new(sqlite::SqliteStore::connect(settings).await?)),
    }
}
