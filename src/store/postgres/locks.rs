//! The fetch lock: a session-level advisory lock, on a connection from a small pool kept for
//! locks alone. Reusing sessions saves a connection (and a TLS handshake) per fetch; a session is
//! only ever returned to the pool once it provably holds no advisory lock, otherwise it is closed,
//! which frees whatever it held.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::PgStore;
use crate::store::locks::lock_key;
use crate::store::{FetchLock, LockService, StoreError};

/// `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

struct PgLock {
    /// `None` once released.
    conn: Option<PoolConnection<Postgres>>,
}

#[async_trait]
impl FetchLock for PgLock {
    async fn release(mut self: Box<Self>) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // All of this session's advisory locks: if any other were held by mistake, it goes too.
        let unlocked = sqlx::query!("SELECT pg_advisory_unlock_all() AS done")
            .fetch_one(&mut *conn)
            .await;
        if let Err(e) = unlocked {
            // Closing the session frees the lock anyway; it must not go back to the pool.
            tracing::warn!(error = %e, "advisory unlock failed; closing the lock session");
            conn.close_on_drop();
        }
    }
}

impl Drop for PgLock {
    /// Dropped without `release` (a cancelled fetch): the session may still hold the lock, so it
    /// is closed rather than returned.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.close_on_drop();
        }
    }
}

#[async_trait]
impl LockService for PgStore {
    async fn lock(&self, key: &str, wait: Duration) -> Result<Box<dyn FetchLock>, StoreError> {
        let mut conn = self.lock_pool.acquire().await?;
        let key = lock_key(key);
        let millis = wait.as_millis().max(1).to_string();
        // Session-level, like the lock; every lock sets its own wait.
        sqlx::query!("SELECT set_config('lock_timeout', $1, false) AS t", millis)
            .fetch_one(&mut *conn)
            .await?;
        match sqlx::query!("SELECT pg_advisory_lock($1) AS locked", key)
            .fetch_one(&mut *conn)
            .await
        {
            Ok(_) => Ok(Box::new(PgLock { conn: Some(conn) })),
            // Timed out waiting: this session holds nothing, it can go back.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
                Err(StoreError::LockTimeout(wait))
            }
            Err(e) => {
                conn.close_on_drop();
                Err(e.into())
            }
        }
    }
}
