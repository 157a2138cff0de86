//! A version is answered while it is being fetched: `.info` and `.mod` once they passed their
//! checks, the zip once every check passed. A zip response ends only once its version is stored;
//! one whose version cannot be stored breaks off, stores nothing, and the next request fetches
//! again.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;

use crate::fixture::go_fixture;
use crate::helpers::{TestApp, esc, pg_store, spawn_app};
use crate::upstream::{Fault, TestUpstream};
use agora::store::{Blob, BlobList, BlobRef, BlobStore, Put, StoreError, Stores};

const CAPS: &str = "github.com/Agora-Test/Caps";

fn tree_file(file: &str) -> Vec<u8> {
    std::fs::read(go_fixture().tree.join(esc(CAPS)).join("@v").join(file)).expect("tree file")
}

async fn stored(app: &TestApp) -> bool {
    app.is_stored(CAPS, "v1.0.0").await
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn info_and_mod_are_answered_while_the_zip_downloads(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    let base = format!("/{}/@v/v1.0.0", esc(CAPS));
    // The zip's download stalls halfway until the fault is cleared.
    upstream.fault(&format!("{}/@v/v1.0.0.zip", esc(CAPS)), Fault::Stall, None);
    for file in ["info", "mod"] {
        let (status, body) = app.fetch(&format!("{base}.{file}")).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(
            body.as_ref(),
            tree_file(&format!("v1.0.0.{file}")),
            "{file}"
        );
    }
    assert!(!stored(&app).await, "stored before its zip arrived");
    // Cleared, the stalled download breaks off: that fetch fails (a request that joined it gets
    // its 502) and the next one stores the version.
    upstream.clear_faults();
    let (mut status, mut body) = app.fetch(&format!("{base}.zip")).await;
    if status == 502 {
        (status, body) = app.fetch(&format!("{base}.zip")).await;
    }
    assert_eq!(status, 200);
    assert_eq!(body.as_ref(), tree_file("v1.0.0.zip"));
    assert!(stored(&app).await, "a complete zip response, not stored");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_zip_failing_its_checks_is_never_sent(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    let base = format!("/{}/@v/v1.0.0", esc(CAPS));
    let zip = format!("{}/@v/v1.0.0.zip", esc(CAPS));
    upstream.fault(
        &zip,
        Fault::Body(Bytes::from_static(b"<html>login</html>")),
        None,
    );
    // The .info passed its checks: answered. The zip did not: a gateway error, nothing stored.
    assert_eq!(app.fetch(&format!("{base}.info")).await.0, 200);
    let (status, body) = app.fetch(&format!("{base}.zip")).await;
    assert_eq!(status, 502, "{}", String::from_utf8_lossy(&body));
    assert!(!stored(&app).await);
    upstream.clear_faults();
    let (status, body) = app.fetch(&format!("{base}.zip")).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_ref(), tree_file("v1.0.0.zip"));
    assert!(upstream.hits_ending(&zip) >= 2, "{:?}", upstream.hits());
    assert!(stored(&app).await);
}

/// Blobs that refuse to be stored the first `failures` times.
struct FailingBlobs {
    inner: Arc<dyn BlobStore>,
    failures: AtomicUsize,
}

#[async_trait]
impl BlobStore for FailingBlobs {
    async fn put(&self, blob: &BlobRef, file: &Path) -> Result<Put, StoreError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            // Failing a while after the zip was checked: its response has begun by then.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            return Err(StoreError::Io("disk full (test)".into()));
        }
        self.inner.put(blob, file).await
    }

    async fn open(&self, blob: &BlobRef) -> Result<Blob, StoreError> {
        self.inner.open(blob).await
    }

    async fn delete(&self, blob: &BlobRef) -> Result<(), StoreError> {
        self.inner.delete(blob).await
    }

    async fn contains(&self, blob: &BlobRef) -> Result<bool, StoreError> {
        self.inner.contains(blob).await
    }

    fn list(&self) -> BlobList {
        self.inner.list()
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn a_zip_that_cannot_be_stored_breaks_off_and_is_fetched_again(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let store = pg_store(pool);
    let store = Stores {
        blobs: Arc::new(FailingBlobs {
            inner: store.blobs.clone(),
            failures: AtomicUsize::new(1),
        }),
        ..store
    };
    let app = spawn_app(store, &upstream.url()).await;
    let path = format!("/{}/@v/v1.0.0.zip", esc(CAPS));

    // Checked, so sent; not stored, so the response breaks off before its last piece.
    let resp = app.get(&path).await;
    assert_eq!(resp.status().as_u16(), 200);
    let want = tree_file("v1.0.0.zip");
    assert_eq!(
        resp.content_length(),
        Some(want.len() as u64),
        "the length promised is the zip's"
    );
    assert!(
        resp.bytes().await.is_err(),
        "a zip that was not stored ended as a whole response"
    );
    assert!(!stored(&app).await);

    // The next request fetches again, and this time it is stored.
    let (status, body) = app.fetch(&path).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_ref(), want);
    assert_eq!(
        upstream.hits_ending(&format!("{}/@v/v1.0.0.zip", esc(CAPS))),
        2
    );
    assert!(stored(&app).await);
}
