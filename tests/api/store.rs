//! The store contract, one test per store trait, each run against PostgreSQL and SQLite alike.

use std::time::Duration;

use futures::TryStreamExt;

use agora::store::{
    AuditEntry, BlobRef, CHUNK_SIZE, CatalogQuery, Hidden, Inserted, ListedBlob, ModuleUse,
    NewToken, NewVersion, Put, StoreError, Stores, Use,
};
use gomod::module::ModulePath;
use gomod::version::Version;

/// Runs `$contract(stores)` on a fresh PostgreSQL database and a fresh SQLite one.
macro_rules! on_both_stores {
    ($($name:ident => $contract:path),* $(,)?) => {
        $(
            mod $name {
                #[sqlx::test(migrations = "migrations/postgres")]
                async fn postgres(pool: sqlx::PgPool) {
                    $contract(crate::helpers::pg_store(pool)).await;
                }

                #[sqlx::test(migrations = "migrations/sqlite")]
                async fn sqlite(pool: sqlx::SqlitePool) {
                    $contract(crate::helpers::sqlite_store(pool).await).await;
                }
            }
        )*
    };
}

on_both_stores! {
    blob_store => super::blobs,
    version_store => super::versions,
    token_store => super::tokens,
    sumdb_cache => super::sumdb_cache,
    admin_store => super::admin,
    database => super::database,
    concurrent_writes => super::concurrent_writes,
    module_search => super::module_search,
}

/// The blob contract on the blob stores that are not the database: files and S3.
mod object_blob_store {
    use std::sync::Arc;

    use agora::store::object::{BlobLocation, ObjectBlobs};

    #[sqlx::test(migrations = "migrations/postgres")]
    async fn file(pool: sqlx::PgPool) {
        let dir = tempfile::tempdir().expect("tmp");
        let location = BlobLocation::File(dir.path().join("zips"));
        let blobs = Arc::new(ObjectBlobs::open(&location, []).expect("open"));
        super::blobs(crate::helpers::pg_store_with_blobs(pool, blobs)).await;
    }

    #[sqlx::test(migrations = "migrations/postgres")]
    async fn s3(pool: sqlx::PgPool) {
        let s3 = crate::s3::S3Server::start().await;
        let stores = crate::helpers::pg_store_with_blobs(pool, s3.blobs("contract"));
        super::blobs(stores.clone()).await;
        // Presigned URLs serve the bytes without agora, and only for a while.
        let dir = tempfile::tempdir().expect("tmp");
        let (path, data, blob) = super::zip_file(dir.path(), "signed.zip", 70_000);
        stores.blobs.put(&blob, &path).await.expect("put");
        let url = stores
            .blobs
            .presign(&blob, std::time::Duration::from_secs(60))
            .await
            .expect("presign")
            .expect("S3 presigns");
        let client = crate::helpers::client();
        let resp = client.get(&url).send().await.expect("get presigned");
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.bytes().await.expect("body").as_ref(), data.as_slice());
        // Tampered with, it is refused.
        let tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=6000");
        assert_ne!(tampered, url);
        let resp = client.get(&tampered).send().await.expect("get tampered");
        assert_eq!(resp.status().as_u16(), 403);
    }
}

/// A zip of `size` bytes (a pattern, so chunk order matters) in `dir`, and its address.
fn zip_file(
    dir: &std::path::Path,
    name: &str,
    size: usize,
) -> (std::path::PathBuf, Vec<u8>, BlobRef) {
    let data: Vec<u8> = (0..size).map(|j| (j * 31 + size) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, &data).expect("write");
    let sha = gomod::dirhash::sha256_reader(&data[..]).expect("sha");
    let blob = BlobRef {
        sha256: hex::encode(sha),
        size: size as u64,
    };
    (path, data, blob)
}

async fn read(stores: &Stores, blob: &BlobRef) -> Result<Vec<u8>, StoreError> {
    let chunks: Vec<bytes::Bytes> = stores
        .blobs
        .open(blob)
        .await?
        .into_stream()
        .try_collect()
        .await?;
    assert!(chunks.iter().all(|c| c.len() <= CHUNK_SIZE));
    Ok(chunks.concat())
}

