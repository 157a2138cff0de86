//! A per-replica cache of large zips on local disk. Stored versions never change, so a cached copy
//! can never be stale; the store stays the source of truth, and the cache is emptied at start.
//! Bounded in bytes, least-recently-used files are deleted first.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::store::{ByteStream, StoreError};

pub struct ZipCache {
    dir: PathBuf,
    /// sha256 → size; evicting an entry deletes its file.
    entries: moka::sync::Cache<String, u64>,
    /// Zips being written now, so concurrent first requests write one copy.
    filling: Mutex<HashSet<String>>,
}

impl ZipCache {
    /// Starts with an empty directory: whatever an earlier process left is not trusted.
    pub fn open(dir: PathBuf, max_bytes: u64) -> std::io::Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        // Weighed in KiB (a weight is a u32), so the capacity is too.
        // Least recently used goes first: a zip asked for once is worth keeping until pushed out.
        let entries = moka::sync::Cache::builder()
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .max_capacity(max_bytes / 1024)
            .weigher(|_, size: &u64| u32::try_from(size.div_ceil(1024)).unwrap_or(u32::MAX))
            .eviction_listener({
                let dir = dir.clone();
                move |key: std::sync::Arc<String>, _, _| {
                    let _ = std::fs::remove_file(dir.join(key.as_str()));
                }
            })
            .build();
        Ok(Self {
            dir,
            entries,
            filling: Mutex::new(HashSet::new()),
        })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// The cached file of a zip, opened, if there is one.
    pub async fn open_zip(&self, sha256: &str) -> Option<tokio::fs::File> {
        self.entries.get(sha256)?;
        tokio::fs::File::open(self.path(sha256)).await.ok()
    }

    /// Copies a stored zip into the cache unless another request is already doing so. The copy
    /// is written under a temporary name and renamed, so a reader never sees half a file.
    pub async fn fill(
        &self,
        sha256: &str,
        size: u64,
        mut chunks: ByteStream,
    ) -> Result<(), StoreError> {
        if !is_sha256(sha256) {
            return Ok(());
        }
        {
            let mut filling = self.filling.lock().unwrap_or_else(|p| p.into_inner());
            if !filling.insert(sha256.to_string()) {
                return Ok(());
            }
        }
        let result = async {
            let io = |e: std::io::Error| StoreError::Io(format!("zip cache: {e}"));
            let temp = tempfile::Builder::new()
                .prefix(".fill-")
                .tempfile_in(&self.dir)
                .map_err(io)?;
            let (std_file, temp_path) = temp.into_parts();
            let mut file = tokio::fs::File::from_std(std_file);
            let mut written = 0u64;
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                written += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            if written != size {
                return Err(StoreError::Io(format!(
                    "zip cache: read {written} of {size} bytes"
                )));
            }
            temp_path
                .persist(self.path(sha256))
                .map_err(|e| io(e.error))?;
            self.entries.insert(sha256.to_string(), size);
            Ok(())
        }
        .await;
        self.filling
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(sha256);
        result
    }

    /// Keeps a zip that is already complete in a local file (one just fetched or published):
    /// linked into the cache when on the same filesystem, copied otherwise, so the next request
    /// never reads it back from the store.
    pub async fn adopt(&self, sha256: &str, size: u64, file: &Path) -> Result<(), StoreError> {
        if !is_sha256(sha256) || self.entries.contains_key(sha256) {
            return Ok(());
        }
        let (dir, target, source) = (self.dir.clone(), self.path(sha256), file.to_path_buf());
        let kept = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            // Under a temporary name first, so a reader never sees a partial copy.
            let temp = tempfile::Builder::new()
                .prefix(".adopt-")
                .tempfile_in(&dir)?;
            let temp_path = temp.into_temp_path();
            std::fs::remove_file(&temp_path)?;
            if std::fs::hard_link(&source, &temp_path).is_err() {
                std::fs::copy(&source, &temp_path)?;
            }
            if std::fs::metadata(&temp_path)?.len() != size {
                return Ok(false);
            }
            temp_path.persist(&target).map_err(|e| e.error)?;
            Ok(true)
        })
        .await
        .map_err(|e| StoreError::Io(format!("zip cache: {e}")))?
        .map_err(|e| StoreError::Io(format!("zip cache: {e}")))?;
        if kept {
            self.entries.insert(sha256.to_string(), size);
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Cache file names come from the store; accept only what a sha256 hex digest looks like.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn stream(data: Vec<u8>) -> ByteStream {
        Box::pin(futures::stream::once(async move {
            Ok(bytes::Bytes::from(data))
        }))
    }

    fn dir_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    #[tokio::test]
    async fn stays_within_its_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("zips");
        // Room for three 100 KiB zips.
        let cache = ZipCache::open(dir.clone(), 300 << 10).unwrap();
        for i in 0..20u8 {
            let sha = format!("{i:02x}").repeat(32);
            cache
                .fill(&sha, 100 << 10, stream(vec![i; 100 << 10]))
                .await
                .unwrap();
            cache.entries.run_pending_tasks();
            assert!(
                dir_bytes(&dir) <= 300 << 10,
                "{} bytes on disk after {} zips",
                dir_bytes(&dir),
                i + 1
            );
        }
        let last = format!("{:02x}", 19).repeat(32);
        assert!(cache.open_zip(&last).await.is_some());
    }

    #[tokio::test]
    async fn adopts_a_complete_file_and_stays_within_its_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("zips");
        let cache = ZipCache::open(dir.clone(), 300 << 10).unwrap();
        for i in 0..10u8 {
            let source = tmp.path().join(format!("fetched-{i}"));
            std::fs::write(&source, vec![i; 100 << 10]).unwrap();
            let sha = format!("{i:02x}").repeat(32);
            cache.adopt(&sha, 100 << 10, &source).await.unwrap();
            // The fetcher deletes its file afterwards; the cached copy stays.
            std::fs::remove_file(&source).unwrap();
            cache.entries.run_pending_tasks();
            assert!(dir_bytes(&dir) <= 300 << 10, "{} bytes", dir_bytes(&dir));
            let mut copy = Vec::new();
            use tokio::io::AsyncReadExt;
            cache
                .open_zip(&sha)
                .await
                .unwrap()
                .read_to_end(&mut copy)
                .await
                .unwrap();
            assert_eq!(copy, vec![i; 100 << 10]);
        }
        // A file whose size is not the one named is not kept.
        let source = tmp.path().join("short");
        std::fs::write(&source, b"short").unwrap();
        let sha = "ab".repeat(32);
        cache.adopt(&sha, 100, &source).await.unwrap();
        assert!(cache.open_zip(&sha).await.is_none());
    }
}
