//! The fetch lock: a session-level advisory lock on a dedicated connection.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::PgStore;
use crate::store::locks::lock_key;
use crate::store::{FetchLock, LockService, StoreError};

/// `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

struct PgLock {
    conn: PgConnection,
    key: i64,
}

#[async_trait]
impl FetchLock for PgLock {
    async fn release(mut self: Box<Self>) {
        // If the unlock fails, closing the session frees the lock anyway.
        let _ = sqlx::query!("SELECT pg_advisory_unlock($1) AS unlocked", self.key)
            .fetch_one(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
    }
}

#[async_trait]
impl LockService for PgStore {
    async fn lock(&self, key: &str, wait: Duration) -> Result<Box<dyn FetchLock>, StoreError> {
        // A dedicated session, never a pooled one: if this replica dies the connection closes and
        // the lock goes with it, and it can never leak back into a pool.
        let mut conn = PgConnection::connect_with(&self.options).await?;
        let key = lock_key(key);
        let millis = wait.as_millis().max(1).to_string();
        sqlx::query!("SELECT set_config('lock_timeout', $1, false) AS t", millis)
            .fetch_one(&mut conn)
            .await?;
        match sqlx::query!("SELECT pg_advisory_lock($1) AS locked", key)
            .fetch_one(&mut conn)
            .await
        {
            Ok(_) => Ok(Box::new(PgLock { conn, key })),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
                let _ = conn.close().await;
                Err(StoreError::LockTimeout(wait))
            }
            Err(e) => Err(e.into()),
        }
    }
}
