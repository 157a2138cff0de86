//! The validation hook: a tiny HTTP service that allows, denies (with a reason) or hangs, and
//! counts what it was asked.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};

use crate::fixture::go_fixture;
use crate::helpers::{TestApp, esc, pg_store, spawn_app_with};
use crate::policy_e2e::go_download;
use crate::upstream::TestUpstream;

#[derive(Default)]
struct Asked(Mutex<Vec<String>>);

struct TestHook {
    url: String,
    asked: Arc<Asked>,
}

impl TestHook {
    /// Denies `agoratest/big`, hangs on `agoratest/multi`, allows the rest.
    fn start() -> Self {
        let asked = Arc::new(Asked::default());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind hook");
        let port = listener.local_addr().expect("addr").port();
        let data = web::Data::from(asked.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(2)
        .listen(listener)
        .expect("listen hook")
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/check"),
            asked,
        }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.0.lock().expect("asked").clone()
    }
}

async fn answer(body: web::Json<serde_json::Value>, asked: web::Data<Asked>) -> HttpResponse {
    let module = body["module"].as_str().unwrap_or_default().to_string();
    let version = body["version"].as_str().unwrap_or_default().to_string();
    asked
        .0
        .lock()
        .expect("asked")
        .push(format!("{module}@{version}"));
    if module.ends_with("agoratest/big") {
        HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("security scan found CVE-2099-0001\nsecond line is not shown\n")
    } else if module.contains("agoratest/multi") {
        tokio::time::sleep(Duration::from_secs(30)).await;
        HttpResponse::Ok().finish()
    } else {
        HttpResponse::Ok().finish()
    }
}

async fn hook_app(pool: sqlx::PgPool, upstream: &str, hook: &TestHook, fail_open: bool) -> TestApp {
    let fail_open = fail_open.to_string();
    spawn_app_with(
        pg_store(pool),
        upstream,
        &[
            ("AGORA_POLICY__HOOK_URL", hook.url.as_str()),
            ("AGORA_POLICY__HOOK_TIMEOUT_SECS", "1"),
            ("AGORA_POLICY__HOOK_FAIL_OPEN", fail_open.as_str()),
        ],
    )
    .await
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_hook_allows_denies_caches_and_fails_closed(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let hook = TestHook::start();
    let app = hook_app(pool, &upstream.url(), &hook, false).await;

    let caps = format!("/{}/@v/v1.0.0", esc("github.com/Agora-Test/Caps"));
    assert_eq!(app.fetch(&format!("{caps}.info")).await.0, 200);
    assert_eq!(app.fetch(&format!("{caps}.zip")).await.0, 200);
    assert_eq!(hook.asked(), ["github.com/Agora-Test/Caps@v1.0.0"]);

    // Denied by the hook: 403 with its first line, through the go command too; asked once.
    let (status, body) = app.fetch("/github.com/agoratest/big/@v/v1.0.0.info").await;
    assert_eq!(status, 403);
    assert_eq!(
        String::from_utf8_lossy(&body),
        "forbidden: github.com/agoratest/big@v1.0.0: security scan found CVE-2099-0001\n"
    );
    let goproxy = app.address.clone();
    let err = tokio::task::spawn_blocking(move || {
        go_download(&goproxy, "github.com/agoratest/big@v1.0.0")
    })
    .await
    .expect("join")
    .expect_err("denied by the hook, downloaded anyway");
    assert!(err.contains("security scan found CVE-2099-0001"), "{err}");
    assert!(!err.contains("second line"), "{err}");
    let big: Vec<_> = hook
        .asked()
        .into_iter()
        .filter(|a| a.contains("big"))
        .collect();
    assert_eq!(big.len(), 1, "the cached answer was asked again: {big:?}");
    assert_eq!(upstream.hits_ending("big/@v/v1.0.0.zip"), 0);

    // The hook hangs: after the timeout, fail-closed refuses and stores nothing.
    let started = Instant::now();
    let (status, _) = app
        .fetch("/github.com/agoratest/multi/@v/v1.0.0.info")
        .await;
    assert_eq!(status, 504);
    assert!(started.elapsed() < Duration::from_secs(10));
    let stored = app
        .store
        .versions
        .versions(&gomod::module::ModulePath::parse("github.com/agoratest/multi").expect("path"))
        .await
        .expect("versions");
    assert!(stored.is_empty());
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_hook_timeout_fails_open_when_configured(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let hook = TestHook::start();
    let app = hook_app(pool, &upstream.url(), &hook, true).await;
    let (status, body) = app
        .fetch("/github.com/agoratest/multi/@v/v1.0.0.info")
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(hook.asked(), ["github.com/agoratest/multi@v1.0.0"]);
    // A denial is still a denial when failing open.
    assert_eq!(
        app.fetch("/github.com/agoratest/big/@v/v1.0.0.mod").await.0,
        403
    );
}
