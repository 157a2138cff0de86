//! Zips as objects: S3-compatible storage, or files under a directory (a shared volume), through
//! `object_store`. Keys are content addresses, `<prefix>/sha256/<ab>/<abcdef…>`, so an object
//! never changes once written and two replicas storing the same zip write the same bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::signer::Signer;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::io::AsyncWriteExt;

use super::blobs::{BlobList, ListedBlob, Put};
use super::{Blob, BlobBody, BlobRef, BlobStore, StoreError};

/// Bytes buffered per upload before it becomes a multipart upload, and the size of each part (S3
/// takes parts of 5 MiB or more). With two parts in flight an upload holds at most ~15 MiB.
const PART_SIZE: usize = 5 << 20;
const PARTS_IN_FLIGHT: usize = 2;

/// Where blobs live, parsed from `blobs.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// The database's own tables (the default).
    Database,
    /// `s3://bucket/prefix`.
    S3 { bucket: String, prefix: String },
    /// `file:///path`.
    File(PathBuf),
}

impl BlobLocation {
    /// `""` or `database`: the database; `s3://bucket[/prefix]`; `file:///absolute/path`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() || url == "database" {
            return Ok(Self::Database);
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c);
            if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
                return Err(format!("blobs.url {url:?}: not an S3 bucket name"));
            }
            let prefix = prefix.trim_matches('/');
            if Key::parse(prefix).is_err() || prefix.split('/').any(|s| s == "." || s == "..") {
                return Err(format!("blobs.url {url:?}: invalid key prefix"));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if let Some(path) = url.strip_prefix("file://") {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(format!("blobs.url {url:?}: file:// needs an absolute path"));
            }
            return Ok(Self::File(path));
        }
        Err(format!(
            "blobs.url {url:?}: expected database, s3://bucket/prefix or file:///path"
        ))
    }

    pub fn is_database(&self) -> bool {
        matches!(self, Self::Database)
    }
}

impl std::fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database => f.write_str("database"),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Self::File(path) => write!(f, "file://{}", path.display()),
        }
    }
}

/// Blobs in an object store.
pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    /// The same store when it can presign URLs (S3).
    signer: Option<Arc<AmazonS3>>,
    prefix: String,
    /// The directory of a `file://` store: objects are synced to disk there before `put` returns.
    root: Option<PathBuf>,
    name: String,
}

impl ObjectBlobs {
    /// Opens the store `location` names. S3 credentials, region and endpoint come from `aws`
    /// (`AWS_*` variables: keys, `AWS_ENDPOINT_URL`, `AWS_REGION`, web identity for Kubernetes
    /// service accounts). Nothing is contacted until first use.
    pub fn open(
        location: &BlobLocation,
        aws: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, StoreError> {
        let invalid = |e: object_store::Error| StoreError::Database(format!("blobs.url: {e}"));
        match location {
            BlobLocation::Database => Err(StoreError::Database(
                "the database's blobs are not an object store".into(),
            )),
            BlobLocation::S3 { bucket, prefix } => {
                let mut builder = AmazonS3Builder::new();
                let mut plain_http = false;
                for (key, value) in aws {
                    let key = key.to_ascii_lowercase();
                    if (key == "aws_endpoint_url" || key == "aws_endpoint")
                        && value.starts_with("http://")
                    {
                        // The operator named a plain-http endpoint (a local gateway).
                        plain_http = true;
                    }
                    if let Ok(k) = key.parse() {
                        builder = builder.with_config(k, value);
                    }
                }
                let s3 = builder
                    .with_bucket_name(bucket)
                    .with_client_options(client_options(plain_http))
                    .with_retry(retry_config())
                    .build()
                    .map_err(invalid)?;
                let s3 = Arc::new(s3);
                Ok(Self {
                    store: s3.clone(),
                    signer: Some(s3),
                    prefix: prefix.clone(),
                    root: None,
                    name: location.to_string(),
                })
            }
            BlobLocation::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
                let local = LocalFileSystem::new_with_prefix(dir).map_err(invalid)?;
                Ok(Self {
                    store: Arc::new(local),
                    signer: None,
                    prefix: String::new(),
                    root: Some(dir.clone()),
                    name: location.to_string(),
                })
            }
        }
    }

    /// The `AWS_*` variables of this process.
    pub fn aws_env() -> Vec<(String, String)> {
        std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .collect()
    }

    fn key(&self, sha256: &str) -> Result<Key, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Io(format!("not a sha256: {sha256:?}")));
        }
        let rel = format!("sha256/{}/{sha256}", &sha256[..2]);
        let full = if self.prefix.is_empty() {
            rel
        } else {
            format!("{}/{rel}", self.prefix)
        };
        Key::parse(full).map_err(|e| StoreError::Io(e.to_string()))
    }

    fn list_prefix(&self) -> Key {
        let p = if self.prefix.is_empty() {
            "sha256".to_string()
        } else {
            format!("{}/sha256", self.prefix)
        };
        Key::from(p)
    }

    /// A stored object of the right size, if any.
    async fn size_of(&self, key: &Key) -> Result<Option<u64>, StoreError> {
        match self.store.head(key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn upload(&self, key: &Key, file: &Path) -> Result<(), StoreError> {
        let mut source = tokio::fs::File::open(file)
            .await
            .map_err(|e| StoreError::Io(format!("{}: {e}", file.display())))?;
        let mut writer = BufWriter::with_capacity(self.store.clone(), key.clone(), PART_SIZE)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        let copied = match tokio::io::copy(&mut source, &mut writer).await {
            Ok(n) => writer.shutdown().await.map(|()| n),
            Err(e) => Err(e),
        };
        match copied {
            Ok(n) => Ok(n),
            Err(e) => {
                // Nothing is visible under the key until the upload completes; drop the parts.
                let _ = writer.abort().await;
                Err(StoreError::Unavailable(format!(
                    "blob store {}: {e}",
                    self.name
                )))
            }
        }
        .map(|_| ())
    }

    /// A `file://` store's rename is durable only once the file and its directory are synced.
    async fn sync(&self, key: &Key) -> Result<(), StoreError> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        let path = root.join(key.as_ref());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&path)?.sync_all()?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Io(e.to_string()))?
        .map_err(|e| StoreError::Io(format!("syncing the stored zip: {e}")))
    }
}

