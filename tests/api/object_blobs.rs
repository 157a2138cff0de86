//! Zips in a real S3 server (s3s-fs on loopback): the go command builds through agora with zips
//! streamed or redirected, replicas upload each zip once, a killed upload leaves no version
//! behind, an outage costs zips but not metadata, and `agora blobs` moves every zip between the
//! database and S3 and back.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;

use crate::e2e::build_through;
use crate::fixture::go_fixture;
use crate::helpers::{
    Replica, TestApp, database_url, esc, pg_store, pg_store_with_blobs, spawn_app_with,
    start_replica_with,
};
use crate::replicas::wait_for;
use crate::s3::S3Server;
use crate::upstream::{Fault, TestUpstream};
use agora::store::{BlobRef, BlobStore, ListedBlob, NewVersion, Stores};

const CAPS: &str = "github.com/Agora-Test/Caps";
const BIG: &str = "github.com/agoratest/big";

async fn app_on_s3(
    pool: sqlx::PgPool,
    s3: &S3Server,
    upstream: &TestUpstream,
    extra: &[(&str, &str)],
) -> TestApp {
    let stores = pg_store_with_blobs(pool, s3.blobs("zips"));
    let mut env: Vec<(String, String)> = s3.settings("zips");
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_app_with(stores, &upstream.url(), &env).await
}

