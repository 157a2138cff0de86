//! Checksum database answers kept for clients that verify while the database is unreachable.

use async_trait::async_trait;
use bytes::Bytes;

use super::StoreError;

#[async_trait]
pub trait SumdbCache: Send + Sync {
    /// A cached answer (`path` relative to `/sumdb/<name>/`).
    async fn sumdb_get(&self, name: &str, path: &str) -> Result<Option<Bytes>, StoreError>;
    /// Stores (or replaces) an answer.
    async fn sumdb_put(&self, name: &str, path: &str, body: &[u8]) -> Result<(), StoreError>;
}
