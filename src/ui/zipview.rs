//! What a stored zip holds, for the version page: its files with their sizes, and the module's
//! LICENSE as text. The zip is copied to a temporary file in bounded pieces (never held in
//! memory) and only its central directory and the LICENSE are read.

use std::io::Read;
use std::path::Path;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::error::Error;
use crate::store::{BlobRef, BlobStore};

/// Files listed at most, and LICENSE bytes shown at most.
const MAX_FILES: usize = 2000;
const MAX_LICENSE: u64 = 64 << 10;

pub struct Contents {
    /// (path inside the module, uncompressed size), in zip order.
    pub files: Vec<(String, u64)>,
    pub total: usize,
    pub license: Option<String>,
}

pub async fn contents(
    blobs: &dyn BlobStore,
    blob: &BlobRef,
    prefix: &str,
    temp_dir: &Path,
) -> Result<Contents, Error> {
    let io = |e: std::io::Error| Error::internal(anyhow::anyhow!("reading the zip: {e}"));
    let tmp = tempfile::NamedTempFile::new_in(temp_dir).map_err(io)?;
    let mut out = tokio::fs::File::create(tmp.path()).await.map_err(io)?;
    let mut body = blobs.open(blob).await?.into_stream();
    while let Some(piece) = body.next().await {
        out.write_all(&piece?).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    drop(out);
    let prefix = prefix.to_string();
    let path = tmp.path().to_path_buf();
    let read = tokio::task::spawn_blocking(move || -> Result<Contents, String> {
        let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
        let total = zip.len();
        let mut files = Vec::new();
        let mut license_index = None;
        for i in 0..total {
            let entry = zip.by_index_raw(i).map_err(|e| e.to_string())?;
            let full = entry.name().map_err(|e| e.to_string())?;
            let name = full
                .strip_prefix(prefix.as_str())
                .unwrap_or(&full)
                .to_string();
            if name == "LICENSE" {
                license_index = Some(i);
            }
            if files.len() < MAX_FILES {
                files.push((name, entry.size()));
            }
        }
        let license = match license_index {
            Some(i) => {
                let entry = zip.by_index(i).map_err(|e| e.to_string())?;
                let mut text = Vec::new();
                entry
                    .take(MAX_LICENSE)
                    .read_to_end(&mut text)
                    .map_err(|e| e.to_string())?;
                Some(String::from_utf8_lossy(&text).into_owned())
            }
            None => None,
        };
        Ok(Contents {
            files,
            total,
            license,
        })
    })
    .await
    .map_err(|e| Error::internal(anyhow::anyhow!("reading the zip: {e}")))?;
    drop(tmp);
    read.map_err(|e| Error::internal(anyhow::anyhow!("reading the stored zip: {e}")))
}
