//! Version rows: the `.info` and `.mod` of a module version, its hashes, and the blob holding its
//! zip. A row is written once, after its blob, and never changed.

use async_trait::async_trait;
use bytes::Bytes;

use super::{BlobRef, StoreError};
use gomod::module::ModulePath;
use gomod::version::Version;

#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub id: i64,
    pub info: Bytes,
    pub go_mod: Bytes,
    pub zip: BlobRef,
    pub zip_h1: String,
    pub mod_h1: String,
}

/// A checked version whose zip is stored already (`BlobStore::put`).
pub struct NewVersion<'a> {
    pub module: &'a ModulePath,
    pub version: &'a Version,
    pub info: &'a [u8],
    pub go_mod: &'a [u8],
    pub zip: &'a BlobRef,
    pub zip_h1: &'a str,
    pub mod_h1: &'a str,
    /// Where it came from: `proxy <url>`, `direct <url>`, `publish:<who>`, `import:<who>`.
    pub source: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New {
        id: i64,
    },
    /// Someone stored it first; what is stored stays as it was.
    AlreadyStored,
}

#[async_trait]
pub trait VersionStore: Send + Sync {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError>;
    /// Every stored version of a module, unsorted.
    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError>;
    /// Stores the row of a version whose blob is stored; never replaces one.
    async fn insert_version(&self, new: &NewVersion<'_>) -> Result<Inserted, StoreError>;
}
