//! Client tokens: missing, wrong, revoked and under-scoped tokens are refused; bearer and basic
//! both work; the open paths stay open.

use std::process::Command;

use base64::Engine;

use crate::fixture::{go_env, go_fixture, run};
use crate::helpers::{TestApp, pg_store, spawn_app_with, sqlite_store};
use crate::upstream::TestUpstream;
use agora::auth::{generate_secret, hash_secret};
use agora::store::{NewToken, Stores};

async fn token(store: &Stores, name: &str, scopes: &str) -> String {
    let secret = generate_secret().expect("secret");
    let new = NewToken {
        name,
        secret_sha256: &hash_secret(&secret),
        scopes,
        patterns: "",
        created_by: "test",
    };
    assert!(store.tokens.token_create(&new).await.expect("create"));
    secret
}

async fn status(app: &TestApp, path: &str, auth: Option<String>) -> u16 {
    let mut req = app.client.get(format!("{}{path}", app.address));
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    req.send().await.expect("request").status().as_u16()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn tokens(store: Stores) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app_with(
        store.clone(),
        &upstream.url(),
        &[("AGORA_AUTH__ENABLED", "true")],
    )
    .await;
    let read = token(&store, "reader", "read").await;
    let publish = token(&store, "publisher", "publish").await;
    let admin = token(&store, "admin", "admin").await;
    let revoked = token(&store, "gone", "read,publish").await;
    assert!(store.tokens.token_revoke("gone").await.expect("revoke"));
    assert!(
        !store
            .tokens
            .token_revoke("gone")
            .await
            .expect("revoke twice")
    );
    // A revoked name can be used again.
    let _again = token(&store, "gone", "read").await;
    assert!(
        !store
            .tokens
            .token_create(&NewToken {
                name: "reader",
                secret_sha256: &hash_secret("x"),
                scopes: "read",
                patterns: "",
                created_by: "t",
            })
            .await
            .expect("dup")
    );

    let path = "/github.com/agoratest/big/@v/list";
    for open in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(status(&app, open, None).await, 200, "{open}");
    }

    let resp = app.get(path).await;
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Basic realm=\"agora\"");
    let bad = format!("Bearer {}", generate_secret().expect("secret"));
    assert_eq!(status(&app, path, Some(bad)).await, 401);
    assert_eq!(status(&app, path, Some("Bearer".into())).await, 401);
    assert_eq!(
        status(&app, path, Some(format!("Bearer {revoked}"))).await,
        401
    );
    assert_eq!(
        status(&app, path, Some(format!("Bearer {publish}"))).await,
        403
    );
    assert_eq!(
        status(&app, path, Some(format!("Bearer {read}"))).await,
        200
    );
    assert_eq!(status(&app, path, Some(basic("me", &read))).await, 200);
    assert_eq!(status(&app, path, Some(basic(&read, ""))).await, 200);
    assert_eq!(status(&app, path, Some(basic("me", "nope"))).await, 401);
    assert_eq!(
        status(&app, path, Some(format!("Bearer {admin}"))).await,
        200
    );
    // The checksum database paths are guarded the same way.
    assert_eq!(
        status(&app, "/sumdb/sum.golang.org/supported", None).await,
        401
    );
    assert_eq!(
        status(
            &app,
            "/sumdb/sum.golang.org/supported",
            Some(format!("Bearer {read}"))
        )
        .await,
        200
    );

    let listed = store.tokens.tokens().await.expect("list");
    assert_eq!(listed.len(), 5);
    assert!(listed.iter().all(|t| t.secret_sha256.len() == 64));
    assert!(
        listed
            .iter()
            .any(|t| t.name == "gone" && t.revoked_at.is_some())
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn tokens_on_postgres(pool: sqlx::PgPool) {
    tokens(pg_store(pool)).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn tokens_on_sqlite(pool: sqlx::SqlitePool) {
    tokens(sqlite_store(pool).await).await;
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn auth_off_by_default(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app_with(pg_store(pool), &upstream.url(), &[]).await;
    assert_eq!(
        status(&app, "/github.com/agoratest/big/@v/list", None).await,
        200
    );
}

/// The go command over https: refused without credentials, then authenticated through `.netrc`
/// (its default `GOAUTH=netrc`) after the 401.
#[sqlx::test(migrations = "migrations/postgres")]
async fn go_authenticates_through_netrc(pool: sqlx::PgPool) {
    let store = pg_store(pool);
    let tls = tempfile::tempdir().expect("tmp");
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("certificate");
    let cert = tls.path().join("cert.pem");
    let key = tls.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = spawn_app_with(
        store.clone(),
        &upstream.url(),
        &[
            ("AGORA_AUTH__ENABLED", "true"),
            ("AGORA_TLS__CERT_FILE", cert.to_str().expect("utf-8")),
            ("AGORA_TLS__KEY_FILE", key.to_str().expect("utf-8")),
        ],
    )
    .await;
    let secret = token(&store, "ci", "read").await;
    let goproxy = app.address.replace("http://", "https://");
    // The go command matches .netrc machines against host[:port] of the URL.
    let machine = goproxy.trim_start_matches("https://").to_string();
    let out = tokio::task::spawn_blocking(move || {
        let f = go_fixture();
        let work = tempfile::tempdir().expect("tmp");
        let download = |home: &std::path::Path| {
            let mut cmd = Command::new(&f.go);
            go_env(&mut cmd, &f.root, &work.path().join("modcache"), &goproxy);
            run(cmd
                .env("HOME", home)
                .env("SSL_CERT_FILE", &cert)
                .current_dir(work.path())
                .args([
                    "mod",
                    "download",
                    "-json",
                    "github.com/agoratest/big@v1.0.0",
                ]))
        };
        let bare = work.path().join("bare");
        std::fs::create_dir_all(&bare).expect("home");
        let refused = download(&bare);
        let home = work.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join(".netrc"),
            format!("machine {machine} login ci password {secret}\n"),
        )
        .expect("netrc");
        (refused, download(&home))
    })
    .await
    .expect("join");
    let err = out.0.expect_err("downloaded without a token");
    assert!(err.contains("401"), "{err}");
    out.1
        .unwrap_or_else(|e| panic!("go mod download with .netrc: {e}"));
}