async fn blobs(stores: Stores) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut put = Vec::new();
    // Sizes around chunk and read boundaries, including empty.
    for (i, size) in [
        0usize,
        1,
        (256 << 10) + 1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        3 * CHUNK_SIZE + 17,
    ]
    .into_iter()
    .enumerate()
    {
        let (path, data, blob) = zip_file(dir.path(), &format!("{i}.zip"), size);
        assert!(!stores.blobs.contains(&blob).await.expect("contains"));
        assert_eq!(
            stores.blobs.put(&blob, &path).await.expect("put"),
            Put::Written
        );
        assert!(stores.blobs.contains(&blob).await.expect("contains"));
        assert_eq!(
            read(&stores, &blob).await.expect("read"),
            data,
            "size {size}"
        );
        // Putting it again changes nothing.
        assert_eq!(
            stores.blobs.put(&blob, &path).await.expect("put again"),
            Put::Existed
        );
        assert_eq!(read(&stores, &blob).await.expect("read"), data);
        put.push(blob);
    }
    // Listed once each, with their sizes, as stored just now.
    let mut listed: Vec<ListedBlob> = stores.blobs.list().try_collect().await.expect("list");
    listed.sort_by(|a, b| a.blob.sha256.cmp(&b.blob.sha256));
    put.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    assert_eq!(
        listed.iter().map(|l| l.blob.clone()).collect::<Vec<_>>(),
        put
    );
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    assert!(listed.iter().all(|l| l.created > hour_ago), "{listed:?}");
    // A file whose size disagrees with what was declared is refused whole.
    let (path, _, mut blob) = zip_file(dir.path(), "lying.zip", CHUNK_SIZE + 1);
    blob.size = 3;
    blob.sha256 = "ab".repeat(32);
    assert!(stores.blobs.put(&blob, &path).await.is_err());
    assert!(matches!(
        stores.blobs.open(&blob).await.err(),
        Some(StoreError::MissingBlob(_))
    ));
    // A vanished file too.
    let missing = BlobRef {
        sha256: "cd".repeat(32),
        size: 10,
    };
    assert!(
        stores
            .blobs
            .put(&missing, &dir.path().join("nope"))
            .await
            .is_err()
    );
    assert!(stores.blobs.open(&missing).await.is_err());
    // Deleted: gone.
    let (path, _, blob) = zip_file(dir.path(), "doomed.zip", 100);
    stores.blobs.put(&blob, &path).await.expect("put");
    stores.blobs.delete(&blob).await.expect("delete");
    assert!(matches!(
        stores.blobs.open(&blob).await.err(),
        Some(StoreError::MissingBlob(_))
    ));
    assert!(!stores.blobs.contains(&blob).await.expect("contains"));
    let listed: Vec<ListedBlob> = stores.blobs.list().try_collect().await.expect("list");
    assert_eq!(listed.len(), put.len());
    // Ready when reachable.
    stores.blobs.ping().await.expect("ping");
}

fn new_version<'a>(
    module: &'a ModulePath,
    version: &'a Version,
    zip: &'a BlobRef,
    info: &'a [u8],
) -> NewVersion<'a> {
    NewVersion {
        module,
        version,
        info,
        go_mod: b"module example.com/m\n",
        zip,
        zip_h1: "h1:zip",
        mod_h1: "h1:mod",
        source: "test",
    }
}

