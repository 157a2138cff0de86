//! Client tokens.

use async_trait::async_trait;

use super::PgStore;
use crate::store::{NewToken, StoreError, StoredToken, TokenStore};

#[async_trait]
impl TokenStore for PgStore {
    async fn token_create(&self, new: &NewToken<'_>) -> Result<bool, StoreError> {
        let done = sqlx::query!(
            r#"INSERT INTO tokens (name, secret_sha256, scopes, created_by, patterns)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT DO NOTHING"#,
            new.name,
            new.secret_sha256,
            new.scopes,
            new.created_by,
            new.patterns
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        Ok(sqlx::query_as!(
            StoredToken,
            r#"SELECT id, name, secret_sha256, scopes, created_by, patterns,
                      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "created_at!",
                      to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
               FROM tokens WHERE secret_sha256 = $1"#,
            secret_sha256
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        Ok(sqlx::query_as!(
            StoredToken,
            r#"SELECT id, name, secret_sha256, scopes, created_by, patterns,
                      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "created_at!",
                      to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
               FROM tokens ORDER BY id"#
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn token_revoke(&self, name_or_id: &str) -> Result<bool, StoreError> {
        // The token's signed-in sessions end with it, in the same statement.
        let revoked = sqlx::query_scalar!(
            r#"WITH revoked AS (
                   UPDATE tokens SET revoked_at = now()
                   WHERE revoked_at IS NULL AND (name = $1 OR id::text = $1)
                   RETURNING id),
               ended AS (DELETE FROM sessions WHERE token_id IN (SELECT id FROM revoked))
               SELECT count(*) AS "n!" FROM revoked"#,
            name_or_id
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(revoked > 0)
    }
}
