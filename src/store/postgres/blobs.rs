//! Zips as rows of bounded chunks, keyed by their sha256.

use std::path::Path;

use async_trait::async_trait;

use super::PgStore;
use crate::store::blobs::{ChunkReader, chunk_count, chunk_stream};
use crate::store::{Blob, BlobBody, BlobRef, BlobStore, StoreError};

#[async_trait]
impl BlobStore for PgStore {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<(), StoreError> {
        let mut tx = self.fill_pool.begin().await?;
        let new = sqlx::query_scalar!(
            r#"INSERT INTO blobs (sha256, size) VALUES ($1, $2)
               ON CONFLICT (sha256) DO NOTHING RETURNING sha256"#,
            blob.sha256,
            blob.size as i64
        )
        .fetch_optional(&mut *tx)
        .await?;
        if new.is_none() {
            // Content-addressed: what is stored under this address is these bytes.
            tx.rollback().await?;
            return Ok(());
        }
        let mut chunks = ChunkReader::open(file).await?;
        let mut count = 0u32;
        let mut written = 0u64;
        while let Some(data) = chunks.next().await? {
            written += data.len() as u64;
            sqlx::query!(
                "INSERT INTO blob_chunks (sha256, seq, data) VALUES ($1, $2, $3)",
                blob.sha256,
                count as i32,
                data
            )
            .execute(&mut *tx)
            .await?;
            count += 1;
        }
        if written != blob.size || count != chunk_count(blob.size) {
            return Err(StoreError::Io(format!(
                "zip changed while storing: {written} bytes, {} declared",
                blob.size
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        let size = sqlx::query_scalar!("SELECT size FROM blobs WHERE sha256 = $1", blob.sha256)
            .fetch_optional(&self.pool)
            .await?;
        if size != Some(blob.size as i64) {
            return Err(StoreError::MissingBlob(blob.sha256.clone()));
        }
        let pool = self.pool.clone();
        let stream = chunk_stream(blob, move |sha256, seq| {
            let pool = pool.clone();
            async move {
                Ok(sqlx::query_scalar!(
                    "SELECT data FROM blob_chunks WHERE sha256 = $1 AND seq = $2",
                    sha256,
                    seq as i32
                )
                .fetch_optional(&pool)
                .await?)
            }
        });
        Ok(Blob {
            size: blob.size,
            body: BlobBody::Stream(stream),
        })
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        sqlx::query!("DELETE FROM blobs WHERE sha256 = $1", blob.sha256)
            .execute(&self.fill_pool)
            .await?;
        Ok(())
    }
}
