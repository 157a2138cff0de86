//! Zip bytes, content-addressed by their sha256: put from a local file, opened as a stream of
//! bounded chunks. How a backend lays them out (rows of chunks, objects, files) stays behind this
//! trait.

use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

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

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The bytes were written.
    Written,
    /// The blob was stored already; nothing was sent.
    Existed,
}

/// A blob as a listing sees it: its address and when it was stored.
#[derive(Debug, Clone)]
pub struct ListedBlob {
    pub blob: BlobRef,
    pub created: SystemTime,
}

/// Every stored blob, in no particular order, read page by page.
pub type BlobList = Pin<Box<dyn Stream<Item = Result<ListedBlob, StoreError>> + Send>>;

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
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError>;
    /// The blob's bytes; [`StoreError::MissingBlob`] when it is not stored.
    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError>;
    /// Removes a blob no version names any more.
    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError>;
    /// Whether the blob is stored whole.
    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError>;
    /// Every stored blob (for `agora blobs`).
    fn list(&self) -> BlobList;
    /// Reachable, for readiness. The database's blobs answer with the database.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// A URL that serves the blob for `ttl` without agora, when the backend can make one.
    async fn presign(&self, _blob: &BlobRef, _ttl: Duration) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    /// Where the blobs are, for logs and reports (`database`, `s3://bucket/prefix`, …).
    fn describe(&self) -> String {
        "database".to_string()
    }
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

/// One read of a stored blob: `len` bytes at `offset` within chunk `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    pub seq: u32,
    pub offset: u32,
    pub len: u32,
}

/// The reads that make up a blob of `size` bytes, `read_size` bytes at most each (a read never
/// spans two chunks).
pub(crate) fn slices(size: u64, read_size: usize) -> impl Iterator<Item = Slice> + Send {
    let chunk = super::CHUNK_SIZE as u64;
    let read = read_size.clamp(1, super::CHUNK_SIZE) as u64;
    (0..chunk_count(size)).flat_map(move |seq| {
        let in_chunk = (size - u64::from(seq) * chunk).min(chunk);
        (0..in_chunk.div_ceil(read)).map(move |i| Slice {
            seq,
            offset: (i * read) as u32,
            len: (in_chunk - i * read).min(read) as u32,
        })
    })
}

/// A stored blob as a stream of reads, `fetch(sha256, slice)` each. `first` is the first read
/// when the caller made it already (with the blob's size, in one round trip). The next read is
/// under way while the current one is sent, so a response waits on the database once, not once
/// per read; no connection is held between reads, so a slow client pins nothing. At most two
/// reads are in memory per response.
pub(crate) fn slice_stream<F, Fut>(
    blob: &BlobRef,
    read_size: usize,
    first: Option<Vec<u8>>,
    fetch: F,
) -> ByteStream
where
    F: Fn(String, Slice) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send + 'static,
{
    use futures::StreamExt;
    let sha256 = blob.sha256.clone();
    let mut reads = slices(blob.size, read_size).peekable();
    let head = match first {
        Some(data) => {
            let expected = reads.next().map_or(0, |s| s.len as usize);
            if expected != data.len() {
                let err = StoreError::MissingBlob(format!("{sha256}: first read is short"));
                return Box::pin(futures::stream::once(async move { Err(err) }));
            }
            Some(Ok(Bytes::from(data)))
        }
        None => None,
    };
    let rest = futures::stream::iter(reads)
        .map(move |slice| {
            let (sha256, read) = (sha256.clone(), fetch(sha256.clone(), slice));
            async move {
                match read.await? {
                    Some(data) if data.len() == slice.len as usize => Ok(Bytes::from(data)),
                    _ => Err(StoreError::MissingBlob(format!(
                        "{sha256} chunk {} at {}",
                        slice.seq, slice.offset
                    ))),
                }
            }
        })
        .buffered(2);
    Box::pin(futures::stream::iter(head).chain(rest))
}

/// Rows of a blob listing: sha256, size, seconds since the epoch it was stored.
pub(crate) type BlobRow = (String, i64, i64);

/// Blobs listed a page at a time in address order, `page(after)` each (the rows after that
/// address), so a listing of millions holds one page.
pub(crate) fn paged_list<F, Fut>(page: F) -> BlobList
where
    F: Fn(String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Vec<BlobRow>, StoreError>> + Send + 'static,
{
    use futures::{StreamExt, TryStreamExt};
    let pages = futures::stream::try_unfold(Some(String::new()), move |after| {
        let next = after.map(&page);
        async move {
            let Some(next) = next else {
                return Ok::<_, StoreError>(None);
            };
            let rows = next.await?;
            let last = (rows.len() >= LIST_PAGE as usize)
                .then(|| rows.last().map(|r| r.0.clone()))
                .flatten();
            Ok(Some((rows, last)))
        }
    });
    Box::pin(
        pages
            .map_ok(|rows| {
                futures::stream::iter(rows.into_iter().map(|(sha256, size, secs)| {
                    Ok(ListedBlob {
                        blob: BlobRef {
                            sha256,
                            size: size.max(0) as u64,
                        },
                        created: SystemTime::UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64),
                    })
                }))
            })
            .try_flatten()
            .boxed(),
    )
}

/// Rows per page of a database listing.
pub(crate) const LIST_PAGE: i64 = 500;

/// How many chunks a zip of `size` bytes is stored in.
pub fn chunk_count(size: u64) -> u32 {
    size.div_ceil(super::CHUNK_SIZE as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CHUNK_SIZE;

    const K: u32 = 1 << 10;
    const C: u64 = CHUNK_SIZE as u64;

    fn s(seq: u32, offset: u32, len: u32) -> Slice {
        Slice { seq, offset, len }
    }

    #[test]
    fn reads_cover_a_blob_once_in_order_within_chunks() {
        let table: Vec<(u64, usize, Vec<Slice>)> = vec![
            (0, 256 << 10, vec![]),
            (1, 256 << 10, vec![s(0, 0, 1)]),
            (
                300 << 10,
                256 << 10,
                vec![s(0, 0, 256 * K), s(0, 256 * K, 44 * K)],
            ),
            (
                C,
                256 << 10,
                vec![
                    s(0, 0, 256 * K),
                    s(0, 256 * K, 256 * K),
                    s(0, 512 * K, 256 * K),
                    s(0, 768 * K, 256 * K),
                ],
            ),
            (C + 1, CHUNK_SIZE, vec![s(0, 0, C as u32), s(1, 0, 1)]),
            (
                2 * C - 5,
                CHUNK_SIZE,
                vec![s(0, 0, C as u32), s(1, 0, C as u32 - 5)],
            ),
            // A read size above the chunk size is a whole chunk; zero is one byte.
            (C + 2, 4 * CHUNK_SIZE, vec![s(0, 0, C as u32), s(1, 0, 2)]),
            (2, 0, vec![s(0, 0, 1), s(0, 1, 1)]),
        ];
        for (size, read, want) in table {
            let got: Vec<Slice> = slices(size, read).collect();
            assert_eq!(got, want, "size {size}, read {read}");
            let total: u64 = got.iter().map(|s| u64::from(s.len)).sum();
            assert_eq!(total, size);
        }
    }
}
