//! The production store: PostgreSQL, shared by every replica.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};

use super::{
    AdminStore, AuditEntry, CatalogQuery, ChunkReader, FetchLock, Inserted, NewToken, NewVersion,
    PoolStats, Store, StoreError, StoredToken, StoredVersion, VersionRow, expected_chunks,
    lock_key,
};
use crate::config::Settings;
use gomod::module::ModulePath;
use gomod::version::Version;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

pub struct PgStore {
    /// Serves requests.
    pool: PgPool,
    /// Stores fetched versions: a separate limit so writes never starve reads.
    fill_pool: PgPool,
    /// One connection for `/readyz`, with a short acquire timeout: a busy serving pool must not
    /// make the replica look dead.
    ready_pool: PgPool,
    options: PgConnectOptions,
}

impl PgStore {
    /// Builds the pools without connecting: readiness reports a database that is down.
    pub fn connect(settings: &Settings) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(settings.database_url.expose_secret())
            .map_err(|e| {
                // sqlx errors never carry the URL; be sure no password leaks through one anyway.
                StoreError::Database(format!(
                    "invalid database_url: {}",
                    crate::redact::redact(&e.to_string())
                ))
            })?
            .application_name("agora");
        let acquire = Duration::from_secs(settings.database.acquire_timeout_secs);
        let pool = PgPoolOptions::new()
            .max_connections(settings.database.max_connections)
            .acquire_timeout(acquire)
            .connect_lazy_with(options.clone());
        let fill_pool = PgPoolOptions::new()
            .max_connections(settings.database.fill_connections)
            .acquire_timeout(acquire)
            .connect_lazy_with(options.clone());
        let ready_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_millis(
                settings.database.readiness_timeout_ms.max(1),
            ))
            .connect_lazy_with(options.clone());
        Ok(Self {
            pool,
            fill_pool,
            ready_pool,
            options,
        })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        let options = pool.connect_options().as_ref().clone();
        Self {
            fill_pool: pool.clone(),
            ready_pool: pool.clone(),
            pool,
            options,
        }
    }
}

struct PgLock {
    conn: PgConnection,
    key: i64,
}

