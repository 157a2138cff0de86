//! Per-replica caches in front of the stores. Stored versions never change, so a copy of one can
//! never be stale: version rows and small zips are kept in memory, large zips on local disk, and
//! the store behind stays the source of truth. `list` and `@latest` answers, the only ones that
//! change, are kept briefly and bounded in bytes.

pub mod blobs;
pub mod disk;
pub mod lists;
pub mod versions;

pub use blobs::CachedBlobs;
pub use disk::ZipCache;
pub use lists::{ListCache, ListKind};
pub use versions::CachedVersions;
