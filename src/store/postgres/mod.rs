//! The production store: PostgreSQL, shared by every replica. One struct holds the pools and
//! implements every store trait, one file each.

mod admin;
mod blobs;
mod locks;
mod sessions;
mod sumdb;
mod tokens;
mod versions;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};

use super::{Database, PoolStats, StoreError, StoreOptions};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    /// Serves requests.
    pool: PgPool,
    /// Stores fetched versions: a separate limit so writes never starve reads.
    fill_pool: PgPool,
    /// One connection for `/readyz`, with a short acquire timeout: a busy serving pool must not
    /// make the replica look dead.
    ready_pool: PgPool,
    /// Sessions for the fetch locks (advisory locks are per session), apart from the others so a
    /// lock is never taken on a connection that serves queries.
    lock_pool: PgPool,
    /// Zips live in this database's `blobs` table, so a version row may name only a blob found
    /// there; false when another store holds them (and proved each durable before the row).
    blobs_here: bool,
}

impl PgStore {
    /// Builds the pools without connecting: readiness reports a database that is down.
    pub fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(options.url.expose_secret())
            .map_err(|e| {
                // sqlx errors never carry the URL; be sure no password leaks through one anyway.
                StoreError::Database(format!(
                    "invalid database_url: {}",
                    crate::redact::redact(&e.to_string())
                ))
            })?
            .application_name("agora");
        let pool = pool_options(options.max_connections, options.acquire_timeout)
            .connect_lazy_with(connect.clone());
        let fill_pool = pool_options(options.fill_connections, options.acquire_timeout)
            .connect_lazy_with(connect.clone());
        let ready_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.readiness_timeout)
            .connect_lazy_with(connect.clone());
        let lock_pool = lock_pool(options.lock_connections, options.acquire_timeout, connect);
        Ok(Self {
            pool,
            fill_pool,
            ready_pool,
            lock_pool,
            blobs_here: options.blobs.is_database(),
        })
    }

    /// Every pool is `pool`, except the locks' own (tests).
    pub fn from_pool(pool: PgPool) -> Self {
        let options = pool.connect_options().as_ref().clone();
        Self {
            fill_pool: pool.clone(),
            ready_pool: pool.clone(),
            lock_pool: lock_pool(4, Duration::from_secs(30), options),
            pool,
            blobs_here: true,
        }
    }

    /// Zips are kept by another blob store (tests compose stores by hand).
    pub fn with_blobs_elsewhere(mut self) -> Self {
        self.blobs_here = false;
        self
    }
}

/// Connections each pool opens at start (`Database::warm`) and keeps when idle: enough for the
/// handful of misses a client asks for at once.
const WARM: u32 = 4;

/// A connection that sat idle is checked before use (the database may have restarted since); a
/// busy one is not, which would cost a round trip per query.
fn pool_options(max: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .min_connections(max.min(WARM))
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(1) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Idle lock sessions beyond the first few close after a minute.
fn lock_pool(max: u32, acquire_timeout: Duration, connect: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max.max(1))
        .min_connections(max.clamp(1, WARM))
        .idle_timeout(Duration::from_secs(60))
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(connect)
}

#[async_trait]
impl Database for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.ready_pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migrations_current(&self) -> Result<bool, StoreError> {
        let mut conn = self.ready_pool.acquire().await?;
        let applied: Vec<i64> = match conn
            .fetch_all("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .await
        {
            Ok(rows) => rows
                .iter()
                .map(|r| sqlx::Row::get::<i64, _>(r, 0))
                .collect(),
            // No migrations table yet.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    async fn warm(&self) {
        let pools = [
            (&self.pool, "serve"),
            (&self.fill_pool, "fill"),
            (&self.lock_pool, "lock"),
        ];
        let opened = pools.map(|(pool, name)| async move {
            let n = pool.options().get_min_connections();
            // All at once: connections acquired one after another would be the same one.
            let held = futures::future::join_all((0..n).map(|_| pool.acquire())).await;
            if let Some(Err(e)) = held.iter().find(|c| c.is_err()) {
                tracing::warn!(pool = name, error = %e, "could not open database connections ahead of use");
            }
        });
        futures::future::join_all(opened).await;
    }

    async fn close(&self) {
        self.pool.close().await;
        self.fill_pool.close().await;
        self.ready_pool.close().await;
        self.lock_pool.close().await;
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        [
            ("serve", &self.pool),
            ("fill", &self.fill_pool),
            ("ready", &self.ready_pool),
            ("lock", &self.lock_pool),
        ]
        .into_iter()
        .map(|(name, pool)| PoolStats {
            name,
            size: pool.size(),
            idle: pool.num_idle(),
        })
        .collect()
    }
}
