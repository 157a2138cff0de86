//! Three `agora` processes on one PostgreSQL database, behind nothing but their ports.

use std::sync::Arc;
use std::time::Duration;

use crate::fixture::go_fixture;
use crate::helpers::{Replica, database_url, esc, start_replica};
use crate::upstream::{Fault, TestUpstream};

#[sqlx::test(migrations = "migrations/postgres")]
async fn one_fetch_per_version_across_three_replicas(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let replicas: Vec<Replica> = (0..3)
        .map(|i| start_replica(&url, &format!("{}/r{i}", upstream.url()), data.path()))
        .collect();

    // Slow every zip a little so the cold requests really overlap.
    upstream.fault(".zip", Fault::Delay(Duration::from_millis(300)), None);
    let f = go_fixture();
    let client = crate::helpers::client();
    let mut requests = Vec::new();
    for round in 0..6 {
        for (module, version) in &f.modules {
            for file in ["info", "mod", "zip"] {
                let replica = &replicas[(requests.len() + round) % replicas.len()];
                let path = format!("/{}/@v/{}.{file}", esc(module), esc(version));
                requests.push((format!("{}{path}", replica.address), path));
            }
        }
    }
    assert!(requests.len() >= 100, "{} requests", requests.len());
    let client = Arc::new(client);
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(url, path)| {
            let client = client.clone();
            tokio::spawn(async move {
                let resp = client.get(&url).send().await.expect("request");
                (
                    path,
                    resp.status().as_u16(),
                    resp.bytes().await.expect("body"),
                )
            })
        })
        .collect();
    for task in tasks {
        let (path, status, body) = task.await.expect("join");
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        let (module_esc, file) = path
            .trim_start_matches('/')
            .split_once("/@v/")
            .expect("path");
        let want = std::fs::read(f.tree.join(module_esc).join("@v").join(file)).expect("tree file");
        assert!(body.as_ref() == want.as_slice(), "{path}: wrong bytes");
    }
    for (module, version) in &f.modules {
        let suffix = format!("{}/@v/{}.zip", esc(module), esc(version));
        assert_eq!(
            upstream.hits_ending(&suffix),
            1,
            "{suffix} fetched more than once: {:?}",
            upstream.hits()
        );
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_replica_killed_mid_fetch_is_taken_over(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let mut a = start_replica(&url, &format!("{}/r0", upstream.url()), data.path());
    let b = start_replica(&url, &format!("{}/r1", upstream.url()), data.path());
    let big = format!("/{}/@v/v1.0.0.zip", esc("github.com/agoratest/big"));
    upstream.fault("big/@v/v1.0.0.zip", Fault::Stall, None);

    let client = crate::helpers::client();
    let from_a = tokio::spawn({
        let (client, url) = (client.clone(), format!("{}{big}", a.address));
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    // A is mid-download when its zip request reaches the upstream.
    wait_for(|| {
        upstream
            .hits()
            .iter()
            .any(|h| h.starts_with("/r0/") && h.ends_with(".zip"))
    })
    .await;
    let from_b = tokio::spawn({
        let (client, url) = (client.clone(), format!("{}{big}", b.address));
        async move {
            let resp = client.get(url).send().await.expect("request to b");
            (resp.status().as_u16(), resp.bytes().await.expect("body"))
        }
    });
    // B waits on A's lock: it must not fetch while A lives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !upstream
            .hits()
            .iter()
            .any(|h| h.starts_with("/r1/") && h.ends_with(".zip")),
        "B fetched while A held the lock"
    );

    a.child.kill().expect("kill a");
    a.child.wait().expect("reap a");
    upstream.clear_faults();
    let _ = from_a.await;

    let (status, body) = tokio::time::timeout(Duration::from_secs(60), from_b)
        .await
        .expect("b answered")
        .expect("join");
    assert_eq!(status, 200);
    let want = std::fs::read(
        go_fixture()
            .tree
            .join("github.com/agoratest/big/@v/v1.0.0.zip"),
    )
    .expect("tree zip");
    assert!(body.as_ref() == want.as_slice(), "B served wrong bytes");

    // Exactly one complete version stored; no stray chunks from A's attempt.
    let rows: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM versions), (SELECT count(*) FROM blob_chunks), (SELECT coalesce(sum(length(data)), 0) FROM blob_chunks)::bigint",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(rows.0, 1);
    assert_eq!(rows.2 as usize, want.len());
    drop(b);
}

pub async fn wait_for(cond: impl Fn() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met in 20 s");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn sigterm_lets_an_in_flight_fetch_finish(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    upstream.fault(
        "big/@v/v1.0.0.zip",
        Fault::Delay(Duration::from_secs(2)),
        None,
    );
    let data = tempfile::tempdir().expect("tmp");
    let mut a = start_replica(&url, &upstream.url(), data.path());
    let big = format!(
        "{}/{}/@v/v1.0.0.zip",
        a.address,
        esc("github.com/agoratest/big")
    );
    let request = tokio::spawn(async move {
        let resp = crate::helpers::client()
            .get(big)
            .send()
            .await
            .expect("request");
        (resp.status().as_u16(), resp.bytes().await.expect("body"))
    });
    wait_for(|| upstream.hits_ending("big/@v/v1.0.0.zip") > 0).await;
    let pid = a.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");

    let (status, body) = request.await.expect("join");
    assert_eq!(status, 200, "the in-flight download was cut off");
    let want = std::fs::read(
        go_fixture()
            .tree
            .join("github.com/agoratest/big/@v/v1.0.0.zip"),
    )
    .expect("tree zip");
    assert!(body.as_ref() == want.as_slice());
    for _ in 0..100 {
        if a.child.try_wait().expect("wait").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        a.child.try_wait().expect("wait").is_some(),
        "agora did not exit after SIGTERM"
    );
    let stored: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM versions), (SELECT coalesce(sum(length(data)), 0) FROM blob_chunks)::bigint")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!((stored.0, stored.1 as usize), (1, want.len()));
}
