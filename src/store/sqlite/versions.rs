//! Version rows.

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::Row;

use super::SqliteStore;
use crate::store::{BlobRef, Inserted, NewVersion, StoreError, StoredVersion, VersionStore};
use gomod::module::ModulePath;
use gomod::version::Version;

#[async_trait]
impl VersionStore for SqliteStore {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT v.id, v.info, v.go_mod, v.zip_size, v.zip_sha256, v.zip_h1, v.mod_h1
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
            zip: BlobRef {
                sha256: r.try_get("zip_sha256")?,
                size: r.try_get::<i64, _>("zip_size")?.max(0) as u64,
            },
            zip_h1: r.try_get("zip_h1")?,
            mod_h1: r.try_get("mod_h1")?,
        }))
    }

    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT v.version FROM versions v JOIN modules m ON m.id = v.module_id WHERE m.path = ?1",
        )
        .bind(module.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    async fn insert_version(&self, new: &NewVersion<'_>) -> Result<Inserted, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The blob must be there whole: a row never names a zip that is not stored.
        if self.blobs_here {
            let stored: Option<i64> =
                sqlx::query_scalar("SELECT size FROM blobs WHERE sha256 = ?1")
                    .bind(&new.zip.sha256)
                    .fetch_optional(&mut *tx)
                    .await?;
            if stored != Some(new.zip.size as i64) {
                return Err(StoreError::MissingBlob(new.zip.sha256.clone()));
            }
        }
        sqlx::query("INSERT INTO modules (path) VALUES (?1) ON CONFLICT (path) DO NOTHING")
            .bind(new.module.as_str())
            .execute(&mut *tx)
            .await?;
        let module_id: i64 = sqlx::query_scalar("SELECT id FROM modules WHERE path = ?1")
            .bind(new.module.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (module_id, version) DO NOTHING
             RETURNING id",
        )
        .bind(module_id)
        .bind(new.version.as_str())
        .bind(new.info)
        .bind(new.go_mod)
        .bind(new.zip.size as i64)
        .bind(&new.zip.sha256)
        .bind(new.zip_h1)
        .bind(new.mod_h1)
        .bind(new.source)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            tx.rollback().await?;
            return Ok(Inserted::AlreadyStored);
        };
        tx.commit().await?;
        Ok(Inserted::New { id })
    }
}
