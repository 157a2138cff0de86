//! The embedded store: one SQLite file, for a single `agora` process with nothing to install.
//! SQL here is checked at run time (the compile-time checked macros serve the PostgreSQL store);
//! the shared store tests run every query against both.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use secrecy::ExposeSecret;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{
    AdminStore, AuditEntry, CatalogQuery, ChunkReader, FetchLock, Inserted, NewToken, NewVersion,
    PoolStats, Store, StoreError, StoredToken, StoredVersion, VersionRow, expected_chunks,
};
use crate::config::Settings;
use gomod::module::ModulePath;
use gomod::version::Version;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(settings: &Settings) -> Result<Self, StoreError> {
        let url = settings.database_url.expose_secret();
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid database_url: {e}")))?;
        let path = options.get_filename().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.database.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(settings.database.acquire_timeout_secs))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

/// One process owns the file, and the in-process single flight already runs one fetch per
/// version, so the cluster lock has nothing left to do.
struct LocalLock;

#[async_trait]
impl FetchLock for LocalLock {
    async fn release(self: Box<Self>) {}
}

#[async_trait]
impl Store for SqliteStore {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT v.id, v.info, v.go_mod, v.zip_size, v.zip_sha256, v.zip_h1, v.mod_h1, v.chunk_count
             FROM versions v JOIN modules m ON m.id = v.module_id
             WHERE m.path = ?1 AND v.version = ?2",
        )
        .bind(module.as_str())
        .bind(version.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(StoredVersion {
            id: r.try_get("id")?,
            info: Bytes::from(r.try_get::<Vec<u8>, _>("info")?),
            go_mod: Bytes::from(r.try_get::<Vec<u8>, _>("go_mod")?),
            zip_size: r.try_get::<i64, _>("zip_size")?.max(0) as u64,
            zip_sha256: r.try_get("zip_sha256")?,
            zip_h1: r.try_get("zip_h1")?,
            mod_h1: r.try_get("mod_h1")?,
            chunk_count: r.try_get::<i64, _>("chunk_count")?.max(0) as u32,
        }))
    }

    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query_scalar(
            "SELECT v.version FROM versions v JOIN modules m ON m.id = v.module_id WHERE m.path = ?1",
        )
        .bind(module.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn zip_chunk(&self, version_id: i64, seq: u32) -> Result<Option<Bytes>, StoreError> {
        let data: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM zip_chunks WHERE version_id = ?1 AND seq = ?2")
                .bind(version_id)
                .bind(seq as i64)
                .fetch_optional(&self.pool)
                .await?;
        Ok(data.map(Bytes::from))
    }

    async fn insert_version(&self, new: &NewVersion<'_>) -> Result<Inserted, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO modules (path) VALUES (?1) ON CONFLICT (path) DO NOTHING")
            .bind(new.module.as_str())
            .execute(&mut *tx)
            .await?;
        let module_id: i64 = sqlx::query_scalar("SELECT id FROM modules WHERE path = ?1")
            .bind(new.module.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let version_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, chunk_count, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (module_id, version) DO NOTHING
             RETURNING id",
        )
        .bind(module_id)
        .bind(new.version.as_str())
        .bind(new.info)
        .bind(new.go_mod)
        .bind(new.zip_size as i64)
        .bind(&new.zip_sha256)
        .bind(&new.zip_h1)
        .bind(&new.mod_h1)
        .bind(expected_chunks(new.zip_size) as i64)
        .bind(&new.source)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(version_id) = version_id else {
            tx.rollback().await?;
            return Ok(Inserted::AlreadyStored);
        };
        let mut chunks = ChunkReader::open(new.zip_path).await?;
        let mut count = 0u32;
        while let Some(data) = chunks.next().await? {
            sqlx::query("INSERT INTO zip_chunks (version_id, seq, data) VALUES (?1, ?2, ?3)")
                .bind(version_id)
                .bind(count as i64)
                .bind(data)
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

    async fn lock(&self, _key: &str, _wait: Duration) -> Result<Box<dyn FetchLock>, StoreError> {
        Ok(Box::new(LocalLock))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migrations_current(&self) -> Result<bool, StoreError> {
        let applied: Vec<i64> =
            match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&self.pool)
                .await
            {
                Ok(v) => v,
                Err(sqlx::Error::Database(e)) if e.message().contains("no such table") => {
                    Vec::new()
                }
                Err(e) => return Err(e.into()),
            };
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn sumdb_get(&self, name: &str, path: &str) -> Result<Option<Bytes>, StoreError> {
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM sumdb_cache WHERE name = ?1 AND path = ?2")
                .bind(name)
                .bind(path)
                .fetch_optional(&self.pool)
                .await?;
        Ok(body.map(Bytes::from))
    }

    async fn sumdb_put(&self, name: &str, path: &str, body: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sumdb_cache (name, path, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (name, path) DO UPDATE SET body = excluded.body,
             fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        )
        .bind(name)
        .bind(path)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn token_create(&self, new: &NewToken<'_>) -> Result<Inserted, StoreError> {
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
        Ok(if done.rows_affected() == 1 {
            Inserted::New
        } else {
            Inserted::AlreadyStored
        })
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
        Ok(done.rows_affected() > 0)
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![PoolStats {
            name: "serve",
            size: self.pool.size(),
            idle: self.pool.num_idle(),
        }]
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

fn version_row(r: &sqlx::sqlite::SqliteRow) -> Result<VersionRow, sqlx::Error> {
    Ok(VersionRow {
        id: r.try_get("id")?,
        module: r.try_get("path")?,
        version: r.try_get("version")?,
        source: r.try_get("source")?,
        stored_at: r.try_get::<Option<i64>, _>("stored_at")?.unwrap_or(0),
        last_used_at: r.try_get("last_used_at")?,
        hidden_reason: r.try_get("reason")?,
    })
}

fn audit_row(r: &sqlx::sqlite::SqliteRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        module: r.try_get("module")?,
        version: r.try_get("version")?,
        detail: r.try_get("detail")?,
    })
}

const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor, action, module, version, detail)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

#[async_trait]
impl AdminStore for SqliteStore {
    async fn hidden_reason(&self, version_id: i64) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT reason FROM hidden_versions WHERE version_id = ?1")
                .bind(version_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn hidden_versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT v.version FROM hidden_versions h
             JOIN versions v ON v.id = h.version_id JOIN modules m ON m.id = v.module_id
             WHERE m.path = ?1",
        )
        .bind(module.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    async fn catalog(&self, query: &CatalogQuery<'_>) -> Result<Vec<VersionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.id, m.path, v.version, v.source,
                    CAST(strftime('%s', v.fetched_at) AS INTEGER) AS stored_at,
                    u.last_used_at, h.reason
             FROM versions v JOIN modules m ON m.id = v.module_id
             LEFT JOIN version_usage u ON u.version_id = v.id
             LEFT JOIN hidden_versions h ON h.version_id = v.id
             WHERE v.id > ?1 AND (?2 IS NULL OR m.path = ?2)
               AND (?3 OR h.version_id IS NULL)
             ORDER BY v.id LIMIT ?4",
        )
        .bind(query.after_id)
        .bind(query.module)
        .bind(query.include_hidden)
        .bind(query.limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(version_row).collect::<Result<_, _>>()?)
    }

    async fn hide_version(
        &self,
        row: &VersionRow,
        reason: &str,
        actor: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO hidden_versions (version_id, reason, hidden_by, hidden_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (version_id) DO NOTHING",
        )
        .bind(row.id)
        .bind(reason)
        .bind(actor)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(INSERT_AUDIT)
            .bind(at)
            .bind(actor)
            .bind("hide")
            .bind(&row.module)
            .bind(&row.version)
            .bind(reason)
            .execute(&mut *tx)
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
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM zip_chunks WHERE version_id = ?1",
            "DELETE FROM version_usage WHERE version_id = ?1",
            "DELETE FROM versions WHERE id = ?1",
        ] {
            sqlx::query(sql).bind(row.id).execute(&mut *tx).await?;
        }
        sqlx::query(INSERT_AUDIT)
            .bind(at)
            .bind(actor)
            .bind("expire")
            .bind(&row.module)
            .bind(&row.version)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(INSERT_AUDIT)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.module)
            .bind(&e.version)
            .bind(&e.detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn audit_log(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, module, version, detail FROM audit_log
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_row).collect::<Result<_, _>>()?)
    }

    async fn touch_usage(&self, uses: &[(i64, i64)]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (id, t) in uses {
            sqlx::query(
                "INSERT INTO version_usage (version_id, last_used_at)
                 SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM versions WHERE id = ?1)
                 ON CONFLICT (version_id) DO UPDATE
                 SET last_used_at = max(last_used_at, excluded.last_used_at)",
            )
            .bind(id)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
