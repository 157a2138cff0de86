//! Zips served from memory (small ones) or local disk (large ones), filled from the store on
//! first use.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;

use super::ZipCache;
use crate::store::blobs::Put;
use crate::store::{Blob, BlobBody, BlobList, BlobRef, BlobStore, StoreError};

/// Read size when serving a cached zip file: small, since every read is a buffer held per
/// client (measured with 8 clients: 64 KiB peaks 7 MiB lower than 256 KiB).
const FILE_CHUNK: usize = 64 << 10;

/// A [`BlobStore`] that keeps small zips in memory and copies large ones to local disk.
pub struct CachedBlobs {
    inner: Arc<dyn BlobStore>,
    small: moka::sync::Cache<String, Bytes>,
    /// Zips up to this size are kept in memory.
    memory_max: u64,
    disk: Option<ZipCache>,
}

impl CachedBlobs {
    pub fn new(
        inner: Arc<dyn BlobStore>,
        memory_bytes: u64,
        memory_max: u64,
        disk: Option<ZipCache>,
    ) -> Self {
        Self {
            inner,
            small: moka::sync::Cache::builder()
                .max_capacity(memory_bytes.max(1))
                .weigher(|_, v: &Bytes| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .build(),
            memory_max,
            disk,
        }
    }

    /// The local copy of a large zip, made on first use; straight from the store when there is
    /// no disk cache or it fails.
    async fn large(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        let Some(disk) = &self.disk else {
            return self.inner.open(blob).await;
        };
        if let Some(file) = disk.open_zip(&blob.sha256).await {
            return Ok(file_blob(blob, file));
        }
        let stream = self.inner.open(blob).await?.into_stream();
        match disk.fill(&blob.sha256, blob.size, stream).await {
            Ok(()) => {
                if let Some(file) = disk.open_zip(&blob.sha256).await {
                    return Ok(file_blob(blob, file));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not cache the zip on disk; serving from the store")
            }
        }
        self.inner.open(blob).await
    }
}

/// A local zip file as a blob, read in small pieces.
pub fn file_blob(blob: &BlobRef, file: tokio::fs::File) -> Blob {
    let stream = tokio_util::io::ReaderStream::with_capacity(file, FILE_CHUNK)
        .map_err(|e| StoreError::Io(format!("zip cache: {e}")));
    Blob {
        size: blob.size,
        body: BlobBody::Stream(Box::pin(stream)),
    }
}

#[async_trait]
impl BlobStore for CachedBlobs {
    /// Stores the blob, then keeps the local file's bytes here too: the requests that follow a
    /// fetch are served from them instead of reading back what was just written.
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
        let put = self.inner.put(blob, file).await?;
        if blob.size <= self.memory_max {
            if let Ok(bytes) = tokio::fs::read(file).await
                && bytes.len() as u64 == blob.size
            {
                self.small.insert(blob.sha256.clone(), Bytes::from(bytes));
            }
        } else if let Some(disk) = &self.disk
            && let Err(e) = disk.adopt(&blob.sha256, blob.size, file).await
        {
            tracing::warn!(error = %e, "could not keep the stored zip in the disk cache");
        }
        Ok(put)
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        if let Some(bytes) = self.small.get(&blob.sha256) {
            return Ok(Blob {
                size: blob.size,
                body: BlobBody::Bytes(bytes),
            });
        }
        if blob.size > self.memory_max {
            return self.large(blob).await;
        }
        // Small: at most `memory_max` bytes are collected.
        let chunks: Vec<Bytes> = self
            .inner
            .open(blob)
            .await?
            .into_stream()
            .try_collect()
            .await?;
        let bytes = Bytes::from(chunks.concat());
        if bytes.len() as u64 != blob.size {
            return Err(StoreError::MissingBlob(blob.sha256.clone()));
        }
        self.small.insert(blob.sha256.clone(), bytes.clone());
        Ok(Blob {
            size: blob.size,
            body: BlobBody::Bytes(bytes),
        })
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        self.small.invalidate(&blob.sha256);
        self.inner.delete(blob).await
    }

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        self.inner.contains(blob).await
    }

    fn list(&self) -> BlobList {
        self.inner.list()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    /// Always the backend's own URL: a redirect never points at a replica's cache.
    async fn presign(
        &self,
        blob: &BlobRef,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, StoreError> {
        self.inner.presign(blob, ttl).await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