async fn versions(stores: Stores) {
    let module = ModulePath::parse("example.com/m").expect("path");
    let v1 = Version::parse("v1.0.0").expect("v");
    let v2 = Version::parse("v1.1.0").expect("v");
    let dir = tempfile::tempdir().expect("tmp");
    let (path, data, blob) = zip_file(dir.path(), "a.zip", 5);

    // A row never names a blob that is not stored.
    assert!(matches!(
        stores
            .versions
            .insert_version(&new_version(
                &module,
                &v1,
                &blob,
                br#"{"Version":"v1.0.0"}"#
            ))
            .await,
        Err(StoreError::MissingBlob(_))
    ));
    assert!(
        stores
            .versions
            .version(&module, &v1)
            .await
            .expect("get")
            .is_none()
    );

    stores.blobs.put(&blob, &path).await.expect("put");
    let first = stores
        .versions
        .insert_version(&new_version(
            &module,
            &v1,
            &blob,
            br#"{"Version":"v1.0.0"}"#,
        ))
        .await
        .expect("insert");
    let Inserted::New { id } = first else {
        panic!("first insert: {first:?}")
    };
    // A second insert never replaces what is stored.
    assert_eq!(
        stores
            .versions
            .insert_version(&new_version(
                &module,
                &v1,
                &blob,
                br#"{"Version":"v1.0.0","Time":"later"}"#
            ))
            .await
            .expect("insert"),
        Inserted::AlreadyStored
    );
    let stored = stores
        .versions
        .version(&module, &v1)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.id, id);
    assert_eq!(stored.info.as_ref(), br#"{"Version":"v1.0.0"}"#);
    assert_eq!(stored.zip, blob);
    assert_eq!(read(&stores, &stored.zip).await.expect("read"), data);

    let (path2, _, blob2) = zip_file(dir.path(), "b.zip", 7);
    stores.blobs.put(&blob2, &path2).await.expect("put");
    stores
        .versions
        .insert_version(&new_version(
            &module,
            &v2,
            &blob2,
            br#"{"Version":"v1.1.0"}"#,
        ))
        .await
        .expect("insert v2");
    let mut listed = stores.versions.versions(&module).await.expect("versions");
    listed.sort();
    assert_eq!(listed, ["v1.0.0", "v1.1.0"]);
    let other = ModulePath::parse("example.com/other").expect("path");
    assert!(
        stores
            .versions
            .versions(&other)
            .await
            .expect("versions")
            .is_empty()
    );
    assert!(
        stores
            .versions
            .version(&other, &v1)
            .await
            .expect("get")
            .is_none()
    );
}

async fn tokens(stores: Stores) {
    let t = &stores.tokens;
    let new = |name: &'static str, hash: &'static str| NewToken {
        name,
        secret_sha256: hash,
        scopes: "read,publish",
        patterns: "corp.example",
        created_by: "test",
    };
    assert!(t.token_create(&new("ci", "h1")).await.expect("create"));
    assert!(
        !t.token_create(&new("ci", "h2"))
            .await
            .expect("duplicate name")
    );
    let found = t
        .token_by_hash("h1")
        .await
        .expect("by hash")
        .expect("found");
    assert_eq!(
        (found.name.as_str(), found.scopes.as_str()),
        ("ci", "read,publish")
    );
    assert_eq!(found.patterns, "corp.example");
    assert!(found.revoked_at.is_none());
    assert!(t.token_by_hash("h2").await.expect("by hash").is_none());
    assert!(t.token_revoke("ci").await.expect("revoke"));
    assert!(!t.token_revoke("ci").await.expect("revoke twice"));
    assert!(
        t.token_by_hash("h1")
            .await
            .expect("by hash")
            .expect("kept")
            .revoked_at
            .is_some()
    );
    // A revoked name can be used again.
    assert!(t.token_create(&new("ci", "h3")).await.expect("again"));
    assert_eq!(t.tokens().await.expect("list").len(), 2);
}

async fn sumdb_cache(stores: Stores) {
    let c = &stores.sumdb;
    assert!(
        c.sumdb_get("sum.golang.org", "latest")
            .await
            .expect("get")
            .is_none()
    );
    c.sumdb_put("sum.golang.org", "latest", b"one")
        .await
        .expect("put");
    c.sumdb_put("sum.golang.org", "latest", b"two")
        .await
        .expect("replace");
    assert_eq!(
        c.sumdb_get("sum.golang.org", "latest")
            .await
            .expect("get")
            .as_deref(),
        Some(&b"two"[..])
    );
    assert!(c.sumdb_get("other", "latest").await.expect("get").is_none());
}

