//! Checksum database answers.

use async_trait::async_trait;
use bytes::Bytes;

use super::SqliteStore;
use crate::store::{StoreError, SumdbCache};

#[async_trait]
impl SumdbCache for SqliteStore {
    async fn sumdb_get(&self, name: &str, path: &str) -> Result<Option<Bytes>, StoreError> {
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM sumdb_cache WHERE name = ?1 AND path = ?2")
                .bind(name)
                .bind(path)
                .fetch_optional(&self.pool)
                .await?;
        Ok(body.map(Bytes::from))
    }

    async fn sumdb_put(&self, name: &str, path: &str, body: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sumdb_cache (name, path, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (name, path) DO UPDATE SET body = excluded.body,
             fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        )
        .bind(name)
        .bind(path)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