#[async_trait]
impl FetchLock for PgLock {
    async fn release(mut self: Box<Self>) {
        // If the unlock fails, closing the session frees the lock anyway.
        let _ = sqlx::query!("SELECT pg_advisory_unlock($1) AS unlocked", self.key)
            .fetch_one(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let row = sqlx::query!(
            r#"SELECT v.id, v.info, v.go_mod, v.zip_size, v.zip_sha256, v.zip_h1, v.mod_h1, v.chunk_count
               FROM versions v JOIN modules m ON m.id = v.module_id
               WHERE m.path = $1 AND v.version = $2"#,
            module.as_str(),
            version.as_str()
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| StoredVersion {
            id: r.id,
            info: Bytes::from(r.info),
            go_mod: Bytes::from(r.go_mod),
            zip_size: r.zip_size.max(0) as u64,
            zip_sha256: r.zip_sha256,
            zip_h1: r.zip_h1,
            mod_h1: r.mod_h1,
            chunk_count: r.chunk_count.max(0) as u32,
        }))
    }

    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query_scalar!(
            "SELECT v.version FROM versions v JOIN modules m ON m.id = v.module_id WHERE m.path = $1",
            module.as_str()
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn zip_chunk(&self, version_id: i64, seq: u32) -> Result<Option<Bytes>, StoreError> {
        let data = sqlx::query_scalar!(
            "SELECT data FROM zip_chunks WHERE version_id = $1 AND seq = $2",
            version_id,
            seq as i32
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(data.map(Bytes::from))
    }

    async fn insert_version(&self, new: &NewVersion<'_>) -> Result<Inserted, StoreError> {
        let mut tx = self.fill_pool.begin().await?;
        let module_id = sqlx::query_scalar!(
            r#"INSERT INTO modules (path) VALUES ($1)
               ON CONFLICT (path) DO UPDATE SET path = EXCLUDED.path
               RETURNING id"#,
            new.module.as_str()
        )
        .fetch_one(&mut *tx)
        .await?;
        // A concurrent insert of the same version waits here for the other transaction, then
        // finds the row and leaves it alone.
        let version_id = sqlx::query_scalar!(
            r#"INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, chunk_count, source)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (module_id, version) DO NOTHING
               RETURNING id"#,
            module_id,
            new.version.as_str(),
            new.info,
            new.go_mod,
            new.zip_size as i64,
            new.zip_sha256,
            new.zip_h1,
            new.mod_h1,
            expected_chunks(new.zip_size) as i32,
            new.source,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(version_id) = version_id else {
            tx.rollback().await?;
            return Ok(Inserted::AlreadyStored);
        };
        let mut chunks = ChunkReader::open(new.zip_path).await?;
        let mut count = 0u32;
        while let Some(data) = chunks.next().await? {
            sqlx::query!(
                "INSERT INTO zip_chunks (version_id, seq, data) VALUES ($1, $2, $3)",
                version_id,
                count as i32,
                data
            )
            .execute(&mut *tx)
            .await?;
            count += 1;
        }
        if count != expected_chunks(new.zip_size) {
            return Err(StoreError::Io(format!(
                "zip changed while storing: {count} chunks for {} bytes",
                new.zip_size
            )));
        }
        tx.commit().await?;
        Ok(Inserted::New)
    }

    async fn lock(&self, key: &str, wait: Duration) -> Result<Box<dyn FetchLock>, StoreError> {
        // A dedicated session, never a pooled one: if this replica dies the connection closes and
        // the lock goes with it, and it can never leak back into a pool.
        let mut conn = PgConnection::connect_with(&self.options).await?;
        let key = lock_key(key);
        let millis = wait.as_millis().max(1).to_string();
        sqlx::query!("SELECT set_config('lock_timeout', $1, false) AS t", millis)
            .fetch_one(&mut conn)
            .await?;
        match sqlx::query!("SELECT pg_advisory_lock($1) AS locked", key)
            .fetch_one(&mut conn)
            .await
        {
            Ok(_) => Ok(Box::new(PgLock { conn, key })),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
                let _ = conn.close().await;
                Err(StoreError::LockTimeout(wait))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.ready_pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migrations_current(&self) -> Result<bool, StoreError> {
        let mut conn = self.ready_pool.acquire().await?;
        let applied: Vec<i64> = match conn
            .fetch_all("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .await
        {
            Ok(rows) => rows
                .iter()
                .map(|r| sqlx::Row::get::<i64, _>(r, 0))
                .collect(),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    async fn close(&self) {
        self.pool.close().await;
        self.fill_pool.close().await;
        self.ready_pool.close().await;
    }

    async fn sumdb_get(&self, name: &str, path: &str) -> Result<Option<Bytes>, StoreError> {
        let body = sqlx::query_scalar!(
            "SELECT body FROM sumdb_cache WHERE name = $1 AND path = $2",
            name,
            path
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(body.map(Bytes::from))
    }

    async fn sumdb_put(&self, name: &str, path: &str, body: &[u8]) -> Result<(), StoreError> {
        sqlx::query!(
            r#"INSERT INTO sumdb_cache (name, path, body) VALUES ($1, $2, $3)
               ON CONFLICT (name, path) DO UPDATE SET body = EXCLUDED.body, fetched_at = now()"#,
            name,
            path,
            body
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn token_create(&self, new: &NewToken<'_>) -> Result<Inserted, StoreError> {
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
        Ok(if done.rows_affected() == 1 {
            Inserted::New
        } else {
            Inserted::AlreadyStored
        })
    }

    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query!(
            r#"SELECT id, name, secret_sha256, scopes, created_by, patterns,
                      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "created_at!",
                      to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
               FROM tokens WHERE secret_sha256 = $1"#,
            secret_sha256
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| StoredToken {
            id: r.id,
            name: r.name,
            secret_sha256: r.secret_sha256,
            scopes: r.scopes,
            patterns: r.patterns,
            created_by: r.created_by,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }))
    }

    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT id, name, secret_sha256, scopes, created_by, patterns,
                      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "created_at!",
                      to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
               FROM tokens ORDER BY id"#
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredToken {
                id: r.id,
                name: r.name,
                secret_sha256: r.secret_sha256,
                scopes: r.scopes,
                patterns: r.patterns,
                created_by: r.created_by,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
            })
            .collect())
    }

    async fn token_revoke(&self, name_or_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query!(
            r#"UPDATE tokens SET revoked_at = now()
               WHERE revoked_at IS NULL AND (name = $1 OR id::text = $1)"#,
            name_or_id
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![
            PoolStats {
                name: "serve",
                size: self.pool.size(),
                idle: self.pool.num_idle(),
            },
            PoolStats {
                name: "fill",
                size: self.fill_pool.size(),
                idle: self.fill_pool.num_idle(),
            },
            PoolStats {
                name: "ready",
                size: self.ready_pool.size(),
                idle: self.ready_pool.num_idle(),
            },
        ]
    }
}

#[async_trait]
impl AdminStore for PgStore {
    async fn hidden_reason(&self, version_id: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar!(
            "SELECT reason FROM hidden_versions WHERE version_id = $1",
            version_id
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn hidden_versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar!(
            r#"SELECT v.version FROM hidden_versions h
               JOIN versions v ON v.id = h.version_id JOIN modules m ON m.id = v.module_id
               WHERE m.path = $1"#,
            module.as_str()
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn catalog(&self, query: &CatalogQuery<'_>) -> Result<Vec<VersionRow>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT v.id, m.path, v.version, v.source,
                      extract(epoch FROM v.fetched_at)::bigint AS "stored_at!",
                      u.last_used_at AS "last_used_at?", h.reason AS "reason?"
               FROM versions v JOIN modules m ON m.id = v.module_id
               LEFT JOIN version_usage u ON u.version_id = v.id
               LEFT JOIN hidden_versions h ON h.version_id = v.id
               WHERE v.id > $1 AND ($2::text IS NULL OR m.path = $2)
                 AND ($3 OR h.version_id IS NULL)
               ORDER BY v.id LIMIT $4"#,
            query.after_id,
            query.module,
            query.include_hidden,
            query.limit
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| VersionRow {
                id: r.id,
                module: r.path,
                version: r.version,
                source: r.source,
                stored_at: r.stored_at,
                last_used_at: r.last_used_at,
                hidden_reason: r.reason,
            })
            .collect())
    }

    async fn hide_version(
        &self,
        row: &VersionRow,
        reason: &str,
        actor: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.fill_pool.begin().await?;
        let done = sqlx::query!(
            r#"INSERT INTO hidden_versions (version_id, reason, hidden_by, hidden_at)
               VALUES ($1, $2, $3, $4) ON CONFLICT (version_id) DO NOTHING"#,
            row.id,
            reason,
            actor,
            at
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_audit(
            &mut *tx,
            at,
            actor,
            "hide",
            &row.module,
            &row.version,
            reason,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn expire_version(
        &self,
        row: &VersionRow,
        actor: &str,
        at: i64,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.fill_pool.begin().await?;
        sqlx::query!("DELETE FROM zip_chunks WHERE version_id = $1", row.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query!("DELETE FROM version_usage WHERE version_id = $1", row.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query!("DELETE FROM versions WHERE id = $1", row.id)
            .execute(&mut *tx)
            .await?;
        insert_audit(
            &mut *tx,
            at,
            actor,
            "expire",
            &row.module,
            &row.version,
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        insert_audit(
            &self.pool, e.at, &e.actor, &e.action, &e.module, &e.version, &e.detail,
        )
        .await
    }

    async fn audit_log(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT id, at, actor, action, module, version, detail FROM audit_log
               WHERE id > $1 ORDER BY id LIMIT $2"#,
            after_id,
            limit
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                module: r.module,
                version: r.version,
                detail: r.detail,
            })
            .collect())
    }

    async fn touch_usage(&self, uses: &[(i64, i64)]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = uses.iter().map(|u| u.0).collect();
        let times: Vec<i64> = uses.iter().map(|u| u.1).collect();
        sqlx::query!(
            r#"INSERT INTO version_usage (version_id, last_used_at)
               SELECT u.id, u.t FROM UNNEST($1::bigint[], $2::bigint[]) AS u(id, t)
               WHERE EXISTS (SELECT 1 FROM versions v WHERE v.id = u.id)
               ON CONFLICT (version_id) DO UPDATE
               SET last_used_at = GREATEST(version_usage.last_used_at, EXCLUDED.last_used_at)"#,
            &ids,
            &times
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// One audit row; inside the caller's transaction when given one.
#[allow(clippy::too_many_arguments)]
async fn insert_audit<'e>(
    exec: impl sqlx::PgExecutor<'e>,
    at: i64,
    actor: &str,
    action: &str,
    module: &str,
    version: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO audit_log (at, actor, action, module, version, detail)
               VALUES ($1, $2, $3, $4, $5, $6)"#,
        at,
        actor,
        action,
        module,
        version,
        detail
    )
    .execute(exec)
    .await?;
    Ok(())
}
