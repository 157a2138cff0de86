//! The store contract, run against PostgreSQL and SQLite alike.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;

use crate::helpers::{pg_store, sqlite_store};
use agora::store::{CHUNK_SIZE, Inserted, NewVersion, Store, StoreError, zip_stream};
use gomod::module::ModulePath;
use gomod::version::Version;

fn new_version<'a>(
    module: &'a ModulePath,
    version: &'a Version,
    zip: &'a std::path::Path,
    size: u64,
) -> NewVersion<'a> {
    NewVersion {
        module,
        version,
        info: br#"{"Version":"v1.0.0"}"#,
        go_mod: b"module example.com/m\n",
        zip_path: zip,
        zip_size: size,
        zip_sha256: "00".repeat(32),
        zip_h1: "h1:zip".into(),
        mod_h1: "h1:mod".into(),
        source: "test".into(),
    }
}

async fn contract(store: Arc<dyn Store>) {
    let module = ModulePath::parse("example.com/m").expect("path");
    let v1 = Version::parse("v1.0.0").expect("v");
    let v2 = Version::parse("v1.1.0").expect("v");
    let dir = tempfile::tempdir().expect("tmp");

    // Sizes around chunk boundaries, including empty.
    for (i, size) in [
        0usize,
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        3 * CHUNK_SIZE + 17,
    ]
    .into_iter()
    .enumerate()
    {
        let version = Version::parse(&format!("v0.0.{i}")).expect("v");
        let data: Vec<u8> = (0..size).map(|j| (j * 31 + i) as u8).collect();
        let zip = dir.path().join(format!("{i}.zip"));
        std::fs::write(&zip, &data).expect("write");
        let new = new_version(&module, &version, &zip, size as u64);
        assert_eq!(
            store.insert_version(&new).await.expect("insert"),
            Inserted::New,
            "size {size}"
        );
        let stored = store
            .version(&module, &version)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(stored.zip_size, size as u64);
        let chunks: Vec<bytes::Bytes> = zip_stream(store.clone(), &stored)
            .try_collect()
            .await
            .expect("stream");
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_SIZE));
        assert_eq!(chunks.concat(), data, "size {size}");
    }

    // A second insert never replaces what is stored.
    let zip = dir.path().join("a.zip");
    std::fs::write(&zip, b"first").expect("write");
    assert_eq!(
        store
            .insert_version(&new_version(&module, &v1, &zip, 5))
            .await
            .expect("insert"),
        Inserted::New
    );
    std::fs::write(&zip, b"other!").expect("write");
    let mut again = new_version(&module, &v1, &zip, 6);
    again.info = br#"{"Version":"v1.0.0","Time":"later"}"#;
    assert_eq!(
        store.insert_version(&again).await.expect("insert"),
        Inserted::AlreadyStored
    );
    let stored = store
        .version(&module, &v1)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.zip_size, 5);
    assert_eq!(stored.info.as_ref(), br#"{"Version":"v1.0.0"}"#);
    let chunks: Vec<bytes::Bytes> = zip_stream(store.clone(), &stored)
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(chunks.concat(), b"first");

    // A failed insert (the zip vanished) leaves nothing behind.
    let missing = dir.path().join("missing.zip");
    assert!(
        store
            .insert_version(&new_version(&module, &v2, &missing, 10))
            .await
            .is_err()
    );
    assert!(store.version(&module, &v2).await.expect("get").is_none());
    // A zip whose size disagrees with what was declared is refused whole.
    std::fs::write(&zip, vec![7u8; CHUNK_SIZE + 1]).expect("write");
    assert!(
        store
            .insert_version(&new_version(&module, &v2, &zip, 3))
            .await
            .is_err()
    );
    assert!(store.version(&module, &v2).await.expect("get").is_none());

    let mut versions = store.versions(&module).await.expect("versions");
    versions.sort();
    assert_eq!(versions.len(), 7);
    assert!(versions.contains(&"v1.0.0".to_string()));
    let other = ModulePath::parse("example.com/other").expect("path");
    assert!(store.versions(&other).await.expect("versions").is_empty());
    assert!(store.version(&other, &v1).await.expect("get").is_none());

    assert!(store.migrations_current().await.expect("migrations"));
    store.ping().await.expect("ping");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn postgres_store_contract(pool: sqlx::PgPool) {
    contract(pg_store(pool)).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn sqlite_store_contract(pool: sqlx::SqlitePool) {
    contract(sqlite_store(pool)).await;
}

/// Stores one version, for the tests that then try to change it behind the store's back.
async fn store_one(store: Arc<dyn Store>) {
    let module = ModulePath::parse("example.com/m").expect("path");
    let v1 = Version::parse("v1.0.0").expect("v");
    let dir = tempfile::tempdir().expect("tmp");
    let zip = dir.path().join("a.zip");
    std::fs::write(&zip, b"zip").expect("write");
    store
        .insert_version(&new_version(&module, &v1, &zip, 3))
        .await
        .expect("insert");
}

const UPDATES: [&str; 2] = [
    "UPDATE versions SET go_mod = 'x'",
    "UPDATE zip_chunks SET data = 'x'",
];

#[sqlx::test(migrations = "migrations/postgres")]
async fn postgres_refuses_updates_to_stored_versions(pool: sqlx::PgPool) {
    store_one(pg_store(pool.clone())).await;
    for sql in UPDATES {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn sqlite_refuses_updates_to_stored_versions(pool: sqlx::SqlitePool) {
    store_one(sqlite_store(pool.clone())).await;
    for sql in UPDATES {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn postgres_fetch_lock_is_exclusive_and_dies_with_its_holder(pool: sqlx::PgPool) {
    let store = pg_store(pool);
    let held = store
        .lock("example.com/m@v1.0.0", Duration::from_secs(1))
        .await
        .expect("first");
    // Another key is independent.
    let other = store
        .lock("example.com/m@v1.0.1", Duration::from_millis(200))
        .await
        .expect("other key");
    other.release().await;
    match store
        .lock("example.com/m@v1.0.0", Duration::from_millis(200))
        .await
    {
        Err(StoreError::LockTimeout(_)) => {}
        Err(e) => panic!("expected a lock timeout, got {e}"),
        Ok(_) => panic!("the lock was taken twice"),
    }
    held.release().await;
    let again = store
        .lock("example.com/m@v1.0.0", Duration::from_secs(1))
        .await
        .expect("after release");
    // Dropping without release is what a dead holder looks like: its session closes.
    drop(again);
    store
        .lock("example.com/m@v1.0.0", Duration::from_secs(5))
        .await
        .expect("after the holder died")
        .release()
        .await;
}
