//! A broken upstream leaves nothing stored and gives a clear gateway error; once it is healthy
//! the same version is served.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;

use crate::fixture::go_fixture;
use crate::helpers::{esc, pg_store, spawn_app_with};
use crate::upstream::{Fault, TestUpstream};
use gomod::module::ModulePath;
use gomod::version::Version;

const CAPS: &str = "github.com/Agora-Test/Caps";

fn zip_with(names: &[&str]) -> Bytes {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in names {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        w.write_all(b"package caps\n").expect("write");
    }
    Bytes::from(w.finish().expect("finish").into_inner())
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn upstream_faults_store_nothing(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app_with(
        pg_store(pool),
        &upstream.url(),
        &[("AGORA_FETCH__UPSTREAM_TIMEOUT_SECS", "1")],
    )
    .await;
    let zip_path = format!("/{}/@v/v1.0.0.zip", esc(CAPS));
    let module = ModulePath::parse(CAPS).expect("path");
    let version = Version::parse("v1.0.0").expect("version");

    let other_info = Bytes::from_static(br#"{"Version":"v1.0.1","Time":"2024-03-04T05:06:07Z"}"#);
    let cases: Vec<(&str, &str, Fault, u16, &str)> = vec![
        ("500 on zip", "v1.0.0.zip", Fault::Status(500), 502, "500"),
        ("500 on info", "v1.0.0.info", Fault::Status(500), 502, "500"),
        (
            "slow zip",
            "v1.0.0.zip",
            Fault::Delay(Duration::from_secs(3)),
            504,
            "timed out",
        ),
        // The upstream broke off mid-body: a transport error naming the zip.
        (
            "truncated zip",
            "v1.0.0.zip",
            Fault::Truncate,
            502,
            "v1.0.0.zip",
        ),
        (
            "zip with a bad prefix",
            "v1.0.0.zip",
            Fault::Body(zip_with(&["example.com/other@v1.0.0/caps.go"])),
            502,
            "zip",
        ),
        (
            "not a zip",
            "v1.0.0.zip",
            Fault::Body(Bytes::from_static(b"<html>login</html>")),
            502,
            "zip",
        ),
        (
            ".info for another version",
            "v1.0.0.info",
            Fault::Body(other_info),
            502,
            "v1.0.1",
        ),
        (
            ".info that is not JSON",
            "v1.0.0.info",
            Fault::Body(Bytes::from_static(b"nope")),
            502,
            "info",
        ),
        (
            ".mod of another major version",
            "v1.0.0.mod",
            Fault::Body(Bytes::from_static(b"module example.com/else/v3\n")),
            502,
            "example.com/else/v3",
        ),
        (
            ".mod with no module line",
            "v1.0.0.mod",
            Fault::Body(Bytes::from_static(b"go 1.21\n")),
            502,
            "no module directive",
        ),
    ];
    for (name, file, fault, want, reason) in cases {
        assert!(
            !reason.is_empty(),
            "{name}: a case must name what the body says"
        );
        upstream.fault(&format!("{}/@v/{file}", esc(CAPS)), fault, Some(1));
        let (status, body) = app.fetch(&zip_path).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, want, "{name}: {body}");
        assert!(
            body.contains(reason),
            "{name}: reason {body:?} should mention {reason:?}"
        );
        assert!(
            app.store
                .versions
                .version(&module, &version)
                .await
                .expect("store")
                .is_none(),
            "{name}: something was stored"
        );
        upstream.clear_faults();
    }

    // Healthy again: served and stored, byte for byte.
    let (status, body) = app.fetch(&zip_path).await;
    assert_eq!(status, 200);
    let want =
        std::fs::read(go_fixture().tree.join(esc(CAPS)).join("@v/v1.0.0.zip")).expect("tree zip");
    assert_eq!(body.as_ref(), want.as_slice());
    assert!(app.is_stored(CAPS, "v1.0.0").await);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn fallback_follows_goproxy_rules(pool: sqlx::PgPool) {
    let broken = TestUpstream::start(go_fixture().tree.clone());
    broken.fault(".zip", Fault::Status(500), None);
    broken.fault(".info", Fault::Status(500), None);
    let empty = TestUpstream::start(tempfile::tempdir().expect("tmp").keep());
    let good = TestUpstream::start(go_fixture().tree.clone());
    let path = format!("/{}/@v/v1.0.0.info", esc(CAPS));

    // `,` moves on after 404 only; `|` after any error.
    let comma = spawn_app_with(
        pg_store(pool.clone()),
        &format!("{},{}", empty.url(), good.url()),
        &[],
    )
    .await;
    assert_eq!(comma.fetch(&path).await.0, 200);
    let stop = spawn_app_with(
        pg_store(pool.clone()),
        &format!("{},{}", broken.url(), good.url()),
        &[],
    )
    .await;
    assert_eq!(
        stop.fetch(&format!("/{}/@v/list", esc("github.com/agoratest/big")))
            .await
            .0,
        200
    );
    assert_eq!(
        stop.fetch(&format!(
            "/{}/@v/v1.0.0.info",
            esc("github.com/agoratest/big")
        ))
        .await
        .0,
        502
    );
    let pipe = spawn_app_with(
        pg_store(pool),
        &format!("{}|{}", broken.url(), good.url()),
        &[],
    )
    .await;
    assert_eq!(
        pipe.fetch(&format!(
            "/{}/@v/v1.0.0.info",
            esc("github.com/agoratest/big")
        ))
        .await
        .0,
        200
    );
}