fn no_redirects() -> reqwest::Client {
    agora::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn zip_path(module: &str, version: &str) -> String {
    format!("/{}/@v/{}.zip", esc(module), esc(version))
}

/// The versions the fixture program builds with.
const BUILT: [(&str, &str); 4] = [
    ("github.com/Agora-Test/Caps", "v1.0.0"),
    ("github.com/agoratest/multi/v2", "v2.1.0"),
    ("github.com/agoratest/legacy", "v2.0.0+incompatible"),
    ("github.com/agoratest/big", "v1.0.0"),
];

/// `count` zips are in the bucket, once each, under their sha256.
fn assert_zips_in_bucket(s3: &S3Server, prefix: &str, count: usize) {
    let objects = s3.objects(prefix);
    assert_eq!(objects.len(), count, "objects: {objects:?}");
    for (key, _) in &objects {
        let name = key.rsplit('/').next().expect("name");
        assert_eq!(name.len(), 64, "{key}");
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn go_builds_with_zips_streamed_from_s3(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = app_on_s3(pool.clone(), &s3, &upstream, &[]).await;
    build_through(&app, &upstream).await;
    assert_zips_in_bucket(&s3, "zips", BUILT.len());
    // Streamed: the zip comes from agora, not a redirect; nothing is stored in the database's
    // blob tables.
    let resp = no_redirects()
        .get(format!("{}{}", app.address, zip_path(CAPS, "v1.0.0")))
        .send()
        .await
        .expect("zip");
    assert_eq!(resp.status().as_u16(), 200);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM blobs")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "zips went to the database");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn go_builds_with_zips_redirected_to_s3(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = app_on_s3(pool, &s3, &upstream, &[("AGORA_BLOBS__REDIRECT", "true")]).await;
    // The first build fetches (served from the fetch itself); the second is redirected.
    build_through(&app, &upstream).await;
    assert_zips_in_bucket(&s3, "zips", BUILT.len());

    let client = no_redirects();
    for (module, version) in BUILT {
        let base = format!("{}/{}/@v/{}", app.address, esc(module), esc(version));
        let resp = client.get(format!("{base}.zip")).send().await.expect("zip");
        assert_eq!(resp.status().as_u16(), 307, "{module}@{version}");
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_string();
        assert!(
            location.starts_with(&format!("http://127.0.0.1:{}/", s3.relay.port))
                && location.contains("X-Amz-Signature="),
            "{location}"
        );
        // The presigned URL serves the very bytes of the go command's own download.
        let body = client
            .get(&location)
            .send()
            .await
            .expect("presigned")
            .bytes()
            .await
            .expect("body");
        let want = std::fs::read(
            go_fixture()
                .tree
                .join(esc(module))
                .join("@v")
                .join(format!("{}.zip", esc(version))),
        )
        .expect("tree zip");
        assert!(body.as_ref() == want.as_slice(), "{module}@{version}");
        // Metadata is always agora's own.
        for ext in ["info", "mod"] {
            let resp = client
                .get(format!("{base}.{ext}"))
                .send()
                .await
                .expect("meta");
            assert_eq!(resp.status().as_u16(), 200, "{module}@{version}.{ext}");
        }
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn an_s3_outage_costs_zips_not_metadata_and_heals_without_a_restart(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    // No local zip caches: every zip is read from S3.
    let app = app_on_s3(
        pool,
        &s3,
        &upstream,
        &[
            ("AGORA_CACHE__DISK_BYTES", "0"),
            ("AGORA_CACHE__MEMORY_ZIP_MAX_BYTES", "0"),
        ],
    )
    .await;
    let caps = format!("/{}/@v/v1.0.0", esc(CAPS));
    let (status, _) = app.fetch(&format!("{caps}.zip")).await;
    assert_eq!(status, 200);

    s3.relay.down();
    let (status, body) = app.fetch(&format!("{caps}.zip")).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    for ext in ["info", "mod"] {
        let (status, _) = app.fetch(&format!("{caps}.{ext}")).await;
        assert_eq!(status, 200, "{ext} while S3 is down");
    }
    let (status, _) = app.fetch("/readyz").await;
    assert_eq!(status, 503, "ready while S3 is down");
    // A version first asked for now cannot be stored: its zip never arrives whole (the response
    // breaks off before its last piece), and nothing is left behind.
    let multi = format!("/{}/@v/v1.0.0.zip", esc("github.com/agoratest/multi"));
    let resp = app.get(&multi).await;
    let whole = resp.status().as_u16() == 200 && resp.bytes().await.is_ok();
    assert!(!whole, "a zip that could not be stored was sent whole");
    assert!(!app.is_stored("github.com/agoratest/multi", "v1.0.0").await);

    s3.relay.up();
    let (status, body) = app.fetch(&format!("{caps}.zip")).await;
    assert_eq!(status, 200);
    let want =
        std::fs::read(go_fixture().tree.join(esc(CAPS)).join("@v/v1.0.0.zip")).expect("tree zip");
    assert!(body.as_ref() == want.as_slice());
    let (status, _) = app.fetch(&multi).await;
    assert_eq!(status, 200);
    assert!(app.is_stored("github.com/agoratest/multi", "v1.0.0").await);
    let (status, _) = app.fetch("/readyz").await;
    assert_eq!(status, 200);
}

fn s3_replicas(
    pool: &sqlx::PgPool,
    s3: &S3Server,
    upstream: &TestUpstream,
    data: &std::path::Path,
) -> Vec<Replica> {
    let url = database_url(pool);
    let env = s3.settings("cluster");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    (0..3)
        .map(|i| start_replica_with(&url, &format!("{}/r{i}", upstream.url()), data, &env))
        .collect()
}

/// `agora_blob_uploads_total` of a replica.
async fn uploads(replica: &Replica) -> u64 {
    let text = crate::helpers::client()
        .get(format!("{}/metrics", replica.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("agora_blob_uploads_total "))
        .map_or(0, |v| v.trim().parse().expect("count"))
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn three_replicas_upload_each_zip_once(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let replicas = s3_replicas(&pool, &s3, &upstream, data.path());
    upstream.fault(".zip", Fault::Delay(Duration::from_millis(300)), None);
    let f = go_fixture();
    let client = Arc::new(crate::helpers::client());
    let mut tasks = Vec::new();
    for round in 0..17 {
        for (i, (module, version)) in f.modules.iter().enumerate() {
            let replica = &replicas[(i + round) % replicas.len()];
            let path = zip_path(module, version);
            let (client, url) = (client.clone(), format!("{}{path}", replica.address));
            tasks.push(tokio::spawn(async move {
                let resp = client.get(&url).send().await.expect("request");
                (
                    path,
                    resp.status().as_u16(),
                    resp.bytes().await.expect("body"),
                )
            }));
        }
    }
    assert!(tasks.len() >= 100, "{} requests", tasks.len());
    for task in tasks {
        let (path, status, body) = task.await.expect("join");
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        let (module_esc, file) = path
            .trim_start_matches('/')
            .split_once("/@v/")
            .expect("path");
        let want = std::fs::read(f.tree.join(module_esc).join("@v").join(file)).expect("tree");
        assert!(body.as_ref() == want.as_slice(), "{path}: wrong bytes");
    }
    for (module, version) in &f.modules {
        let suffix = format!("{}/@v/{}.zip", esc(module), esc(version));
        assert_eq!(upstream.hits_ending(&suffix), 1, "{suffix}");
    }
    let mut total = 0;
    for r in &replicas {
        total += uploads(r).await;
    }
    assert_eq!(total, f.modules.len() as u64, "uploads across the cluster");
    assert_zips_in_bucket(&s3, "cluster", f.modules.len());
    let blob_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM blobs")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(blob_rows, 0, "zips went to the database");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_replica_killed_mid_upload_leaves_no_version_and_is_taken_over(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let mut replicas = s3_replicas(&pool, &s3, &upstream, data.path());
    let big = zip_path(BIG, "v1.0.0");
    // Let the first part of the upload through, then hold it.
    s3.relay.stall_after(6 << 20);
    let client = crate::helpers::client();
    let from_a = tokio::spawn({
        let (client, url) = (client.clone(), format!("{}{big}", replicas[0].address));
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    wait_for(|| s3.relay.is_stalled()).await;
    let versions = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM versions")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    assert_eq!(versions().await, 0);
    let mut a = replicas.remove(0);
    a.child.kill().expect("kill -9");
    a.child.wait().expect("reap");
    let _ = from_a.await;
    assert_eq!(versions().await, 0, "a version row without its zip");
    assert!(
        s3.objects("cluster").is_empty(),
        "a partial object is visible"
    );

    s3.relay.up();
    let resp = client
        .get(format!("{}{big}", replicas[0].address))
        .send()
        .await
        .expect("request to b");
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.bytes().await.expect("body");
    let want =
        std::fs::read(go_fixture().tree.join(esc(BIG)).join("@v/v1.0.0.zip")).expect("tree zip");
    assert!(body.as_ref() == want.as_slice(), "wrong bytes");
    assert_eq!(versions().await, 1);
    let objects = s3.objects("cluster");
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(objects[0].1, want.len() as u64);
    assert_eq!(
        upstream.hits_ending(&format!("{}/@v/v1.0.0.zip", esc(BIG))),
        2
    );
}

/// `n` versions of made-up modules, each with a zip of its own, stored in `stores`.
async fn store_versions(stores: &Stores, n: usize) -> Vec<(BlobRef, Vec<u8>)> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut stored = Vec::new();
    for i in 0..n {
        let data = crate::fixture::noise(i as u64 + 1, 1000 + i * 997);
        let path = dir.path().join("zip");
        std::fs::write(&path, &data).expect("write");
        let blob = BlobRef {
            sha256: hex::encode(gomod::dirhash::sha256_reader(&data[..]).expect("sha")),
            size: data.len() as u64,
        };
        stores.blobs.put(&blob, &path).await.expect("put");
        let module =
            gomod::module::ModulePath::parse(&format!("example.com/m{}", i % 20)).expect("module");
        let version = gomod::version::Version::parse(&format!("v1.0.{}", i / 20)).expect("version");
        stores
            .versions
            .insert_version(&NewVersion {
                module: &module,
                version: &version,
                info: b"{}",
                go_mod: b"module m\n",
                zip: &blob,
                zip_h1: "h1:x",
                mod_h1: "h1:y",
                source: "test",
            })
            .await
            .expect("insert");
        stored.push((blob, data));
    }
    stored
}

/// Runs `agora blobs ARGS` against the test's database and S3; its output and whether it passed.
/// It runs off the test's runtime, which keeps serving the relay meanwhile.
async fn blobs_cli(db: &str, s3: &S3Server, configured: &str, args: &[&str]) -> (bool, String) {
    let data = tempfile::tempdir().expect("tmp");
    let mut cmd = blobs_command(db, s3, configured, args, data.path());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run agora blobs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn blobs_command(
    db: &str,
    s3: &S3Server,
    configured: &str,
    args: &[&str],
    data: &std::path::Path,
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agora"));
    cmd.arg("blobs")
        .args(args)
        .env("AGORA_DATABASE_URL", db)
        .env("AGORA_BLOBS__URL", configured)
        .env("AGORA_DATA_DIR", data)
        .envs(s3.aws_env());
    cmd
}

async fn read_all(stores: &Stores, blob: &BlobRef) -> Vec<u8> {
    let chunks: Vec<bytes::Bytes> = stores
        .blobs
        .open(blob)
        .await
        .expect("open")
        .into_stream()
        .try_collect()
        .await
        .expect("read");
    chunks.concat()
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn blobs_move_from_the_database_to_s3_and_back(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let db = database_url(&pool);
    let stored = store_versions(&pg_store(pool.clone()), 200).await;
    let target = s3.url("moved");
    // Switched before the copy: replicas on S3 read what only the database holds yet, and never
    // redirect to an object that is not there.
    let on_s3 = pg_store_with_blobs(pool.clone(), s3.blobs("moved"));
    let (blob, data) = &stored[7];
    assert!(read_all(&on_s3, blob).await == *data);
    let ttl = Duration::from_secs(60);
    assert_eq!(on_s3.blobs.presign(blob, ttl).await.expect("presign"), None);

    // Interrupted once: killed while S3 holds its uploads, a few MiB into the copy.
    let data = tempfile::tempdir().expect("tmp");
    s3.relay.stall_after(4 << 20);
    let mut first = blobs_command(
        &db,
        &s3,
        "database",
        &["migrate", "--to", &target],
        data.path(),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn migrate");
    wait_for(|| s3.relay.is_stalled()).await;
    first.kill().expect("interrupt");
    first.wait().expect("reap");
    s3.relay.up();
    let partial = s3.objects("moved").len();
    assert!(
        (1..200).contains(&partial),
        "{partial} zips copied before the interruption"
    );

    let (ok, out) = blobs_cli(&db, &s3, "database", &["migrate", "--to", &target]).await;
    assert!(ok, "{out}");
    assert!(out.contains("were there already"), "{out}");
    let copied_again: usize = out
        .split("copied ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("copied count");
    assert_eq!(copied_again, 200 - partial, "{out}");
    assert_eq!(s3.objects("moved").len(), 200);

    // In S3: every zip identical.
    let only_s3 = s3.blobs("moved");
    for (blob, data) in &stored {
        let chunks: Vec<bytes::Bytes> = only_s3
            .open(blob)
            .await
            .expect("open")
            .into_stream()
            .try_collect()
            .await
            .expect("read");
        assert!(chunks.concat() == *data, "{}", blob.sha256);
    }
    let (ok, out) = blobs_cli(&db, &s3, &target, &["verify"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("200 blobs"), "{out}");

    // The database's copies go once S3 holds them (a dry run first).
    let (ok, out) = blobs_cli(
        &db,
        &s3,
        &target,
        &["gc", "--from", "database", "--grace-hours", "0"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("dry run: 200 blobs"), "{out}");
    let (ok, out) = blobs_cli(
        &db,
        &s3,
        &target,
        &["gc", "--from", "database", "--grace-hours", "0", "--delete"],
    )
    .await;
    assert!(ok, "{out}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM blobs")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    assert!(
        on_s3
            .blobs
            .presign(&stored[7].0, ttl)
            .await
            .expect("presign")
            .is_some()
    );
    // Every version still names a zip S3 holds.
    let (ok, out) = blobs_cli(&db, &s3, &target, &["verify"]).await;
    assert!(ok, "{out}");

    // And back.
    let (ok, out) = blobs_cli(&db, &s3, &target, &["migrate", "--to", "database"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("copied 200 blobs"), "{out}");
    let in_db = pg_store(pool.clone());
    for (blob, data) in &stored {
        assert!(read_all(&in_db, blob).await == *data, "{}", blob.sha256);
    }
    let (ok, out) = blobs_cli(&db, &s3, "database", &["verify"]).await;
    assert!(ok, "{out}");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn blobs_gc_removes_only_old_orphans_and_verify_finds_damage(pool: sqlx::PgPool) {
    let s3 = S3Server::start().await;
    let db = database_url(&pool);
    let on_s3 = pg_store_with_blobs(pool.clone(), s3.blobs("gc"));
    let stored = store_versions(&on_s3, 3).await;
    // An orphan: a blob whose version row never came (a crash between the two).
    let dir = tempfile::tempdir().expect("tmp");
    let data = crate::fixture::noise(99, 5000);
    let path = dir.path().join("orphan.zip");
    std::fs::write(&path, &data).expect("write");
    let orphan = BlobRef {
        sha256: hex::encode(gomod::dirhash::sha256_reader(&data[..]).expect("sha")),
        size: data.len() as u64,
    };
    on_s3.blobs.put(&orphan, &path).await.expect("put orphan");
    let target = s3.url("gc");

    // Young: kept through the grace period.
    let (ok, out) = blobs_cli(&db, &s3, &target, &["gc"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("dry run: 0 blobs"), "{out}");
    let (ok, out) = blobs_cli(&db, &s3, &target, &["gc", "--grace-hours", "0"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&orphan.sha256) && out.contains("dry run: 1 blobs"),
        "{out}"
    );
    assert_eq!(s3.objects("gc").len(), 4, "a dry run deleted");
    let (ok, out) = blobs_cli(&db, &s3, &target, &["gc", "--grace-hours", "0", "--delete"]).await;
    assert!(ok, "{out}");
    let listed: Vec<ListedBlob> = on_s3.blobs.list().try_collect().await.expect("list");
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|l| l.blob.sha256 != orphan.sha256));

    // Damage: one object's bytes changed behind agora's back, another gone.
    let (ok, out) = blobs_cli(&db, &s3, &target, &["verify"]).await;
    assert!(ok, "{out}");
    let key_of = |b: &BlobRef| {
        s3.root
            .path()
            .join(crate::s3::BUCKET)
            .join("gc/sha256")
            .join(&b.sha256[..2])
            .join(&b.sha256)
    };
    let mut bytes = std::fs::read(key_of(&stored[0].0)).expect("object");
    bytes[10] ^= 0xff;
    std::fs::write(key_of(&stored[0].0), bytes).expect("corrupt");
    std::fs::remove_file(key_of(&stored[1].0)).expect("remove");
    let (ok, out) = blobs_cli(&db, &s3, &target, &["verify"]).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("bad: {}", stored[0].0.sha256))
            && out.contains(&format!("missing: {}", stored[1].0.sha256)),
        "{out}"
    );
}
