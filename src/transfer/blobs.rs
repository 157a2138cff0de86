//! `agora blobs`: copy every zip from one blob store to another (`migrate`), remove blobs no
//! version names (`gc`), re-hash everything (`verify`).
//!
//! A copy is read into a local file while its sha256 is computed, checked against its address,
//! and only then put: the destination never holds bytes that are not the zip's. Puts are atomic
//! in every backend (a transaction, a completed multipart upload, a rename), so an interrupted
//! migration leaves nothing partial, and running it again copies only what is still missing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::store::{BlobRef, BlobStore, ListedBlob, StoreError};

/// Copies running at once: enough to keep an object store busy, few enough for two cores.
const PARALLEL: usize = 4;

#[derive(Debug, Default)]
pub struct MigrateReport {
    pub copied: u64,
    pub bytes: u64,
    /// Already at the destination (an earlier, interrupted run copied them).
    pub present: u64,
    /// Blobs whose bytes do not match their address, or that could not be read: not copied.
    pub failed: Vec<String>,
    /// Blobs that versions name and the destination still lacks.
    pub missing: Vec<BlobRef>,
}

/// Copies every blob of `from` that `to` lacks, then checks that `to` holds every blob in
/// `named` (the ones versions name).
pub async fn migrate(
    from: Arc<dyn BlobStore>,
    to: Arc<dyn BlobStore>,
    named: &[BlobRef],
    temp_dir: &Path,
    bar: &ProgressBar,
) -> Result<MigrateReport, StoreError> {
    let listed: Vec<ListedBlob> = from.list().try_collect().await?;
    bar.set_length(listed.len() as u64);
    let results: Vec<(BlobRef, Result<bool, StoreError>)> = futures::stream::iter(listed)
        .map(|item| {
            let (from, to) = (from.clone(), to.clone());
            async move {
                let result = copy_one(from.as_ref(), to.as_ref(), &item.blob, temp_dir).await;
                bar.inc(1);
                (item.blob, result)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut report = MigrateReport::default();
    for (blob, result) in results {
        match result {
            Ok(true) => {
                report.copied += 1;
                report.bytes += blob.size;
            }
            Ok(false) => report.present += 1,
            // The destination or the source is down: stop, a rerun resumes.
            Err(e @ StoreError::Unavailable(_)) => return Err(e),
            Err(e) => report.failed.push(format!("{}: {e}", blob.sha256)),
        }
    }
    report.missing = missing_from(to.as_ref(), named).await?;
    Ok(report)
}

/// Whether it copied (false: the destination had it).
async fn copy_one(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    blob: &BlobRef,
    temp_dir: &Path,
) -> Result<bool, StoreError> {
    if to.contains(blob).await? {
        return Ok(false);
    }
    let file = tempfile::NamedTempFile::new_in(temp_dir)
        .map_err(|e| StoreError::Io(format!("{}: {e}", temp_dir.display())))?;
    let (sha256, size) = read_into(from, blob, Some(file.path())).await?;
    check(blob, &sha256, size)?;
    to.put(blob, file.path()).await?;
    Ok(true)
}

/// Streams a blob, hashing it, into `file` when given; its sha256 (hex) and length.
async fn read_into(
    from: &dyn BlobStore,
    blob: &BlobRef,
    file: Option<&Path>,
) -> Result<(String, u64), StoreError> {
    let io = |e: std::io::Error| StoreError::Io(e.to_string());
    let mut out = match file {
        Some(path) => Some(tokio::fs::File::create(path).await.map_err(io)?),
        None => None,
    };
    let mut stream = from.open(blob).await?.into_stream();
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    while let Some(piece) = stream.next().await {
        let piece = piece?;
        hasher.update(&piece);
        size += piece.len() as u64;
        if let Some(out) = out.as_mut() {
            out.write_all(&piece).await.map_err(io)?;
        }
    }
    if let Some(mut out) = out {
        out.flush().await.map_err(io)?;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

fn check(blob: &BlobRef, sha256: &str, size: u64) -> Result<(), StoreError> {
    if sha256 != blob.sha256 || size != blob.size {
        return Err(StoreError::MissingBlob(format!(
            "{}: holds {size} bytes hashing to {sha256}, not {} bytes",
            blob.sha256, blob.size
        )));
    }
    Ok(())
}

/// The blobs of `named` that `store` does not hold whole.
async fn missing_from(
    store: &dyn BlobStore,
    named: &[BlobRef],
) -> Result<Vec<BlobRef>, StoreError> {
    let checks: Vec<(BlobRef, Result<bool, StoreError>)> = futures::stream::iter(named)
        .map(|blob| async move { (blob.clone(), store.contains(blob).await) })
        .buffer_unordered(PARALLEL * 4)
        .collect()
        .await;
    let mut missing = Vec::new();
    for (blob, held) in checks {
        if !held? {
            missing.push(blob);
        }
    }
    missing.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(missing)
}

#[derive(Debug, Default)]
pub struct GcReport {
    /// Blobs that may go, with why.
    pub removable: Vec<(ListedBlob, &'static str)>,
    pub deleted: u64,
    pub kept: u64,
}

/// Finds the blobs of `store` older than `grace` that no version names, or (when `store` is not
/// the one serving, `serving` is given) that the serving store holds too; deletes them if told.
/// The grace period covers a fetch between its put and its version row.
pub async fn gc(
    store: &dyn BlobStore,
    serving: Option<&dyn BlobStore>,
    named: &[BlobRef],
    grace: Duration,
    delete: bool,
) -> Result<GcReport, StoreError> {
    let named: HashSet<&str> = named.iter().map(|b| b.sha256.as_str()).collect();
    let cutoff = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut report = GcReport::default();
    let mut listed = store.list();
    while let Some(item) = listed.try_next().await? {
        let why = if item.created > cutoff {
            None
        } else if !named.contains(item.blob.sha256.as_str()) {
            Some("no version names it")
        } else if let Some(serving) = serving
            && serving.contains(&item.blob).await?
        {
            Some("the serving blob store holds it")
        } else {
            None
        };
        match why {
            Some(why) => report.removable.push((item, why)),
            None => report.kept += 1,
        }
    }
    if delete {
        for (item, _) in &report.removable {
            store.delete(&item.blob).await?;
            report.deleted += 1;
        }
    }
    Ok(report)
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub ok: u64,
    pub bytes: u64,
    /// Blobs whose bytes do not hash to their address (or could not be read whole).
    pub bad: Vec<String>,
    /// Blobs that versions name and the store lacks.
    pub missing: Vec<BlobRef>,
}

/// Re-hashes every blob of `store` and checks that it holds every blob in `named`.
pub async fn verify(
    store: Arc<dyn BlobStore>,
    named: &[BlobRef],
    bar: &ProgressBar,
) -> Result<VerifyReport, StoreError> {
    let listed: Vec<ListedBlob> = store.list().try_collect().await?;
    bar.set_length(listed.len() as u64);
    let results: Vec<(BlobRef, Result<(), StoreError>)> = futures::stream::iter(listed)
        .map(|item| {
            let store = store.clone();
            async move {
                let result = read_into(store.as_ref(), &item.blob, None)
                    .await
                    .and_then(|(sha256, size)| check(&item.blob, &sha256, size));
                bar.inc(1);
                (item.blob, result)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut report = VerifyReport::default();
    for (blob, result) in results {
        match result {
            Ok(()) => {
                report.ok += 1;
                report.bytes += blob.size;
            }
            Err(e @ StoreError::Unavailable(_)) => return Err(e),
            Err(e) => report.bad.push(format!("{}: {e}", blob.sha256)),
        }
    }
    report.bad.sort();
    report.missing = missing_from(store.as_ref(), named).await?;
    Ok(report)
}
