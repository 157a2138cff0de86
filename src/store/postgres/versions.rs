//! Version rows.

use async_trait::async_trait;
use bytes::Bytes;

use super::PgStore;
use crate::store::{BlobRef, Inserted, NewVersion, StoreError, StoredVersion, VersionStore};
use gomod::module::ModulePath;
use gomod::version::Version;

#[async_trait]
impl VersionStore for PgStore {
    async fn version(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let row = sqlx::query!(
            r#"SELECT v.id, v.info, v.go_mod, v.zip_size, v.zip_sha256, v.zip_h1, v.mod_h1
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
            zip: BlobRef {
                sha256: r.zip_sha256,
                size: r.zip_size.max(0) as u64,
            },
            zip_h1: r.zip_h1,
            mod_h1: r.mod_h1,
        }))
    }

    async fn versions(&self, module: &ModulePath) -> Result<Vec<String>, StoreError> {
        // One row holding an array: a module may have thousands of versions, and decoding a
        // row each costs more than the query.
        let versions: Option<Vec<String>> = sqlx::query_scalar!(
            "SELECT array_agg(v.version) FROM versions v JOIN modules m ON m.id = v.module_id
             WHERE m.path = $1",
            module.as_str()
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(versions.unwrap_or_default())
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
        // The blob must be there whole: a row never names a zip that is not stored.
        if self.blobs_here {
            let stored =
                sqlx::query_scalar!("SELECT size FROM blobs WHERE sha256 = $1", new.zip.sha256)
                    .fetch_optional(&mut *tx)
                    .await?;
            if stored != Some(new.zip.size as i64) {
                return Err(StoreError::MissingBlob(new.zip.sha256.clone()));
            }
        }
        // A concurrent insert of the same version waits here for the other transaction, then
        // finds the row and leaves it alone.
        let inserted = sqlx::query_scalar!(
            r#"INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, source)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (module_id, version) DO NOTHING
               RETURNING id"#,
            module_id,
            new.version.as_str(),
            new.info,
            new.go_mod,
            new.zip.size as i64,
            new.zip.sha256,
            new.zip_h1,
            new.mod_h1,
            new.source,
        )
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
