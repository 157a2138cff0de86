//! The download protocol as the go command sees it: statuses, headers, bodies, bad input.

use crate::fixture::go_fixture;
use crate::helpers::{esc, pg_store, spawn_app, spawn_app_with};
use crate::upstream::TestUpstream;

const CAPS: &str = "github.com/Agora-Test/Caps";

fn tree_file(module: &str, file: &str) -> Vec<u8> {
    std::fs::read(go_fixture().tree.join(esc(module)).join("@v").join(file)).expect("tree file")
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn serves_every_endpoint_with_the_right_headers(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    let base = format!("/{}/@v", esc(CAPS));

    struct Case {
        path: String,
        content_type: &'static str,
        cache: &'static str,
        body: Vec<u8>,
    }
    let cases = [
        Case {
            path: format!("{base}/list"),
            content_type: "text/plain; charset=utf-8",
            cache: "public, max-age=60",
            body: b"v1.0.0\n".to_vec(),
        },
        Case {
            path: format!("{base}/v1.0.0.info"),
            content_type: "application/json",
            cache: "immutable",
            body: tree_file(CAPS, "v1.0.0.info"),
        },
        Case {
            path: format!("{base}/v1.0.0.mod"),
            content_type: "text/plain; charset=utf-8",
            cache: "immutable",
            body: tree_file(CAPS, "v1.0.0.mod"),
        },
        Case {
            path: format!("{base}/v1.0.0.zip"),
            content_type: "application/zip",
            cache: "immutable",
            body: tree_file(CAPS, "v1.0.0.zip"),
        },
    ];
    for c in cases {
        let resp = app.get(&c.path).await;
        assert_eq!(resp.status().as_u16(), 200, "{}", c.path);
        let h = resp.headers().clone();
        assert_eq!(
            h.get("content-type").and_then(|v| v.to_str().ok()),
            Some(c.content_type),
            "{}",
            c.path
        );
        let cache = h
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            cache.contains(c.cache),
            "{}: cache-control {cache:?}",
            c.path
        );
        assert_eq!(
            h.get("content-length").and_then(|v| v.to_str().ok()),
            Some(c.body.len().to_string().as_str()),
            "{}",
            c.path
        );
        assert_eq!(
            resp.bytes().await.expect("body").as_ref(),
            c.body.as_slice(),
            "{}",
            c.path
        );
    }

    // Zips carry an ETag, honour If-None-Match, and answer HEAD with the length and no body.
    let zip = format!("{base}/v1.0.0.zip");
    let resp = app.get(&zip).await;
    let etag = resp
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_string();
    let resp = app
        .client
        .get(format!("{}{zip}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 304);
    let resp = app
        .client
        .head(format!("{}{zip}", app.address))
        .send()
        .await
        .expect("head");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some(tree_file(CAPS, "v1.0.0.zip").len().to_string().as_str())
    );
    assert!(resp.bytes().await.expect("body").is_empty());
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn queries_are_answered_with_the_canonical_version(pool: sqlx::PgPool) {
    // A tree where the branch `main` and the short form `v1` resolve to v1.0.0.
    let dir = tempfile::tempdir().expect("tmp");
    let tree = dir.path().join("tree");
    std::process::Command::new("cp")
        .arg("-r")
        .arg(&go_fixture().tree)
        .arg(&tree)
        .status()
        .expect("cp");
    let info = tree_file(CAPS, "v1.0.0.info");
    for q in ["main", "v1"] {
        std::fs::write(
            tree.join(esc(CAPS)).join("@v").join(format!("{q}.info")),
            &info,
        )
        .expect("write");
    }
    // v2.0.0 of an unsuffixed path is a query too: the upstream knows it as +incompatible.
    let legacy = "github.com/agoratest/legacy";
    std::fs::write(
        tree.join(legacy).join("@v/v2.0.0.info"),
        tree_file(legacy, "v2.0.0+incompatible.info"),
    )
    .expect("write");
    let upstream = TestUpstream::start(tree);
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    for q in ["main", "v1"] {
        let resp = app.get(&format!("/{}/@v/{q}.info", esc(CAPS))).await;
        assert_eq!(resp.status().as_u16(), 200, "{q}");
        let cache = resp
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            !cache.contains("immutable"),
            "{q}: a query answer may change: {cache}"
        );
        let body: serde_json::Value =
            serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
        assert_eq!(body["Version"], "v1.0.0", "{q}");
    }
    let resp = app.get(&format!("/{legacy}/@v/v2.0.0.info")).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
    assert_eq!(body["Version"], "v2.0.0+incompatible");
    drop(dir);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn bad_input_gets_a_clear_4xx_and_the_server_keeps_serving(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    let long = format!("/example.com/{}/@v/list", "a".repeat(5000));
    let cases: Vec<(String, u16)> = vec![
        ("/github.com/Agora-Test/Caps/@v/list".into(), 400),
        ("/example.com/../etc/@v/list".into(), 400),
        ("/example.com/m/@v/v1.0.0%00.info".into(), 400),
        ("/example.com/%ff/@v/list".into(), 400),
        ("/example.com/m/@v/v1.0.0.exe".into(), 404),
        ("/example.com/m/@v/V1.0.0.info".into(), 400),
        ("/nodot/m/@v/list".into(), 400),
        ("/favicon.ico".into(), 404),
        // `/` is the front page (ui.rs); with the pages off it is 404 (ui.rs too).
        ("/ui/nothing".into(), 404),
        (long, 400),
        // Well-formed but not a version this module can have.
        ("/example.com/m/@v/v2.0.0.mod".into(), 404),
        ("/example.com/m/@v/v1.2.mod".into(), 404),
        ("/example.com/m/@v/master.zip".into(), 404),
        // Unknown to the upstream.
        ("/example.com/nothing/@v/list".into(), 404),
        ("/example.com/nothing/@v/v1.0.0.info".into(), 404),
        ("/example.com/nothing/@latest".into(), 404),
    ];
    for (path, want) in cases {
        let resp = app.get(&path).await;
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = resp.text().await.unwrap_or_default();
        assert_eq!(status, want, "{path}: {body}");
        if path.starts_with("/ui/") {
            // The pages answer people: an escaped HTML page with the one-line reason.
            assert!(ct.starts_with("text/html"), "{path}: content-type {ct}");
            assert!(body.contains("<h1>404 Not Found</h1>"), "{path}: {body}");
            continue;
        }
        assert!(ct.starts_with("text/plain"), "{path}: content-type {ct}");
        assert!(
            !body.trim().is_empty() && body.lines().count() == 1,
            "{path}: reason {body:?}"
        );
    }
    let resp = app
        .client
        .post(format!("{}/{}/@v/list", app.address, esc(CAPS)))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(app.fetch("/healthz").await.0, 200);
    assert_eq!(app.fetch(&format!("/{}/@v/list", esc(CAPS))).await.0, 200);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn stored_versions_are_served_when_the_upstream_is_down(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool.clone()), &upstream.url()).await;
    let base = format!("/{}/@v", esc(CAPS));
    // The static tree has no @latest: with nothing stored that is "not found".
    assert_eq!(app.fetch(&format!("/{}/@latest", esc(CAPS))).await.0, 404);
    assert_eq!(app.fetch(&format!("{base}/v1.0.0.zip")).await.0, 200);
    upstream.stop().await;

    // A fresh replica (no in-memory caches) on the same database, its upstream dead.
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    let (status, body) = app.fetch(&format!("{base}/list")).await;
    assert_eq!((status, body.as_ref()), (200, b"v1.0.0\n".as_ref()));
    let (status, body) = app.fetch(&format!("/{}/@latest", esc(CAPS))).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_ref(), tree_file(CAPS, "v1.0.0.info").as_slice());
    for file in ["v1.0.0.info", "v1.0.0.mod", "v1.0.0.zip"] {
        let (status, body) = app.fetch(&format!("{base}/{file}")).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(body.as_ref(), tree_file(CAPS, file).as_slice(), "{file}");
    }
    // Not stored, upstream down: a gateway error, not "not found".
    let (status, _) = app.fetch("/github.com/agoratest/big/@v/v1.0.0.info").await;
    assert_eq!(status, 502);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn health_and_readiness(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool.clone()), &upstream.url()).await;
    assert_eq!(app.fetch("/healthz").await.0, 200);
    assert_eq!(app.fetch("/readyz").await.0, 200);
    // Closing the pools is what a dead database looks like to the replica.
    pool.close().await;
    let (status, body) = app.fetch("/readyz").await;
    assert_eq!(status, 503, "{body:?}");
    assert_eq!(app.fetch("/healthz").await.0, 200);
}

