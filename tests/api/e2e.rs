//! The go command downloads and builds a program through agora, checked against the go.sum that
//! `GOPROXY=direct` produced.

use crate::fixture::{build_app_through, go_fixture};
use crate::helpers::{TestApp, esc, pg_store, spawn_app, sqlite_store};
use crate::upstream::TestUpstream;

pub async fn build_through(app: &TestApp, upstream: &TestUpstream) {
    let goproxy = app.address.clone();
    let out = tokio::task::spawn_blocking(move || build_app_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| {
            panic!(
                "go build through agora: {e}\nserver warnings and errors:\n{}",
                crate::helpers::kept_errors()
            )
        });
    assert_eq!(out.trim(), "caps 2 two 22020096");

    // Every zip came from the upstream exactly once; a second build is served from the store.
    let f = go_fixture();
    for (module, version) in [
        ("github.com/Agora-Test/Caps", "v1.0.0"),
        ("github.com/agoratest/multi/v2", "v2.1.0"),
        ("github.com/agoratest/legacy", "v2.0.0+incompatible"),
        ("github.com/agoratest/big", "v1.0.0"),
    ] {
        let suffix = format!("{}/@v/{}.zip", esc(module), esc(version));
        assert_eq!(
            upstream.hits_ending(&suffix),
            1,
            "{suffix}: {:?}",
            upstream.hits()
        );
    }
    let goproxy = app.address.clone();
    tokio::task::spawn_blocking(move || build_app_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("second go build through agora: {e}"));
    let zips = upstream
        .hits()
        .iter()
        .filter(|h| h.ends_with(".zip"))
        .count();
    assert_eq!(
        zips,
        4,
        "the second build fetched again: {:?}",
        upstream.hits()
    );
    let _ = f;
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn go_builds_through_agora_on_postgres(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    build_through(&app, &upstream).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn go_builds_through_agora_on_sqlite(pool: sqlx::SqlitePool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(sqlite_store(pool).await, &upstream.url()).await;
    build_through(&app, &upstream).await;
}
