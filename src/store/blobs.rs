//! Zip bytes, content-addressed by their sha256: put from a local file, opened as a stream of
//! bounded chunks. How a backend lays them out (rows of chunks, objects, files) stays behind this
//! trait.

use std::path::Path;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use super::StoreError;

/// A stored zip: its content address (hex sha256) and length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
}

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send>>;

/// An opened blob.
pub struct Blob {
    pub size: u64,
    pub body: BlobBody,
}

pub enum BlobBody {
    /// Small enough to hold (a cache's copy).
    Bytes(Bytes),
    /// Bounded chunks, read as they are sent.
    Stream(ByteStream),
}

impl Blob {
    /// The body as a stream, whatever it is.
    pub fn into_stream(self) -> ByteStream {
        match self.body {
            BlobBody::Bytes(b) => Box::pin(futures::stream::once(async move { Ok(b) })),
            BlobBody::Stream(s) => s,
        }
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `file`, whose sha256 and size the caller computed, under its address. Storing the
    /// same blob again changes nothing. When it returns, the blob is durable.
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<(), StoreError>;
    /// The blob's bytes; [`StoreError::MissingBlob`] when it is not stored.
    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError>;
    /// Removes a blob no version names any more.
    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError>;
}

/// Reads a file to store in [`super::CHUNK_SIZE`] pieces: one chunk in memory at a time.
pub(crate) struct ChunkReader {
    file: tokio::fs::File,
}

impl ChunkReader {
    pub(crate) async fn open(path: &Path) -> Result<Self, StoreError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        Ok(Self { file })
    }

    pub(crate) async fn next(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        use tokio::io::AsyncReadExt;
        let size = super::CHUNK_SIZE;
        let mut buf = Vec::with_capacity(size);
        while buf.len() < size {
            let n = (&mut self.file)
                .take((size - buf.len()) as u64)
                .read_to_end(&mut buf)
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?;
            if n == 0 {
                break;
            }
        }
        Ok((!buf.is_empty()).then_some(buf))
    }
}

/// A stored blob's chunks as a stream: `fetch(sha256, seq)` reads one chunk, each as it is sent,
/// so no connection is held between them and a slow client pins nothing.
pub(crate) fn chunk_stream<F, Fut>(blob: &BlobRef, fetch: F) -> ByteStream
where
    F: Fn(String, u32) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send + 'static,
{
    let (sha256, count) = (blob.sha256.clone(), chunk_count(blob.size));
    Box::pin(futures::stream::try_unfold(0u32, move |seq| {
        let next = (seq < count).then(|| fetch(sha256.clone(), seq));
        let sha256 = sha256.clone();
        async move {
            let Some(next) = next else { return Ok(None) };
            match next.await? {
                Some(data) => Ok(Some((Bytes::from(data), seq + 1))),
                None => Err(StoreError::MissingBlob(format!("{sha256} chunk {seq}"))),
            }
        }
    }))
}

/// How many chunks a zip of `size` bytes is stored in.
pub fn chunk_count(size: u64) -> u32 {
    size.div_ceil(super::CHUNK_SIZE as u64) as u32
}
