//! Signed-in sessions of the web pages.

use async_trait::async_trait;
use sqlx::Row;

use super::SqliteStore;
use crate::store::{NewSession, SessionStore, StoreError, StoredSession, StoredToken};

/// A session row with its token's columns (a macro, so queries stay string literals).
macro_rules! select {
    () => {
        "SELECT s.id, s.csrf, s.client, s.created_at, s.last_seen, s.expires_at,
            t.id AS token_id, t.name, t.secret_sha256, t.scopes, t.created_by, t.patterns,
            t.created_at AS token_created_at, t.revoked_at
         FROM sessions s JOIN tokens t ON t.id = s.token_id"
    };
}

fn session(r: &sqlx::sqlite::SqliteRow) -> Result<StoredSession, StoreError> {
    Ok(StoredSession {
        id: r.try_get("id")?,
        token: StoredToken {
            id: r.try_get("token_id")?,
            name: r.try_get("name")?,
            secret_sha256: r.try_get("secret_sha256")?,
            scopes: r.try_get("scopes")?,
            patterns: r.try_get("patterns")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("token_created_at")?,
            revoked_at: r.try_get("revoked_at")?,
        },
        csrf: r.try_get("csrf")?,
        client: r.try_get("client")?,
        created_at: r.try_get("created_at")?,
        last_seen: r.try_get("last_seen")?,
        expires_at: r.try_get("expires_at")?,
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn session_create(&self, new: &NewSession<'_>) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sessions (id_sha256, token_id, csrf, client, created_at, last_seen, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
             RETURNING id",
        )
        .bind(new.id_sha256)
        .bind(new.token_id)
        .bind(new.csrf)
        .bind(new.client)
        .bind(new.now)
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    async fn session_by_hash(&self, id_sha256: &str) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query(concat!(select!(), " WHERE s.id_sha256 = ?1"))
            .bind(id_sha256)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session).transpose()
    }

    async fn session_touch(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen = MAX(last_seen, ?2) WHERE id = ?1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_end(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn sessions_prune(&self, now: i64, idle_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen < ?2")
            .bind(now)
            .bind(idle_before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn sessions(&self, now: i64, idle_before: i64) -> Result<Vec<StoredSession>, StoreError> {
        let rows = sqlx::query(concat!(
            select!(),
            " WHERE s.expires_at > ?1 AND s.last_seen >= ?2 AND t.revoked_at IS NULL
             ORDER BY s.id DESC LIMIT 1000"
        ))
        .bind(now)
        .bind(idle_before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session).collect()
    }
}
