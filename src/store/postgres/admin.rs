//! Hiding, expiry, usage and the audit trail.

use async_trait::async_trait;

use super::PgStore;
use crate::store::{
    AdminStore, AuditEntry, BlobRef, CatalogQuery, CatalogRow, Hidden, ModuleUse, StoreError, Use,
    VersionRow, info_time,
};

/// `text` anywhere in a string, as a LIKE pattern (its own `%`, `_` and `\` taken literally).
fn like_anywhere(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl AdminStore for PgStore {
    async fn hidden(&self) -> Result<Vec<Hidden>, StoreError> {
        Ok(sqlx::query_as!(
            Hidden,
            r#"SELECT h.version_id, m.path AS module, v.version, h.reason FROM hidden_versions h
               JOIN versions v ON v.id = h.version_id JOIN modules m ON m.id = v.module_id"#
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn search_modules(
        &self,
        text: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<crate::store::ModuleSummary>, StoreError> {
        Ok(sqlx::query_as!(
            crate::store::ModuleSummary,
            // The page of modules first (in path order, by the path index), then counts for
            // those alone: a broad search must not aggregate every version.
            r#"WITH page AS (
                   SELECT id, path FROM modules
                   WHERE path > $2 AND path LIKE $1 ESCAPE '\'
                   ORDER BY path LIMIT $3)
               SELECT p.path, count(v.id) AS "versions!",
                      extract(epoch FROM max(v.fetched_at))::bigint AS "last_stored!"
               FROM page p JOIN versions v ON v.module_id = p.id
               GROUP BY p.path ORDER BY p.path"#,
            like_anywhere(text),
            after,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn newest_versions(&self, limit: i64) -> Result<Vec<CatalogRow>, StoreError> {
        Ok(sqlx::query_as!(
            CatalogRow,
            r#"SELECT v.id, m.path AS module, v.version
               FROM versions v JOIN modules m ON m.id = v.module_id
               WHERE NOT EXISTS (SELECT 1 FROM hidden_versions h WHERE h.version_id = v.id)
               ORDER BY v.id DESC LIMIT $1"#,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn recently_used_modules(&self, limit: i64) -> Result<Vec<ModuleUse>, StoreError> {
        Ok(sqlx::query_as!(
            ModuleUse,
            r#"SELECT m.path, u.uses, u.last_used_at
               FROM module_usage u JOIN modules m ON m.id = u.module_id
               ORDER BY u.last_used_at DESC LIMIT $1"#,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn top_modules(&self, limit: i64) -> Result<Vec<ModuleUse>, StoreError> {
        Ok(sqlx::query_as!(
            ModuleUse,
            r#"SELECT m.path, u.uses, u.last_used_at
               FROM module_usage u JOIN modules m ON m.id = u.module_id
               WHERE u.uses > 0
               ORDER BY u.uses DESC LIMIT $1"#,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn blob_refs(&self) -> Result<Vec<crate::store::BlobRef>, StoreError> {
        let rows = sqlx::query!("SELECT DISTINCT zip_sha256, zip_size FROM versions")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| crate::store::BlobRef {
                sha256: r.zip_sha256,
                size: r.zip_size.max(0) as u64,
            })
            .collect())
    }

    async fn catalog_page(&self, after_id: i64, limit: i64) -> Result<Vec<CatalogRow>, StoreError> {
        Ok(sqlx::query_as!(
            CatalogRow,
            r#"SELECT v.id, m.path AS module, v.version
               FROM versions v JOIN modules m ON m.id = v.module_id
               WHERE v.id > $1
                 AND NOT EXISTS (SELECT 1 FROM hidden_versions h WHERE h.version_id = v.id)
               ORDER BY v.id LIMIT $2"#,
            after_id,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn catalog(&self, query: &CatalogQuery<'_>) -> Result<Vec<VersionRow>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT v.id, m.path, v.version, v.source, v.zip_sha256, v.zip_size, v.info,
                      extract(epoch FROM v.fetched_at)::bigint AS "stored_at!",
                      u.last_used_at AS "last_used_at?", u.uses AS "uses?",
                      h.reason AS "reason?"
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
                zip: BlobRef {
                    sha256: r.zip_sha256,
                    size: r.zip_size.max(0) as u64,
                },
                stored_at: r.stored_at,
                time: info_time(&r.info),
                last_used_at: r.last_used_at,
                uses: r.uses.unwrap_or(0),
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

    async fn touch_usage(&self, uses: &[Use]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = uses.iter().map(|u| u.version_id).collect();
        let counts: Vec<i64> = uses.iter().map(|u| u.count).collect();
        let times: Vec<i64> = uses.iter().map(|u| u.at).collect();
        // Rows are upserted in key order so that replicas flushing at once lock them in the
        // same order and cannot deadlock.
        sqlx::query!(
            r#"WITH given AS (
                   SELECT u.id, v.module_id, sum(u.n)::bigint AS n, max(u.t) AS t
                   FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, n, t)
                   JOIN versions v ON v.id = u.id
                   GROUP BY u.id, v.module_id
               ),
               per_version AS (
                   INSERT INTO version_usage (version_id, last_used_at, uses)
                   SELECT id, t, n FROM given ORDER BY id
                   ON CONFLICT (version_id) DO UPDATE
                   SET last_used_at = GREATEST(version_usage.last_used_at, EXCLUDED.last_used_at),
                       uses = version_usage.uses + EXCLUDED.uses
               )
               INSERT INTO module_usage (module_id, uses, last_used_at)
               SELECT module_id, sum(n)::bigint, max(t) FROM given
               GROUP BY module_id ORDER BY module_id
               ON CONFLICT (module_id) DO UPDATE
               SET last_used_at = GREATEST(module_usage.last_used_at, EXCLUDED.last_used_at),
                   uses = module_usage.uses + EXCLUDED.uses"#,
            &ids,
            &counts,
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
