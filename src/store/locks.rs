//! The cluster-wide fetch lock: while one replica fetches a version, the others wait.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;

/// Held while fetching one version; while it is held no other replica fetches that version.
#[async_trait]
pub trait FetchLock: Send {
    async fn release(self: Box<Self>);
}

#[async_trait]
pub trait LockService: Send + Sync {
    /// Takes the lock for `key`, waiting at most `wait`.
    async fn lock(&self, key: &str, wait: Duration) -> Result<Box<dyn FetchLock>, StoreError>;
}

/// The 64-bit advisory lock key of a module version.
pub fn lock_key(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}