async fn admin(stores: Stores) {
    let module = ModulePath::parse("example.com/m").expect("path");
    let dir = tempfile::tempdir().expect("tmp");
    for (i, v) in ["v1.0.0", "v1.1.0", "v1.2.0"].iter().enumerate() {
        let (path, _, blob) = zip_file(dir.path(), &format!("{i}.zip"), 10 + i);
        stores.blobs.put(&blob, &path).await.expect("put");
        let version = Version::parse(v).expect("v");
        let info = format!(
            r#"{{"Version":"{v}","Time":"2024-0{}-02T03:04:05Z"}}"#,
            i + 1
        );
        stores
            .versions
            .insert_version(&new_version(&module, &version, &blob, info.as_bytes()))
            .await
            .expect("insert");
    }
    let a = &stores.admin;
    let all = |include_hidden| CatalogQuery {
        limit: 10,
        include_hidden,
        ..Default::default()
    };
    let rows = a.catalog(&all(true)).await.expect("catalog");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].zip.size, 11);
    assert_eq!(rows[1].time.as_deref(), Some("2024-02-02T03:04:05Z"));
    assert!(
        a.hide_version(&rows[1], "bad", "ops", 100)
            .await
            .expect("hide")
    );
    assert!(
        !a.hide_version(&rows[1], "again", "ops", 101)
            .await
            .expect("hide twice")
    );
    assert_eq!(
        a.hidden().await.expect("hidden"),
        [Hidden {
            version_id: rows[1].id,
            module: module.to_string(),
            version: "v1.1.0".into(),
            reason: "bad".into(),
        }]
    );
    assert_eq!(a.catalog(&all(false)).await.expect("visible").len(), 2);
    // The public catalog: visible versions only, paged by id.
    let public = a.catalog_page(0, 10).await.expect("catalog page");
    let names: Vec<(i64, &str)> = public.iter().map(|r| (r.id, r.version.as_str())).collect();
    assert_eq!(
        names,
        [
            (rows[0].id, "v1.0.0"),
            (rows[2].id, rows[2].version.as_str())
        ]
    );
    assert_eq!(
        a.catalog_page(rows[0].id, 1).await.expect("next page")[0].id,
        rows[2].id
    );
    let page = a
        .catalog(&CatalogQuery {
            after_id: rows[0].id,
            limit: 1,
            include_hidden: true,
            module: Some("example.com/m"),
        })
        .await
        .expect("page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].version, "v1.1.0");

    assert!(a.top_modules(10).await.expect("no uses yet").is_empty());
    let used = |version_id, count, at| Use {
        version_id,
        count,
        at,
    };
    a.touch_usage(&[
        used(rows[0].id, 2, 50),
        used(rows[0].id, 1, 40),
        used(999_999, 1, 1),
    ])
    .await
    .expect("touch");
    a.touch_usage(&[used(rows[0].id, 1, 30), used(rows[1].id, 5, 60)])
        .await
        .expect("older");
    let counted = a.catalog(&all(true)).await.expect("catalog");
    assert_eq!((counted[0].last_used_at, counted[0].uses), (Some(50), 4));
    assert_eq!((counted[1].uses, counted[2].uses), (5, 0));
    let summed = ModuleUse {
        path: module.to_string(),
        uses: 9,
        last_used_at: 60,
    };
    assert_eq!(
        a.top_modules(10).await.expect("top"),
        std::slice::from_ref(&summed)
    );
    assert_eq!(a.recently_used_modules(10).await.expect("recent"), [summed]);

    a.expire_version(&rows[2], "ops", 200, "retention")
        .await
        .expect("expire");
    assert_eq!(a.catalog(&all(true)).await.expect("after").len(), 2);
    a.record_audit(&AuditEntry {
        id: 0,
        at: 300,
        actor: "ci".into(),
        action: "publish".into(),
        module: "example.com/m".into(),
        version: "v9.0.0".into(),
        detail: "h1:x".into(),
    })
    .await
    .expect("audit");
    let log = a.audit_log(0, 10).await.expect("log");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["hide", "expire", "publish"]);
    assert_eq!(a.audit_log(log[0].id, 10).await.expect("after").len(), 2);
}

