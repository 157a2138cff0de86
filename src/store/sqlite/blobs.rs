//! Zips as rows of bounded chunks, keyed by their sha256.

use std::path::Path;

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::blobs::{
    BlobList, ChunkReader, LIST_PAGE, Put, chunk_count, paged_list, slice_stream,
};
use crate::store::{Blob, BlobBody, BlobRef, BlobStore, CHUNK_SIZE, StoreError};

#[async_trait]
impl BlobStore for SqliteStore {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let new = sqlx::query(
            "INSERT INTO blobs (sha256, size) VALUES (?1, ?2) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&blob.sha256)
        .bind(blob.size as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if new == 0 {
            // Content-addressed: what is stored under this address is these bytes.
            tx.rollback().await?;
            return Ok(Put::Existed);
        }
        let mut chunks = ChunkReader::open(file).await?;
        let (mut count, mut written) = (0u32, 0u64);
        while let Some(data) = chunks.next().await? {
            written += data.len() as u64;
            sqlx::query("INSERT INTO blob_chunks (sha256, seq, data) VALUES (?1, ?2, ?3)")
                .bind(&blob.sha256)
                .bind(count as i64)
                .bind(data)
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
        Ok(Put::Written)
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        // The size and the first chunk in one query: a small zip is one read.
        let head: Option<(i64, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT b.size, c.data FROM blobs b
             LEFT JOIN blob_chunks c ON c.sha256 = b.sha256 AND c.seq = 0
             WHERE b.sha256 = ?1",
        )
        .bind(&blob.sha256)
        .fetch_optional(&self.pool)
        .await?;
        let Some((_, first)) = head.filter(|(size, _)| *size == blob.size as i64) else {
            return Err(StoreError::MissingBlob(blob.sha256.clone()));
        };
        let pool = self.pool.clone();
        // Whole chunks: SQLite reads a whole value to take a part of it.
        let stream = slice_stream(blob, CHUNK_SIZE, first, move |sha256, slice| {
            let pool = pool.clone();
            async move {
                Ok(sqlx::query_scalar(
                    "SELECT data FROM blob_chunks WHERE sha256 = ?1 AND seq = ?2",
                )
                .bind(sha256)
                .bind(slice.seq as i64)
                .fetch_optional(&pool)
                .await?)
            }
        });
        Ok(Blob {
            size: blob.size,
            body: BlobBody::Stream(stream),
        })
    }

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        let size: Option<i64> = sqlx::query_scalar("SELECT size FROM blobs WHERE sha256 = ?1")
            .bind(&blob.sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(size == Some(blob.size as i64))
    }

    fn list(&self) -> BlobList {
        let pool = self.pool.clone();
        paged_list(move |after| {
            let pool = pool.clone();
            async move {
                Ok(sqlx::query_as(
                    "SELECT sha256, size, CAST(strftime('%s', created_at) AS INTEGER)
                     FROM blobs WHERE sha256 > ?1 ORDER BY sha256 LIMIT ?2",
                )
                .bind(after)
                .bind(LIST_PAGE)
                .fetch_all(&pool)
                .await?)
            }
        })
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM blobs WHERE sha256 = ?1")
            .bind(&blob.sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
