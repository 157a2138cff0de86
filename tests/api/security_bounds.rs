//! A flood stays a trickle upstream: "not found" is remembered for a while, upstream lookups run
//! a bounded number at a time, and the list cache is bounded in bytes.

use std::time::Duration;

use crate::fixture::go_fixture;
use crate::helpers::{esc, spawn_app_with, sqlite_store};
use crate::scripted::{Act, Scripted};
use crate::upstream::TestUpstream;

#[sqlx::test(migrations = "migrations/sqlite")]
async fn not_found_is_remembered_briefly(pool: sqlx::SqlitePool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let store = sqlite_store(pool).await;
    let app = spawn_app_with(store.clone(), &upstream.url(), &[]).await;
    let unknown = [
        "/example.com/nothing/@v/list",
        "/example.com/nothing/@latest",
        "/example.com/nothing/@v/master.info",
        "/github.com/agoratest/big/@v/v9.9.9.info",
    ];
    for _ in 0..5 {
        for path in unknown {
            assert_eq!(app.fetch(path).await.0, 404, "{path}");
        }
    }
    for path in unknown {
        assert_eq!(
            upstream.hits_ending(path),
            1,
            "{path}: {:?}",
            upstream.hits()
        );
    }
    // Found things are not affected.
    let caps = format!("/{}/@v/v1.0.0.info", esc("github.com/Agora-Test/Caps"));
    assert_eq!(app.fetch(&caps).await.0, 200);

    // Off: every request asks.
    let off = spawn_app_with(
        store,
        &upstream.url(),
        &[("AGORA_CACHE__NEGATIVE_TTL_SECS", "0")],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(off.fetch(unknown[0]).await.0, 404);
    }
    assert_eq!(upstream.hits_ending(unknown[0]), 4);
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn upstream_lookups_run_a_bounded_number_at_a_time(pool: sqlx::SqlitePool) {
    let slow = Scripted::start(
        "127.0.0.1",
        vec![(
            "/",
            Act::Slow(
                Duration::from_millis(300),
                Box::new(Act::text(404, "not found")),
            ),
        )],
    );
    let app = spawn_app_with(
        sqlite_store(pool).await,
        &slow.url(),
        &[("AGORA_FETCH__MAX_CONCURRENT_LOOKUPS", "2")],
    )
    .await;
    let requests = (0..8).map(|i| {
        let app = &app;
        async move { app.fetch(&format!("/example.com/flood{i}/@v/list")).await.0 }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
    assert_eq!(slow.hits().len(), 8);
    assert!(
        slow.max_in_flight() <= 2,
        "{} at once",
        slow.max_in_flight()
    );
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn the_list_cache_is_bounded_in_bytes(pool: sqlx::SqlitePool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let store = sqlite_store(pool).await;
    let list = "/github.com/agoratest/legacy/@v/list";
    // Room for no list at all: each request asks the upstream.
    let tiny = spawn_app_with(
        store.clone(),
        &upstream.url(),
        &[("AGORA_CACHE__LIST_BYTES", "16")],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(tiny.fetch(list).await.0, 200);
    }
    assert_eq!(upstream.hits_ending(list), 3);
    // The default keeps it.
    let app = spawn_app_with(store, &upstream.url(), &[]).await;
    for _ in 0..3 {
        assert_eq!(app.fetch(list).await.0, 200);
    }
    assert_eq!(upstream.hits_ending(list), 4);
}
