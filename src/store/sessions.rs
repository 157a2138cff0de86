//! Signed-in sessions of the web pages, as stored: the SHA-256 of the id the cookie carries,
//! never the id itself, and the token the session acts for.

use async_trait::async_trait;

use super::{StoreError, StoredToken};

/// A session to store. Times are unix seconds.
pub struct NewSession<'a> {
    pub id_sha256: &'a str,
    pub token_id: i64,
    pub csrf: &'a str,
    /// The client's address, for the console's list.
    pub client: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The handle the console shows and revokes by (not a secret).
    pub id: i64,
    pub token: StoredToken,
    pub csrf: String,
    pub client: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; its handle.
    async fn session_create(&self, new: &NewSession<'_>) -> Result<i64, StoreError>;
    /// The session whose id hashes to `id_sha256`, with its token (revoked or not).
    async fn session_by_hash(&self, id_sha256: &str) -> Result<Option<StoredSession>, StoreError>;
    /// Records a request at `now`.
    async fn session_touch(&self, id: i64, now: i64) -> Result<(), StoreError>;
    /// Ends a session; false when there was none.
    async fn session_end(&self, id: i64) -> Result<bool, StoreError>;
    /// Removes the sessions past `now` or idle since before `idle_before`; how many.
    async fn sessions_prune(&self, now: i64, idle_before: i64) -> Result<u64, StoreError>;
    /// The live sessions of active tokens, newest first.
    async fn sessions(&self, now: i64, idle_before: i64) -> Result<Vec<StoredSession>, StoreError>;
}