fn client_options(plain_http: bool) -> ClientOptions {
    // No overall timeout: a large zip streams to a slow client for as long as it takes.
    ClientOptions::new()
        .with_allow_http(plain_http)
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout_disabled()
}

/// A few quick retries: a store that stays down is reported (503) within seconds, not minutes.
fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
    }
}

fn unavailable(e: object_store::Error) -> StoreError {
    StoreError::Unavailable(format!("blob store: {e}"))
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
        let key = self.key(&blob.sha256)?;
        let on_disk = tokio::fs::metadata(file)
            .await
            .map_err(|e| StoreError::Io(format!("{}: {e}", file.display())))?
            .len();
        if on_disk != blob.size {
            return Err(StoreError::Io(format!(
                "zip changed while storing: {on_disk} bytes, {} declared",
                blob.size
            )));
        }
        // Content-addressed: an object of the right size under this key is these bytes.
        if self.size_of(&key).await? == Some(blob.size) {
            return Ok(Put::Existed);
        }
        self.upload(&key, file).await?;
        self.sync(&key).await?;
        match self.size_of(&key).await? {
            Some(size) if size == blob.size => Ok(Put::Written),
            other => Err(StoreError::Io(format!(
                "stored zip {} has {other:?} bytes, {} expected",
                blob.sha256, blob.size
            ))),
        }
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        let key = self.key(&blob.sha256)?;
        let got = match self.store.get(&key).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::MissingBlob(blob.sha256.clone()));
            }
            Err(e) => return Err(unavailable(e)),
        };
        if got.meta.size != blob.size {
            return Err(StoreError::MissingBlob(format!(
                "{}: {} bytes stored, {} expected",
                blob.sha256, got.meta.size, blob.size
            )));
        }
        let stream = got.into_stream().map_err(unavailable);
        Ok(Blob {
            size: blob.size,
            body: BlobBody::Stream(Box::pin(stream)),
        })
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        let key = self.key(&blob.sha256)?;
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        Ok(self.size_of(&self.key(&blob.sha256)?).await? == Some(blob.size))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Listing needs the bucket and the credentials, and reads at most one page.
        self.store
            .list_with_delimiter(Some(&self.list_prefix()))
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn presign(&self, blob: &BlobRef, ttl: Duration) -> Result<Option<String>, StoreError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let key = self.key(&blob.sha256)?;
        let url = signer
            .signed_url(reqwest::Method::GET, &key, ttl)
            .await
            .map_err(unavailable)?;
        Ok(Some(url.to_string()))
    }

    fn list(&self) -> BlobList {
        let prefix = self.list_prefix();
        Box::pin(
            self.store
                .list(Some(&prefix))
                .filter_map(|item| async move {
                    match item {
                        Ok(meta) => {
                            let name = meta.location.filename()?;
                            let sha256 = name.to_string();
                            let valid = sha256.len() == 64
                                && sha256
                                    .bytes()
                                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                            valid.then(|| {
                                Ok(ListedBlob {
                                    blob: BlobRef {
                                        sha256,
                                        size: meta.size,
                                    },
                                    created: SystemTime::from(meta.last_modified),
                                })
                            })
                        }
                        Err(e) => Some(Err(unavailable(e))),
                    }
                }),
        )
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let s3 = |b: &str, p: &str| {
            Ok(BlobLocation::S3 {
                bucket: b.into(),
                prefix: p.into(),
            })
        };
        let table: Vec<(&str, Result<BlobLocation, ()>)> = vec![
            ("", Ok(BlobLocation::Database)),
            ("database", Ok(BlobLocation::Database)),
            ("s3://zips", s3("zips", "")),
            ("s3://zips/", s3("zips", "")),
            ("s3://zips/agora/prod/", s3("zips", "agora/prod")),
            ("s3://my.bucket-1/p", s3("my.bucket-1", "p")),
            ("s3://ab", Err(())),
            ("s3://Upper", Err(())),
            ("s3://zips/a/../b", Err(())),
            (
                "file:///var/lib/agora/zips",
                Ok(BlobLocation::File("/var/lib/agora/zips".into())),
            ),
            ("file://relative/dir", Err(())),
            ("gs://bucket", Err(())),
            ("postgres://db", Err(())),
        ];
        for (url, want) in table {
            assert_eq!(BlobLocation::parse(url).map_err(|_| ()), want, "{url}");
        }
        for url in ["database", "s3://zips", "s3://zips/a/b", "file:///srv/zips"] {
            let parsed = BlobLocation::parse(url).expect(url);
            assert_eq!(parsed.to_string(), url);
        }
    }
}
