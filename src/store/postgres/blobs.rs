//! Zips as rows of bounded chunks, keyed by their sha256.

use std::path::Path;

use async_trait::async_trait;

use super::PgStore;
use crate::store::blobs::{
    BlobList, ChunkReader, LIST_PAGE, Put, chunk_count, paged_list, slice_stream,
};
use crate::store::{Blob, BlobBody, BlobRef, BlobStore, StoreError};

/// Bytes per read when serving: an eighth of a stored chunk, so a response holds little and no
/// connection's buffer grows to a whole chunk (measured: 1 MiB reads doubled peak memory for a
/// few percent of throughput).
const READ_SIZE: usize = 128 << 10;

#[async_trait]
impl BlobStore for PgStore {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
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
            return Ok(Put::Existed);
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
        Ok(Put::Written)
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        // The size and the first read in one round trip: a small zip is one query.
        let head = sqlx::query!(
            r#"SELECT b.size, substring(c.data FROM 1 FOR $2) AS "head?"
               FROM blobs b LEFT JOIN blob_chunks c ON c.sha256 = b.sha256 AND c.seq = 0
               WHERE b.sha256 = $1"#,
            blob.sha256,
            READ_SIZE as i32
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(head) = head.filter(|h| h.size == blob.size as i64) else {
            return Err(StoreError::MissingBlob(blob.sha256.clone()));
        };
        let pool = self.pool.clone();
        let stream = slice_stream(blob, READ_SIZE, head.head, move |sha256, slice| {
            let pool = pool.clone();
            async move {
                // Chunks are stored uncompressed (STORAGE EXTERNAL), so PostgreSQL reads only
                // the part of the chunk asked for.
                Ok(sqlx::query_scalar!(
                    r#"SELECT substring(data FROM $3 FOR $4) AS "data!"
                       FROM blob_chunks WHERE sha256 = $1 AND seq = $2"#,
                    sha256,
                    slice.seq as i32,
                    slice.offset as i32 + 1,
                    slice.len as i32
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

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        // A blob's row and its chunks commit together.
        let size = sqlx::query_scalar!("SELECT size FROM blobs WHERE sha256 = $1", blob.sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(size == Some(blob.size as i64))
    }

    fn list(&self) -> BlobList {
        let pool = self.pool.clone();
        paged_list(move |after| {
            let pool = pool.clone();
            async move {
                let rows = sqlx::query!(
                    r#"SELECT sha256, size, extract(epoch FROM created_at)::bigint AS "created!"
                       FROM blobs WHERE sha256 > $1 ORDER BY sha256 LIMIT $2"#,
                    after,
                    LIST_PAGE
                )
                .fetch_all(&pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| (r.sha256, r.size, r.created))
                    .collect())
            }
        })
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        sqlx::query!("DELETE FROM blobs WHERE sha256 = $1", blob.sha256)
            .execute(&self.fill_pool)
            .await?;
        Ok(())
    }
}
