//! Writes are closed by default: publishing and administration need a token with the scope,
//! publishing is limited to the configured patterns (and the token's own), never takes a version
//! the checksum database knows, and asks the validation hook; a stalled upload is cut off.

use std::io::{Read, Write};
use std::time::Duration;

use crate::helpers::{TestApp, esc, pg_store, spawn_app, spawn_app_with, sqlite_store};
use crate::publish::{publishing_app, put_as};
use crate::scripted::{Act, Scripted};

fn small_zip(module: &str, version: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("go.mod"),
        format!("module {module}\n\ngo 1.21\n"),
    )
    .expect("go.mod");
    std::fs::write(dir.path().join("a.go"), "package a\n").expect("a.go");
    let mut out = Vec::new();
    gomod::zip::create_from_dir(std::io::Cursor::new(&mut out), module, version, dir.path())
        .expect("zip");
    out
}

async fn hide(app: &TestApp, token: Option<&str>, actor: &str) -> u16 {
    let mut req = app
        .client
        .post(format!("{}/admin/hide", app.address))
        .header("x-agora-actor", actor)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"module": "corp.example/m", "version": "v1.0.0", "reason": "r"})
                .to_string(),
        );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("hide").status().as_u16()
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn writes_need_a_token_whatever_auth_enabled_says(pool: sqlx::PgPool) {
    // Default settings (client auth off), publishing allowed for corp.example.
    let app = publishing_app(pg_store(pool), "off", &[]).await;
    let (m, v) = ("corp.example/m", "v1.0.0");

    // A stranger: no token, whatever it claims to be.
    let (status, body) = put_as(&app, None, m, v, small_zip(m, v)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(hide(&app, None, "root").await, 401);
    for path in ["/admin/audit", "/admin/versions"] {
        assert_eq!(app.fetch(path).await.0, 401, "{path}");
    }
    // A bogus token, and a token that may only read.
    let (status, _) = put_as(&app, Some("agora_bogus"), m, v, small_zip(m, v)).await;
    assert_eq!(status, 401);
    let reader = app.token("reader", "read").await;
    let (status, _) = put_as(&app, Some(&reader), m, v, small_zip(m, v)).await;
    assert_eq!(status, 403);
    assert_eq!(hide(&app, Some(&reader), "root").await, 403);
    assert_eq!(app.fetch_as("/admin/audit", &reader).await.0, 403);
    // Nothing was stored by any of that.
    let stored = app
        .store
        .versions
        .version(
            &gomod::module::ModulePath::parse(m).expect("path"),
            &gomod::version::Version::parse(v).expect("version"),
        )
        .await
        .expect("store");
    assert!(stored.is_none());

    // Reading stays open.
    assert_eq!(app.fetch("/catalog").await.0, 200);

    // With the right scopes: the audit names the tokens, never the header's claim.
    let publisher = app.token("ci-publisher", "publish").await;
    let (status, body) = put_as(&app, Some(&publisher), m, v, small_zip(m, v)).await;
    assert_eq!(status, 201, "{body}");
    let admin = app.token("ops", "admin").await;
    assert_eq!(hide(&app, Some(&admin), "mallory").await, 200);
    let (status, audit) = app.fetch_as("/admin/audit", &admin).await;
    assert_eq!(status, 200);
    let audit: serde_json::Value = serde_json::from_slice(&audit).expect("json");
    let actors: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["actor"].as_str().expect("actor"),
            )
        })
        .collect();
    assert_eq!(actors, [("publish", "ci-publisher"), ("hide", "ops")]);
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn publishing_is_off_until_patterns_allow_it(pool: sqlx::SqlitePool) {
    // Neither `private` nor `admin.publish_patterns`: nothing may be published.
    let app = spawn_app(sqlite_store(pool).await, "off").await;
    let token = app.token("ci", "publish").await;
    let (m, v) = ("corp.example/m", "v1.0.0");
    let (status, body) = put_as(&app, Some(&token), m, v, small_zip(m, v)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("publishing is off"), "{body}");
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn publishers_cannot_squat_public_modules(pool: sqlx::PgPool) {
    // The publish patterns default to the private ones.
    let app = spawn_app_with(pg_store(pool), "off", &[("AGORA_PRIVATE", "corp.example")]).await;
    let token = app.token("ci", "publish").await;
    let public = "github.com/stretchr/testify";
    let (status, body) = put_as(
        &app,
        Some(&token),
        public,
        "v1.99.0",
        small_zip(public, "v1.99.0"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("outside the modules"), "{body}");
    assert_eq!(
        app.fetch(&format!("/{public}/@v/v1.99.0.info")).await.0,
        404,
        "nothing stored"
    );
    let private = "corp.example/lib";
    let (status, body) = put_as(
        &app,
        Some(&token),
        private,
        "v1.0.0",
        small_zip(private, "v1.0.0"),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // A token limited to its team's modules.
    let team = app.token_with("team-a", "publish", "corp.example/a").await;
    let (status, _) = put_as(
        &app,
        Some(&team),
        "corp.example/a/x",
        "v1.0.0",
        small_zip("corp.example/a/x", "v1.0.0"),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = put_as(
        &app,
        Some(&team),
        "corp.example/b/x",
        "v1.0.0",
        small_zip("corp.example/b/x", "v1.0.0"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("may only publish corp.example/a"), "{body}");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn versions_the_checksum_database_knows_are_never_published(pool: sqlx::SqlitePool) {
    let module = "example.com/pub";
    let record = format!(
        "7\n{module} v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n{module} v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\ngo.sum database tree\n8\nx\n\n— test x\n"
    );
    let sumdb = Scripted::start(
        "127.0.0.1",
        vec![
            (
                "/lookup/example.com/pub@v1.0.0",
                Act::text(200, record.as_str()),
            ),
            ("/lookup/example.com/pub@v1.2.0", Act::text(500, "down")),
            ("/lookup/", Act::text(404, "not found")),
        ],
    );
    let upstream = format!("sum.golang.org={}", sumdb.url());
    let app = spawn_app_with(
        sqlite_store(pool).await,
        "off",
        &[
            ("AGORA_ADMIN__PUBLISH_PATTERNS", "example.com"),
            ("AGORA_SUMDB__UPSTREAM", upstream.as_str()),
        ],
    )
    .await;
    let token = app.token("ci", "publish").await;
    let publish = |v: &'static str| put_as(&app, Some(&token), module, v, small_zip(module, v));
    let (status, body) = publish("v1.0.0").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("checksum database"), "{body}");
    // Unknown to the database: it may be published.
    let (status, body) = publish("v1.1.0").await;
    assert_eq!(status, 201, "{body}");
    // The database cannot say: refused, not guessed.
    let (status, body) = publish("v1.2.0").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        app.fetch(&format!("/{module}/@v/list")).await.1.as_ref(),
        b"v1.1.0\n"
    );
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn the_validation_hook_is_asked_about_published_versions(pool: sqlx::SqlitePool) {
    let hook = Scripted::start(
        "127.0.0.1",
        vec![("/hook", Act::text(403, "no releases on fridays\n"))],
    );
    let url = format!("{}/hook", hook.url());
    let app = publishing_app(
        sqlite_store(pool).await,
        "off",
        &[("AGORA_POLICY__HOOK_URL", url.as_str())],
    )
    .await;
    let token = app.token("ci", "publish").await;
    let m = "corp.example/m";
    let (status, body) = put_as(&app, Some(&token), m, "v1.0.0", small_zip(m, "v1.0.0")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("no releases on fridays"), "{body}");
    assert_eq!(hook.hits().len(), 1);
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn a_stalled_upload_is_cut_off(pool: sqlx::SqlitePool) {
    let app = publishing_app(
        sqlite_store(pool).await,
        "off",
        &[("AGORA_ADMIN__PUBLISH_READ_TIMEOUT_SECS", "1")],
    )
    .await;
    let token = app.token("ci", "publish").await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let path = format!("/{}/@v/v1.0.0.zip", esc("corp.example/slow"));
    let answer = tokio::task::spawn_blocking(move || {
        let mut conn = std::net::TcpStream::connect(addr).expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        write!(
            conn,
            "PUT {path} HTTP/1.1\r\nHost: agora\r\nAuthorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\nPK\x03\x04"
        )
        .expect("send");
        // And then nothing more.
        let mut buf = [0u8; 512];
        let n = conn.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .expect("join");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}
