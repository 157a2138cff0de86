//! Hiding, expiry, usage and the audit trail.

use async_trait::async_trait;
use sqlx::Row;

use super::SqliteStore;
use crate::store::{
    AdminStore, AuditEntry, BlobRef, CatalogQuery, CatalogRow, Hidden, ModuleUse, StoreError, Use,
    VersionRow, info_time,
};

fn version_row(r: &sqlx::sqlite::SqliteRow) -> Result<VersionRow, sqlx::Error> {
    Ok(VersionRow {
        id: r.try_get("id")?,
        module: r.try_get("path")?,
        version: r.try_get("version")?,
        source: r.try_get("source")?,
        zip: BlobRef {
            sha256: r.try_get("zip_sha256")?,
            size: r.try_get::<i64, _>("zip_size")?.max(0) as u64,
        },
        stored_at: r.try_get::<Option<i64>, _>("stored_at")?.unwrap_or(0),
        time: info_time(&r.try_get::<Vec<u8>, _>("info")?),
        last_used_at: r.try_get("last_used_at")?,
        uses: r.try_get::<Option<i64>, _>("uses")?.unwrap_or(0),
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
    async fn hidden(&self) -> Result<Vec<Hidden>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT h.version_id, m.path, v.version, h.reason FROM hidden_versions h
             JOIN versions v ON v.id = h.version_id JOIN modules m ON m.id = v.module_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version_id, module, version, reason)| Hidden {
                version_id,
                module,
                version,
                reason,
            })
            .collect())
    }

    async fn search_modules(
        &self,
        text: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<crate::store::ModuleSummary>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "WITH page AS (
                 SELECT id, path FROM modules
                 WHERE path > ?2 AND instr(path, ?1) > 0
                 ORDER BY path LIMIT ?3)
             SELECT p.path, count(v.id),
                    CAST(strftime('%s', max(v.fetched_at)) AS INTEGER)
             FROM page p JOIN versions v ON v.module_id = p.id
             GROUP BY p.path ORDER BY p.path",
        )
        .bind(text)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(path, versions, last_stored)| crate::store::ModuleSummary {
                    path,
                    versions,
                    last_stored,
                },
            )
            .collect())
    }

    async fn newest_versions(&self, limit: i64) -> Result<Vec<CatalogRow>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT v.id, m.path, v.version
             FROM versions v JOIN modules m ON m.id = v.module_id
             WHERE NOT EXISTS (SELECT 1 FROM hidden_versions h WHERE h.version_id = v.id)
             ORDER BY v.id DESC LIMIT ?1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, module, version)| CatalogRow {
                id,
                module,
                version,
            })
            .collect())
    }

    async fn recently_used_modules(&self, limit: i64) -> Result<Vec<ModuleUse>, StoreError> {
        self.module_uses(
            "SELECT m.path, u.uses, u.last_used_at
             FROM module_usage u JOIN modules m ON m.id = u.module_id
             ORDER BY u.last_used_at DESC LIMIT ?1",
            limit,
        )
        .await
    }

    async fn top_modules(&self, limit: i64) -> Result<Vec<ModuleUse>, StoreError> {
        self.module_uses(
            "SELECT m.path, u.uses, u.last_used_at
             FROM module_usage u JOIN modules m ON m.id = u.module_id
             WHERE u.uses > 0 ORDER BY u.uses DESC LIMIT ?1",
            limit,
        )
        .await
    }

    async fn blob_refs(&self) -> Result<Vec<crate::store::BlobRef>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT DISTINCT zip_sha256, zip_size FROM versions")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(sha256, size)| crate::store::BlobRef {
                sha256,
                size: size.max(0) as u64,
            })
            .collect())
    }

    async fn catalog_page(&self, after_id: i64, limit: i64) -> Result<Vec<CatalogRow>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT v.id, m.path, v.version
             FROM versions v JOIN modules m ON m.id = v.module_id
             WHERE v.id > ?1
               AND NOT EXISTS (SELECT 1 FROM hidden_versions h WHERE h.version_id = v.id)
             ORDER BY v.id LIMIT ?2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, module, version)| CatalogRow {
                id,
                module,
                version,
            })
            .collect())
    }

    async fn catalog(&self, query: &CatalogQuery<'_>) -> Result<Vec<VersionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.id, m.path, v.version, v.source, v.zip_sha256, v.zip_size, v.info,
                    CAST(strftime('%s', v.fetched_at) AS INTEGER) AS stored_at,
                    u.last_used_at, u.uses, h.reason
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for sql in [
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

    async fn touch_usage(&self, uses: &[Use]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for u in uses {
            let done = sqlx::query(
                "INSERT INTO version_usage (version_id, last_used_at, uses)
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM versions WHERE id = ?1)
                 ON CONFLICT (version_id) DO UPDATE
                 SET last_used_at = max(last_used_at, excluded.last_used_at),
                     uses = uses + excluded.uses",
            )
            .bind(u.version_id)
            .bind(u.at)
            .bind(u.count)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO module_usage (module_id, uses, last_used_at)
                 SELECT module_id, ?2, ?3 FROM versions WHERE id = ?1
                 ON CONFLICT (module_id) DO UPDATE
                 SET last_used_at = max(last_used_at, excluded.last_used_at),
                     uses = uses + excluded.uses",
            )
            .bind(u.version_id)
            .bind(u.count)
            .bind(u.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl SqliteStore {
    /// Rows of `module_usage` with their paths, as `sql` orders them.
    async fn module_uses(
        &self,
        sql: &'static str,
        limit: i64,
    ) -> Result<Vec<ModuleUse>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(path, uses, last_used_at)| ModuleUse {
                path,
                uses,
                last_used_at,
            })
            .collect())
    }
}
