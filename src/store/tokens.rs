//! Client tokens, as stored: never a secret, only its SHA-256.

use async_trait::async_trait;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: i64,
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub secret_sha256: String,
    /// Comma-separated scope names (`read,publish`).
    pub scopes: String,
    /// GOPRIVATE-style globs limiting what the token may publish ("" : no limit of its own).
    pub patterns: String,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A token to store; `secret_sha256` is the hex SHA-256 of the secret handed to the user.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub secret_sha256: &'a str,
    pub scopes: &'a str,
    /// GOPRIVATE-style globs limiting what the token may publish ("" : no limit of its own).
    pub patterns: &'a str,
    pub created_by: &'a str,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new token; false when an active token already has that name.
    async fn token_create(&self, new: &NewToken<'_>) -> Result<bool, StoreError>;
    /// The token whose secret hashes to `secret_sha256`, revoked or not.
    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<StoredToken>, StoreError>;
    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;
    /// Revokes the active token with this name (or this numeric id); false when there is none.
    async fn token_revoke(&self, name_or_id: &str) -> Result<bool, StoreError>;
}