async fn database(stores: Stores) {
    assert!(
        stores
            .database
            .migrations_current()
            .await
            .expect("migrations")
    );
    stores.database.ping().await.expect("ping");
    assert!(!stores.database.pool_stats().is_empty());
}

/// Versions stored at once (a burst of misses, each stored in the background while the next is
/// fetched) all land: no writer gives up on another's lock.
async fn concurrent_writes(stores: Stores) {
    let dir = tempfile::tempdir().expect("tmp");
    let writes = (0..12usize).map(|i| {
        let stores = stores.clone();
        let (path, _, blob) = zip_file(dir.path(), &format!("{i}.zip"), 300_000 + i);
        async move {
            let module = ModulePath::parse(&format!("example.com/m{}", i % 3)).expect("path");
            let version = Version::parse(&format!("v1.0.{i}")).expect("v");
            stores.blobs.put(&blob, &path).await?;
            stores
                .versions
                .insert_version(&new_version(&module, &version, &blob, b"{}"))
                .await
        }
    });
    for (i, written) in futures::future::join_all(writes)
        .await
        .into_iter()
        .enumerate()
    {
        assert!(
            matches!(written, Ok(Inserted::New { .. })),
            "write {i}: {written:?}"
        );
    }
}

/// Stores one version, for the tests that then try to change it behind the store's back.
async fn module_search(stores: Stores) {
    let dir = tempfile::tempdir().expect("tmp");
    let (path, _, blob) = zip_file(dir.path(), "a.zip", 3);
    stores.blobs.put(&blob, &path).await.expect("put");
    for (m, v) in [
        ("example.com/alpha", "v1.0.0"),
        ("example.com/alpha", "v1.1.0"),
        ("example.com/beta", "v0.1.0"),
        ("golang.org/x/alphabet", "v0.2.0"),
    ] {
        let (m, v) = (
            ModulePath::parse(m).expect("m"),
            Version::parse(v).expect("v"),
        );
        stores
            .versions
            .insert_version(&new_version(&m, &v, &blob, b"{}"))
            .await
            .expect("insert");
    }
    let search = |text: &'static str, after: &'static str, limit: i64| {
        let stores = stores.clone();
        async move {
            stores
                .admin
                .search_modules(text, after, limit)
                .await
                .expect("search")
                .into_iter()
                .map(|m| (m.path, m.versions))
                .collect::<Vec<_>>()
        }
    };
    let s = |p: &str, n: i64| (p.to_string(), n);
    // By prefix, by substring, everything, nothing; in path order, paged.
    assert_eq!(
        search("example.com/a", "", 10).await,
        vec![s("example.com/alpha", 2)]
    );
    assert_eq!(
        search("alpha", "", 10).await,
        vec![s("example.com/alpha", 2), s("golang.org/x/alphabet", 1)]
    );
    assert_eq!(search("", "", 10).await.len(), 3);
    assert_eq!(search("%", "", 10).await, vec![]);
    assert_eq!(search("zeta", "", 10).await, vec![]);
    assert_eq!(
        search("", "example.com/alpha", 1).await,
        vec![s("example.com/beta", 1)]
    );
    let listed = stores
        .admin
        .search_modules("beta", "", 1)
        .await
        .expect("search");
    let now = agora::admin::unix_now();
    assert!(
        (now - 3600..=now + 60).contains(&listed[0].last_stored),
        "{listed:?}"
    );
}

async fn store_one(stores: Stores) {
    let module = ModulePath::parse("example.com/m").expect("path");
    let v1 = Version::parse("v1.0.0").expect("v");
    let dir = tempfile::tempdir().expect("tmp");
    let (path, _, blob) = zip_file(dir.path(), "a.zip", 3);
    stores.blobs.put(&blob, &path).await.expect("put");
    stores
        .versions
        .insert_version(&new_version(&module, &v1, &blob, b"{}"))
        .await
        .expect("insert");
}

const UPDATES: [&str; 3] = [
    "UPDATE versions SET go_mod = 'x'",
    "UPDATE blob_chunks SET data = 'x'",
    "UPDATE blobs SET size = 4",
];

