//! Client tokens.

use async_trait::async_trait;
use sqlx::Row;

use super::SqliteStore;
use crate::store::{NewToken, StoreError, StoredToken, TokenStore};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn token_create(&self, new: &NewToken<'_>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO tokens (name, secret_sha256, scopes, created_by, patterns)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
        )
        .bind(new.name)
        .bind(new.secret_sha256)
        .bind(new.scopes)
        .bind(new.created_by)
        .bind(new.patterns)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, secret_sha256, scopes, created_by, patterns, created_at, revoked_at
             FROM tokens WHERE secret_sha256 = ?1",
        )
        .bind(secret_sha256)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| sqlite_token(&r)).transpose()
    }

    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, secret_sha256, scopes, created_by, patterns, created_at, revoked_at
             FROM tokens ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sqlite_token).collect()
    }

    async fn token_revoke(&self, name_or_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE revoked_at IS NULL AND (name = ?1 OR CAST(id AS TEXT) = ?1)",
        )
        .bind(name_or_id)
        .execute(&self.pool)
        .await?;
        // The token's signed-in sessions end with it (a session of a revoked token is refused
        // anyway, so a crash between the two statements opens nothing).
        sqlx::query(
            "DELETE FROM sessions WHERE token_id IN (SELECT id FROM tokens WHERE revoked_at IS NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn sqlite_token(r: &sqlx::sqlite::SqliteRow) -> Result<StoredToken, StoreError> {
    Ok(StoredToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        secret_sha256: r.try_get("secret_sha256")?,
        scopes: r.try_get("scopes")?,
        patterns: r.try_get("patterns")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}
