//! Checksum database answers.

use async_trait::async_trait;
use bytes::Bytes;

use super::PgStore;
use crate::store::{StoreError, SumdbCache};

#[async_trait]
impl SumdbCache for PgStore {
    async fn sumdb_get(&self, name: &str, path: &str) -> Result<Option<Bytes>, StoreError> {
        let body = sqlx::query_scalar!(
            "SELECT body FROM sumdb_cache WHERE name = $1 AND path = $2",
            name,
            path
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(body.map(Bytes::from))
    }

    async fn sumdb_put(&self, name: &str, path: &str, body: &[u8]) -> Result<(), StoreError> {
        sqlx::query!(
            r#"INSERT INTO sumdb_cache (name, path, body) VALUES ($1, $2, $3)
               ON CONFLICT (name, path) DO UPDATE SET body = EXCLUDED.body, fetched_at = now()"#,
            name,
            path,
            body
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