#[sqlx::test(migrations = "migrations/postgres")]
async fn postgres_refuses_updates_to_stored_versions(pool: sqlx::PgPool) {
    store_one(crate::helpers::pg_store(pool.clone())).await;
    for sql in UPDATES {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn sqlite_refuses_updates_to_stored_versions(pool: sqlx::SqlitePool) {
    store_one(crate::helpers::sqlite_store(pool.clone()).await).await;
    for sql in UPDATES {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn postgres_fetch_lock_is_exclusive_and_dies_with_its_holder(pool: sqlx::PgPool) {
    let locks = crate::helpers::pg_store(pool).locks;
    let held = locks
        .lock("example.com/m@v1.0.0", Duration::from_secs(1))
        .await
        .expect("first");
    // Another key is independent.
    let other = locks
        .lock("example.com/m@v1.0.1", Duration::from_millis(200))
        .await
        .expect("other key");
    other.release().await;
    match locks
        .lock("example.com/m@v1.0.0", Duration::from_millis(200))
        .await
    {
        Err(StoreError::LockTimeout(_)) => {}
        Err(e) => panic!("expected a lock timeout, got {e}"),
        Ok(_) => panic!("the lock was taken twice"),
    }
    held.release().await;
    let again = locks
        .lock("example.com/m@v1.0.0", Duration::from_secs(1))
        .await
        .expect("after release");
    // Dropping without release is what a dead holder looks like: its session closes.
    drop(again);
    locks
        .lock("example.com/m@v1.0.0", Duration::from_secs(5))
        .await
        .expect("after the holder died")
        .release()
        .await;
}

/// The advisory locks held now in this test's database: (session pid, granted).
async fn advisory_locks(pool: &sqlx::PgPool) -> Vec<(i32, bool)> {
    sqlx::query_as(
        "SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory'
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         ORDER BY pid",
    )
    .fetch_all(pool)
    .await
    .expect("pg_locks")
}

async fn session_alive(pool: &sqlx::PgPool, pid: i32) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(pool)
        .await
        .expect("pg_stat_activity")
        == 1
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn postgres_lock_sessions_return_to_their_pool_holding_nothing(pool: sqlx::PgPool) {
    let locks = crate::helpers::pg_store(pool.clone()).locks;
    let wait = Duration::from_secs(2);

    // Released: the session goes back to the pool with no lock, and the next lock reuses it.
    let first = locks.lock("example.com/a@v1.0.0", wait).await.expect("a");
    let held = advisory_locks(&pool).await;
    assert_eq!(held.len(), 1, "{held:?}");
    let pid = held[0].0;
    first.release().await;
    assert_eq!(advisory_locks(&pool).await, vec![]);
    assert!(
        session_alive(&pool, pid).await,
        "a released session is kept"
    );
    let second = locks.lock("example.com/b@v1.0.0", wait).await.expect("b");
    assert_eq!(advisory_locks(&pool).await, vec![(pid, true)], "reused");

    // Timed out: that session holds nothing and waits for nothing afterwards.
    match locks
        .lock("example.com/b@v1.0.0", Duration::from_millis(100))
        .await
    {
        Err(StoreError::LockTimeout(_)) => {}
        Err(e) => panic!("expected a lock timeout, got {e}"),
        Ok(_) => panic!("the lock was taken twice"),
    }
    assert_eq!(advisory_locks(&pool).await, vec![(pid, true)]);
    second.release().await;

    // Dropped without release (a cancelled fetch): the session is closed, never reused, and the
    // lock goes with it.
    let dropped = locks.lock("example.com/c@v1.0.0", wait).await.expect("c");
    let pid = advisory_locks(&pool).await[0].0;
    drop(dropped);
    let mut closed = false;
    for _ in 0..100 {
        if !session_alive(&pool, pid).await {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the session of a dropped lock was not closed");
    assert_eq!(advisory_locks(&pool).await, vec![]);
    let again = locks
        .lock("example.com/c@v1.0.0", wait)
        .await
        .expect("c again");
    assert_ne!(advisory_locks(&pool).await[0].0, pid);
    again.release().await;
}
