//! The checksum database through agora: pass-through and caching against a local database, 403
//! for private lookups, and the real go command verifying downloads with `GOSUMDB` routed
//! through agora (also while the database is down, and refusing a tampered record).

use std::path::Path;
use std::process::Command;

use crate::fixture::{go_env, go_fixture, run};
use crate::helpers::{TestApp, pg_store, spawn_app_with, sqlite_store};
use crate::sumdb_server::{TestSumdb, records_from_go_sum};
use crate::upstream::TestUpstream;
use agora::store::Stores;

const NAME: &str = "sum.agora.test";

/// Agora proxying the database `sumdb`; `verify` turns `sumdb.verify_zips` on.
async fn app_with_sumdb(
    store: Stores,
    modules: &str,
    sumdb: &TestUpstream,
    verify: bool,
) -> TestApp {
    let upstream = format!("{NAME}={}", sumdb.url());
    spawn_app_with(
        store,
        modules,
        &[
            ("AGORA_SUMDB__NAMES", NAME),
            ("AGORA_SUMDB__UPSTREAM", &upstream),
            ("AGORA_SUMDB__PRIVATE", "corp.example.com"),
            (
                "AGORA_SUMDB__VERIFY_ZIPS",
                if verify { "true" } else { "false" },
            ),
        ],
    )
    .await
}

fn fake_records() -> Vec<(String, String, String)> {
    [
        ("example.com/a", "v1.0.0"),
        ("github.com/Upper/x", "v0.1.0"),
    ]
    .iter()
    .map(|(m, v)| {
        (
            m.to_string(),
            v.to_string(),
            format!("{m} {v} h1:{0}=\n{m} {v}/go.mod h1:{0}=\n", "A".repeat(43)),
        )
    })
    .collect()
}

