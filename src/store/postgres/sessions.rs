//! Signed-in sessions of the web pages.

use async_trait::async_trait;

use super::PgStore;
use crate::store::{NewSession, SessionStore, StoreError, StoredSession, StoredToken};

/// One row of a session joined with its token.
struct Row {
    id: i64,
    csrf: String,
    client: String,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
    token_id: i64,
    name: String,
    secret_sha256: String,
    scopes: String,
    created_by: String,
    patterns: String,
    token_created_at: String,
    revoked_at: Option<String>,
}

impl From<Row> for StoredSession {
    fn from(r: Row) -> Self {
        StoredSession {
            id: r.id,
            token: StoredToken {
                id: r.token_id,
                name: r.name,
                secret_sha256: r.secret_sha256,
                scopes: r.scopes,
                patterns: r.patterns,
                created_by: r.created_by,
                created_at: r.token_created_at,
                revoked_at: r.revoked_at,
            },
            csrf: r.csrf,
            client: r.client,
            created_at: r.created_at,
            last_seen: r.last_seen,
            expires_at: r.expires_at,
        }
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn session_create(&self, new: &NewSession<'_>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar!(
            r#"INSERT INTO sessions (id_sha256, token_id, csrf, client, created_at, last_seen, expires_at)
               VALUES ($1, $2, $3, $4, $5, $5, $6)
               RETURNING id"#,
            new.id_sha256,
            new.token_id,
            new.csrf,
            new.client,
            new.now,
            new.expires_at
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn session_by_hash(&self, id_sha256: &str) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query_as!(
            Row,
            r#"SELECT s.id, s.csrf, s.client, s.created_at, s.last_seen, s.expires_at,
                      t.id AS token_id, t.name, t.secret_sha256, t.scopes, t.created_by, t.patterns,
                      to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "token_created_at!",
                      to_char(t.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
               FROM sessions s JOIN tokens t ON t.id = s.token_id
               WHERE s.id_sha256 = $1"#,
            id_sha256
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StoredSession::from))
    }

    async fn session_touch(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query!(
            "UPDATE sessions SET last_seen = GREATEST(last_seen, $2) WHERE id = $1",
            id,
            now
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_end(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query!("DELETE FROM sessions WHERE id = $1", id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn sessions_prune(&self, now: i64, idle_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query!(
            "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen < $2",
            now,
            idle_before
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn sessions(&self, now: i64, idle_before: i64) -> Result<Vec<StoredSession>, StoreError> {
        let rows = sqlx::query_as!(
            Row,
            r#"SELECT s.id, s.csrf, s.client, s.created_at, s.last_seen, s.expires_at,
                      t.id AS token_id, t.name, t.secret_sha256, t.scopes, t.created_by, t.patterns,
                      to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "token_created_at!",
                      to_char(t.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
               FROM sessions s JOIN tokens t ON t.id = s.token_id
               WHERE s.expires_at > $1 AND s.last_seen >= $2 AND t.revoked_at IS NULL
               ORDER BY s.id DESC LIMIT 1000"#,
            now,
            idle_before
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredSession::from).collect())
    }
}
