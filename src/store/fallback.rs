//! Blobs in a new store, read from the old one when the new one lacks them: while a cluster moves
//! its zips (`agora blobs migrate`) and rolls its replicas, a version fetched by a replica still
//! on the old store is served by those already on the new one. Writes go to the new store only.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::blobs::Put;
use super::{Blob, BlobList, BlobRef, BlobStore, StoreError};

pub struct Fallback {
    pub primary: Arc<dyn BlobStore>,
    /// Read when the primary lacks a blob (the database's own tables).
    pub previous: Arc<dyn BlobStore>,
}

#[async_trait]
impl BlobStore for Fallback {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
        self.primary.put(blob, file).await
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        match self.primary.open(blob).await {
            Err(StoreError::MissingBlob(e)) => match self.previous.open(blob).await {
                Err(StoreError::MissingBlob(_)) => Err(StoreError::MissingBlob(e)),
                found => found,
            },
            other => other,
        }
    }

    /// From both: a deleted version's zip must not come back from the other.
    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        self.primary.delete(blob).await?;
        self.previous.delete(blob).await
    }

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        Ok(self.primary.contains(blob).await? || self.previous.contains(blob).await?)
    }

    fn list(&self) -> BlobList {
        self.primary.list()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.primary.ping().await
    }

    /// Only for a blob the previous store does not hold: one it holds may not have been copied
    /// yet, and is streamed instead.
    async fn presign(&self, blob: &BlobRef, ttl: Duration) -> Result<Option<String>, StoreError> {
        if self.previous.contains(blob).await? {
            return Ok(None);
        }
        self.primary.presign(blob, ttl).await
    }

    fn describe(&self) -> String {
        self.primary.describe()
    }
}