async fn pass_through(store: Stores) {
    let dir = tempfile::tempdir().expect("tmp");
    TestSumdb::write(NAME, 7, fake_records(), dir.path());
    let db = TestUpstream::start(dir.path().to_path_buf());
    let app = app_with_sumdb(store, "off", &db, false).await;
    let base = format!("/sumdb/{NAME}");

    assert_eq!(app.fetch(&format!("{base}/supported")).await.0, 200);
    // Databases not configured: 404, so the go command tries the next proxy or goes direct.
    assert_eq!(app.fetch("/sumdb/sum.golang.org/supported").await.0, 404);

    let lookup = "lookup/github.com/!upper/x@v0.1.0";
    let want = std::fs::read(dir.path().join(lookup)).expect("lookup file");
    for _ in 0..2 {
        let resp = app.get(&format!("{base}/{lookup}")).await;
        assert_eq!(resp.status().as_u16(), 200);
        assert!(
            resp.headers()["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable")
        );
        assert_eq!(resp.bytes().await.expect("body"), want);
    }
    // Percent-encoded `!` is the same lookup, and it is served from the store.
    let (status, body) = app
        .fetch(&format!("{base}/lookup/github.com/%21upper/x@v0.1.0"))
        .await;
    assert_eq!((status, body.as_ref()), (200, want.as_slice()));
    assert_eq!(db.hits_ending("@v0.1.0"), 1, "{:?}", db.hits());

    let tile = "tile/8/0/000.p/2";
    let want_tile = std::fs::read(dir.path().join(tile)).expect("tile");
    assert_eq!(want_tile.len(), 64);
    assert_eq!(app.fetch(&format!("{base}/{tile}")).await.1, want_tile);
    assert_eq!(app.fetch(&format!("{base}/{tile}")).await.1, want_tile);
    assert_eq!(db.hits_ending("000.p/2"), 1);
    // A tile the database does not have: its 404 passes through, and is not remembered.
    for _ in 0..2 {
        assert_eq!(app.fetch(&format!("{base}/tile/8/0/000")).await.0, 404);
    }
    assert_eq!(db.hits_ending("/tile/8/0/000"), 2);
    // Malformed tile paths never reach the database.
    assert_eq!(app.fetch(&format!("{base}/tile/8/0/1")).await.0, 404);
    assert_eq!(app.fetch(&format!("{base}/tile/8/0/..%2f000")).await.0, 404);

    let resp = app.get(&format!("{base}/latest")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let latest = resp.bytes().await.expect("latest");
    assert!(latest.starts_with(b"go.sum database tree\n2\n"));

    // Private modules: 403 with the fix, and the database never hears of them.
    let resp = app
        .get(&format!("{base}/lookup/corp.example.com/secret/lib@v1.0.0"))
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let text = resp.text().await.expect("text");
    assert!(text.contains("GONOSUMDB=corp.example.com"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    assert!(!db.hits().iter().any(|h| h.contains("corp.example.com")));

    // The database goes away: what was fetched is still served, the rest fails loudly.
    db.stop().await;
    assert_eq!(app.fetch(&format!("{base}/{lookup}")).await.1, want);
    assert_eq!(app.fetch(&format!("{base}/{tile}")).await.1, want_tile);
    assert_eq!(app.fetch(&format!("{base}/latest")).await.1, latest);
    let (status, _) = app
        .fetch(&format!("{base}/lookup/example.com/a@v1.0.0"))
        .await;
    assert_eq!(status, 502);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn sumdb_pass_through_on_postgres(pool: sqlx::PgPool) {
    pass_through(pg_store(pool)).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn sumdb_pass_through_on_sqlite(pool: sqlx::SqlitePool) {
    pass_through(sqlite_store(pool).await).await;
}

/// `go mod download` of the fixture program, without its go.sum, so every hash is checked
/// against the checksum database named in `gosumdb`, found through `goproxy`.
fn go_mod_download(goproxy: &str, gosumdb: &str, work: &Path) -> Result<String, String> {
    let f = go_fixture();
    let app = work.join("app");
    run(Command::new("cp").arg("-r").arg(&f.app).arg(&app))?;
    std::fs::remove_file(app.join("go.sum")).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&f.go);
    go_env(&mut cmd, &f.root, &work.join("modcache"), goproxy);
    cmd.env("GOPATH", work.join("gopath"))
        .env("GOSUMDB", gosumdb)
        .current_dir(&app)
        .args(["mod", "download"]);
    run(&mut cmd)
}

async fn download(app: &TestApp, vkey: &str) -> (Result<String, String>, tempfile::TempDir) {
    let work = tempfile::tempdir().expect("tmp");
    let (goproxy, vkey, dir) = (
        app.address.clone(),
        vkey.to_string(),
        work.path().to_path_buf(),
    );
    let out = tokio::task::spawn_blocking(move || go_mod_download(&goproxy, &vkey, &dir))
        .await
        .expect("join");
    (out, work)
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn go_verifies_through_agora_sumdb(pool: sqlx::PgPool) {
    let f = go_fixture();
    let go_sum = std::fs::read_to_string(f.app.join("go.sum")).expect("go.sum");
    let dir = tempfile::tempdir().expect("tmp");
    let sumdb = TestSumdb::write(NAME, 3, records_from_go_sum(&go_sum), dir.path());
    assert!(sumdb.records.len() >= 4);
    let db = TestUpstream::start(dir.path().to_path_buf());
    let modules = TestUpstream::start(f.tree.clone());
    // Agora verifies every zip it fetches too, and the go command's lookups then come from the
    // answers agora stored.
    let app = app_with_sumdb(pg_store(pool), &modules.url(), &db, true).await;

    let (out, _w) = download(&app, &sumdb.vkey).await;
    out.unwrap_or_else(|e| panic!("go mod download verifying through agora: {e}"));
    for (module, version) in &go_fixture().modules {
        let lookup = format!("/lookup/{}@{}", crate::helpers::esc(module), version);
        assert!(db.hits_ending(&lookup) <= 1, "{lookup}: {:?}", db.hits());
    }
    let lookups = db.hits().iter().filter(|h| h.contains("/lookup/")).count();
    assert!(lookups >= 4, "{:?}", db.hits());
    assert!(db.hits().iter().any(|h| h.contains("/tile/8/0/")));

    // The database is down: a fresh client still verifies, from what agora stored.
    db.stop().await;
    let (out, _w) = download(&app, &sumdb.vkey).await;
    out.unwrap_or_else(|e| panic!("go mod download with the checksum database down: {e}"));
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn go_refuses_a_tampered_record(pool: sqlx::PgPool) {
    let f = go_fixture();
    let go_sum = std::fs::read_to_string(f.app.join("go.sum")).expect("go.sum");
    // The database vouches for another hash of the big module's zip.
    let tampered: String = go_sum
        .lines()
        .map(|l| {
            if l.starts_with("github.com/agoratest/big v1.0.0 h1:") {
                format!("github.com/agoratest/big v1.0.0 h1:{}=\n", "B".repeat(43))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = tempfile::tempdir().expect("tmp");
    let sumdb = TestSumdb::write(NAME, 5, records_from_go_sum(&tampered), dir.path());
    let db = TestUpstream::start(dir.path().to_path_buf());
    let modules = TestUpstream::start(f.tree.clone());
    // Agora's own check is off here: this is the go command's.
    let app = app_with_sumdb(pg_store(pool), &modules.url(), &db, false).await;
    let (out, _w) = download(&app, &sumdb.vkey).await;
    let err = out.expect_err("a zip the checksum database disagrees with was accepted");
    assert!(err.contains("SECURITY ERROR"), "{err}");
    // A signature from another key is refused too.
    let other = tempfile::tempdir().expect("tmp");
    let wrong = TestSumdb::write(NAME, 6, records_from_go_sum(&go_sum), other.path());
    let (out, _w) = download(&app, &wrong.vkey).await;
    assert!(out.is_err(), "a note signed by another key was accepted");
}
