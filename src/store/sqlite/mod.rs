//! The embedded store: one SQLite file, for a single `agora` process with nothing to install.
//! SQL here is checked at run time (the compile-time checked macros serve the PostgreSQL store);
//! the store contract tests run every query against both. Write transactions begin `IMMEDIATE`:
//! a deferred one that has read first cannot wait for the write lock, SQLite fails it at once.

mod admin;
mod blobs;
mod sessions;
mod sumdb;
mod tokens;
mod versions;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{Database, FetchLock, LockService, PoolStats, StoreError, StoreOptions};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// Zips live in this file's `blobs` table (see the PostgreSQL store's field).
    blobs_here: bool,
}

impl SqliteStore {
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(options.url.expose_secret())
            .map_err(|e| StoreError::Database(format!("invalid database_url: {e}")))?;
        let path = connect.get_filename().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(tuned(connect).create_if_missing(true))
            .await?;
        Ok(Self {
            pool,
            blobs_here: options.blobs.is_database(),
        })
    }

    /// A store over `pool` as it is (an in-memory database lives only as long as its pool).
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            pool,
            blobs_here: true,
        }
    }

    /// Zips are kept by another blob store (tests compose stores by hand).
    pub fn with_blobs_elsewhere(mut self) -> Self {
        self.blobs_here = false;
        self
    }

    /// The file database behind `pool` (a test's), opened again with the settings `connect`
    /// uses: the pool's own options (sqlx's defaults: rollback journal, 5 s busy wait) are not
    /// the ones this store runs with. The file turns to WAL here, once: connections opening at
    /// the same moment while it changes would fail at once (a journal mode change cannot wait).
    pub async fn reopen(pool: &SqlitePool) -> Result<Self, StoreError> {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(pool)
            .await?;
        let options = tuned((*pool.connect_options()).clone());
        Ok(Self {
            pool: SqlitePoolOptions::new()
                .max_connections(pool.options().get_max_connections().clamp(2, 16))
                .connect_lazy_with(options),
            blobs_here: true,
        })
    }
}

/// WAL, so readers never wait for a writer; a long busy wait, since a large zip's write holds the
/// only write lock while it lasts.
fn tuned(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
}

/// One process owns the file, and the in-process single flight already runs one fetch per
/// version, so the cluster lock has nothing left to do.
struct LocalLock;

#[async_trait]
impl FetchLock for LocalLock {
    async fn release(self: Box<Self>) {}
}

#[async_trait]
impl LockService for SqliteStore {
    async fn lock(&self, _key: &str, _wait: Duration) -> Result<Box<dyn FetchLock>, StoreError> {
        Ok(Box::new(LocalLock))
    }
}

#[async_trait]
impl Database for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migrations_current(&self) -> Result<bool, StoreError> {
        let applied: Vec<i64> =
            match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&self.pool)
                .await
            {
                Ok(v) => v,
                Err(sqlx::Error::Database(e)) if e.message().contains("no such table") => {
                    Vec::new()
                }
                Err(e) => return Err(e.into()),
            };
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![PoolStats {
            name: "serve",
            size: self.pool.size(),
            idle: self.pool.num_idle(),
        }]
    }
}