/// `/readyz` asks the database through a pool of its own: a serving pool that is all busy (here:
/// its one connection waits on a table lock) does not make the replica look dead.
#[sqlx::test(migrations = "migrations/postgres")]
async fn readiness_does_not_queue_behind_busy_requests(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let replica = crate::helpers::start_replica_with(
        &crate::helpers::database_url(&pool),
        &upstream.url(),
        data.path(),
        &[
            ("AGORA_DATABASE__MAX_CONNECTIONS", "1"),
            ("AGORA_DATABASE__READINESS_TIMEOUT_MS", "1000"),
        ],
    );
    let client = crate::helpers::client();
    let ready = |client: reqwest::Client| {
        let url = format!("{}/readyz", replica.address);
        async move {
            client
                .get(url)
                .timeout(std::time::Duration::from_secs(3))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    assert_eq!(ready(client.clone()).await.ok(), Some(200));

    let mut locker = pool.acquire().await.expect("connection");
    sqlx::query("BEGIN")
        .execute(&mut *locker)
        .await
        .expect("begin");
    sqlx::query("LOCK TABLE versions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *locker)
        .await
        .expect("lock");
    let stuck = tokio::spawn({
        let (client, url) = (
            client.clone(),
            format!(
                "{}/{}/@v/v1.0.0.info",
                replica.address,
                esc("github.com/Agora-Test/Caps")
            ),
        );
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // Within the probe's 3 s: a readiness that queued behind the serving pool would still wait.
    assert_eq!(
        ready(client.clone()).await.ok(),
        Some(200),
        "readiness waited on the serving pool"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut *locker)
        .await
        .expect("rollback");
    assert_eq!(stuck.await.expect("join").ok(), Some(200));
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn an_https_upstream_signed_by_a_private_ca_is_trusted_through_tls_ca_file(
    pool: sqlx::PgPool,
) {
    // The upstream proxy behind TLS whose certificate only a private CA vouches for.
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let ca = crate::tls_relay::TestCa::new();
    let to = std::net::SocketAddr::from(([127, 0, 0, 1], upstream.port));
    let port = crate::tls_relay::tls_front("127.0.0.1", to, &ca, &["127.0.0.1"]).await;
    let url = format!("https://127.0.0.1:{port}");
    let list = format!("/{}/@v/list", esc(CAPS));
    let zip = format!("/{}/@v/v1.0.0.zip", esc(CAPS));

    // Not trusted by default: the proxy cannot be reached (and nothing is stored).
    let untrusting = spawn_app(pg_store(pool.clone()), &url).await;
    let (status, _) = untrusting.fetch(&zip).await;
    assert!(status >= 400, "an untrusted certificate was accepted: {status}");

    let ca_file = ca.pem_file.display().to_string();
    let app = spawn_app_with(
        pg_store(pool),
        &url,
        &[("AGORA_TLS__CA_FILE", ca_file.as_str())],
    )
    .await;
    let (status, body) = app.fetch(&list).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, tree_file(CAPS, "list"));
    let (status, body) = app.fetch(&zip).await;
    assert_eq!(status, 200);
    assert_eq!(body, tree_file(CAPS, "v1.0.0.zip"));
}
