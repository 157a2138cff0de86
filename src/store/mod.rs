//! Storage, behind narrow traits split by what they hold: version rows ([`VersionStore`]), zip
//! bytes ([`BlobStore`]), the cluster-wide fetch lock ([`LockService`]), client tokens
//! ([`TokenStore`]) and their signed-in sessions ([`SessionStore`]), checksum database answers ([`SumdbCache`]), hiding, usage and the audit trail
//! ([`AdminStore`]), and the database's own life ([`Database`]). PostgreSQL (clusters) and SQLite
//! (one process) implement them all; [`Stores`] holds one of each, composed at startup.
//!
//! A zip is stored as a blob under its sha256 before the version row that names it is written,
//! so a crash in between leaves an orphan blob, never a row without its zip. Version rows and
//! blobs never change once written.

pub mod admin;
pub mod blobs;
pub mod database;
pub mod fallback;
pub mod locks;
pub mod metered;
pub mod object;
pub mod postgres;
pub mod sessions;
pub mod sqlite;
pub mod sumdb;
pub mod tokens;
pub mod versions;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use admin::{
    AdminStore, AuditEntry, CatalogQuery, CatalogRow, Hidden, ModuleSummary, ModuleUse, Use,
    VersionRow, info_time,
};
pub use blobs::{Blob, BlobBody, BlobList, BlobRef, BlobStore, ByteStream, ListedBlob, Put};
pub use database::{Database, PoolStats};
pub use locks::{FetchLock, LockService};
pub use sessions::{NewSession, SessionStore, StoredSession};
pub use sumdb::SumdbCache;
pub use tokens::{NewToken, StoredToken, TokenStore};
pub use versions::{Inserted, NewVersion, StoredVersion, VersionStore};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database or the blob store cannot be reached or is overloaded: worth retrying.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("timed out after {0:?} waiting for another fetch of the same version")]
    LockTimeout(Duration),
    /// A blob a version row names is not there (or not whole).
    #[error("stored zip {0} is missing")]
    MissingBlob(String),
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

/// How to reach the database; built from the settings where the application is composed.
pub struct StoreOptions {
    /// `postgres://…` or `sqlite://…`. Secret: it may carry a password.
    pub url: SecretString,
    /// Connections serving requests.
    pub max_connections: u32,
    /// Connections storing fetched versions, apart so hits never queue behind misses.
    pub fill_connections: u32,
    /// Sessions for fetch locks: as many as fetches may run at once.
    pub lock_connections: u32,
    pub acquire_timeout: Duration,
    /// How long readiness waits for its own connection.
    pub readiness_timeout: Duration,
    /// Where zips are kept: the database (default) or an object store.
    pub blobs: object::BlobLocation,
}

/// One store of each kind, all backed by the same database unless composed otherwise (blobs may
/// live elsewhere).
#[derive(Clone)]
pub struct Stores {
    pub versions: Arc<dyn VersionStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub locks: Arc<dyn LockService>,
    pub tokens: Arc<dyn TokenStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub sumdb: Arc<dyn SumdbCache>,
    pub admin: Arc<dyn AdminStore>,
    pub database: Arc<dyn Database>,
}

impl Stores {
    /// Every store, from one backend that implements them all.
    pub fn of<S>(backend: S) -> Self
    where
        S: VersionStore
            + BlobStore
            + LockService
            + TokenStore
            + SessionStore
            + SumdbCache
            + AdminStore
            + Database
            + 'static,
    {
        let backend = Arc::new(backend);
        Self {
            versions: backend.clone(),
            blobs: backend.clone(),
            locks: backend.clone(),
            tokens: backend.clone(),
            sessions: backend.clone(),
            sumdb: backend.clone(),
            admin: backend.clone(),
            database: backend,
        }
    }

    /// Connects to the database the URL names, with zips where `options.blobs` says.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let url = options.url.expose_secret();
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        let stores = match scheme {
            "postgres" | "postgresql" => Self::of(postgres::PgStore::connect(options)?),
            "sqlite" => Self::of(sqlite::SqliteStore::connect(options).await?),
            other => {
                return Err(StoreError::Database(format!(
                    "database_url must start with postgres:// or sqlite:// (got scheme {other:?})"
                )));
            }
        };
        Ok(match &options.blobs {
            object::BlobLocation::Database => stores.metered(),
            elsewhere => stores.with_blobs(Arc::new(object::ObjectBlobs::open(
                elsewhere,
                object::ObjectBlobs::aws_env(),
            )?)),
        })
    }

    /// These stores with zips kept in `blobs` (the database's stores must have been told, so
    /// they do not look for blobs in their own tables). Zips the database still holds are read
    /// from it when `blobs` lacks them, so a cluster can switch while its zips are being copied.
    pub fn with_blobs(self, blobs: Arc<dyn BlobStore>) -> Self {
        let blobs = Arc::new(fallback::Fallback {
            primary: blobs,
            previous: self.blobs.clone(),
        });
        Self { blobs, ..self }.metered()
    }

    fn metered(self) -> Self {
        Self {
            blobs: Arc::new(metered::Metered(self.blobs.clone())),
            ..self
        }
    }
}

/// Zip bytes per stored chunk: large enough to keep row counts low, small enough that streaming
/// many zips at once stays within a few MiB per client.
pub const CHUNK_SIZE: usize = 1 << 20;
