//! Nothing leaks and nothing odd passes: credentials in configured URLs never reach a client, a
//! log, a metric or the store; queries reach upstreams escaped, and what the go command could not
//! have sent is refused before any network call; readiness says nothing about the database to
//! strangers; imports never follow links.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::fixture::go_fixture;
use crate::helpers::{pg_store, spawn_app, spawn_app_with, sqlite_store};
use crate::scripted::{Act, Scripted};
use crate::upstream::TestUpstream;

const PASSWORD: &str = "hunter2-upstream-secret";

fn with_credentials(url: &str) -> String {
    url.replacen("http://", &format!("http://agora:{PASSWORD}@"), 1)
}

fn clean(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    assert!(
        !text.contains(PASSWORD),
        "{what} shows the password: {text}"
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn upstream_credentials_never_leave_the_server(pool: sqlx::PgPool) {
    // An upstream that fails, and says something of its own in its error body.
    let failing = Scripted::start(
        "127.0.0.1",
        vec![(
            "/",
            Act::text(500, "internal detail: stack trace at db.corp:5432"),
        )],
    );
    let app = spawn_app(sqlite_mem().await, &with_credentials(&failing.url())).await;
    let (status, body) = app.fetch("/example.com/m/@v/v1.0.0.info").await;
    assert_eq!(status, 502);
    clean("an error body", &body);
    assert!(
        !String::from_utf8_lossy(&body).contains("stack trace"),
        "the upstream's body was passed on: {}",
        String::from_utf8_lossy(&body)
    );
    // A refused connection (reqwest's own error text would carry the URL).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!(
        "http://127.0.0.1:{}",
        closed.local_addr().expect("addr").port()
    );
    drop(closed);
    let app = spawn_app(sqlite_mem().await, &with_credentials(&dead)).await;
    let (status, body) = app.fetch("/example.com/m/@v/list").await;
    assert_eq!(status, 502);
    clean("a transport error", &body);

    // A working upstream: the stored source, the admin answer and the metrics stay clean.
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let store = pg_store(pool);
    let app = spawn_app(store.clone(), &with_credentials(&upstream.url())).await;
    // The zip: its answer ends once the version is stored.
    let (status, _) = app.fetch("/github.com/agoratest/big/@v/v1.0.0.zip").await;
    assert_eq!(status, 200);
    let admin = app.token("ops", "admin").await;
    let (_, versions) = app.fetch_as("/admin/versions", &admin).await;
    clean("/admin/versions", &versions);
    let rows = store
        .admin
        .catalog(&agora::store::CatalogQuery {
            limit: 10,
            include_hidden: true,
            ..Default::default()
        })
        .await
        .expect("catalog");
    assert_eq!(rows.len(), 1);
    clean("the stored source", rows[0].source.as_bytes());
    assert!(
        rows[0].source.contains("***@127.0.0.1"),
        "{}",
        rows[0].source
    );
    clean("/metrics", &app.fetch("/metrics").await.1);
}

/// A fresh in-memory SQLite store.
async fn sqlite_mem() -> agora::store::Stores {
    let pool = sqlx::SqlitePool::connect("sqlite::memory:")
        .await
        .expect("sqlite");
    sqlx::migrate!("migrations/sqlite")
        .run(&pool)
        .await
        .expect("migrate");
    agora::store::Stores::of(agora::store::sqlite::SqliteStore::from_pool(pool))
}

/// What `agora serve` printed (stdout and stderr) until it said it is serving, with `env` set.
fn startup_log(env: &[(&str, String)]) -> String {
    let data = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", data.path().join("a.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("serve")
        .env("AGORA_LISTEN", "127.0.0.1:0")
        .env("AGORA_DATABASE_URL", &db)
        .env("AGORA_DATA_DIR", data.path())
        .env("AGORA_LOG__LEVEL", "debug")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agora");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read");
        let done = line.contains("agora serving");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let all = format!(
        "{}\n{}",
        seen.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("agora serving"), "{all}");
    all
}

#[test]
fn the_startup_log_masks_upstream_credentials() {
    let all = startup_log(&[
        (
            "AGORA_UPSTREAM",
            format!("https://agora:{PASSWORD}@proxy.example,direct"),
        ),
        (
            "AGORA_SUMDB__UPSTREAM",
            format!("sum.golang.org=https://u:{PASSWORD}@sum.example"),
        ),
        (
            "AGORA_POLICY__HOOK_URL",
            format!("https://h:{PASSWORD}@hook.example/check"),
        ),
    ]);
    assert!(all.contains("***@proxy.example"), "{all}");
    clean("the startup log", all.as_bytes());
}

#[test]
fn the_start_warns_when_private_modules_are_readable_by_anyone() {
    const WARNING: &str = "private modules are configured and anyone who can reach this address";
    let private = ("AGORA_PRIVATE", "corp.example/*".to_string());
    let open = startup_log(&[private.clone(), ("AGORA_LISTEN", "0.0.0.0:0".to_string())]);
    assert!(open.contains(WARNING), "{open}");
    let internal = startup_log(std::slice::from_ref(&private));
    assert!(!internal.contains(WARNING), "{internal}");
    let authenticated = startup_log(&[
        private,
        ("AGORA_LISTEN", "0.0.0.0:0".to_string()),
        ("AGORA_AUTH__ENABLED", "true".to_string()),
    ]);
    assert!(!authenticated.contains(WARNING), "{authenticated}");
}

#[tokio::test]
async fn a_failing_hook_never_shows_its_credentials() {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    // A hook that refuses connections, and one that answers 500 with a body of its own.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!(
        "http://h:{PASSWORD}@127.0.0.1:{}/check",
        closed.local_addr().expect("addr").port()
    );
    drop(closed);
    let failing = Scripted::start(
        "127.0.0.1",
        vec![("/", Act::text(500, "hook internals at db.corp:5432"))],
    );
    let broken = with_credentials(&format!("{}/check", failing.url()));
    for (what, hook) in [("a refused hook", dead), ("a failing hook", broken)] {
        let app = spawn_app_with(
            sqlite_mem().await,
            &upstream.url(),
            &[
                ("AGORA_POLICY__HOOK_URL", hook.as_str()),
                ("AGORA_POLICY__HOOK_TIMEOUT_SECS", "1"),
            ],
        )
        .await;
        let (status, body) = app
            .fetch("/github.com/agoratest/multi/@v/v1.0.0.info")
            .await;
        assert_ne!(status, 200, "{what}");
        clean(what, &body);
        assert!(
            !String::from_utf8_lossy(&body).contains("db.corp"),
            "{what}: its body was passed on"
        );
    }
    clean(
        "the server's warnings and errors",
        crate::helpers::kept_errors().as_bytes(),
    );
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn queries_reach_the_upstream_escaped_or_not_at_all(pool: sqlx::SqlitePool) {
    let upstream = Scripted::start("127.0.0.1", vec![("/", Act::text(404, "not found"))]);
    let sumdb = Scripted::start("127.0.0.1", vec![("/", Act::text(404, "not found"))]);
    let sumdb_upstream = format!("sum.golang.org={}", sumdb.url());
    let app = spawn_app_with(
        sqlite_store(pool).await,
        &upstream.url(),
        &[("AGORA_SUMDB__UPSTREAM", sumdb_upstream.as_str())],
    )
    .await;
    // `#`, `?` and `%` are valid in the go command's queries: passed on percent-encoded.
    for (asked, sent) in [
        (
            "/example.com/m/@v/v1.0.0%23x.info",
            "/example.com/m/@v/v1.0.0%23x.info",
        ),
        (
            "/example.com/m/@v/feature%25two.info",
            "/example.com/m/@v/feature%25two.info",
        ),
        (
            "/example.com/m/@v/a%20b.info",
            "/example.com/m/@v/a%20b.info",
        ),
    ] {
        let before = upstream.hits().len();
        let (status, _) = app.fetch(asked).await;
        assert_eq!(status, 404, "{asked}");
        assert_eq!(upstream.hits()[before..], [sent.to_string()], "{asked}");
    }
    // What the go command never sends: refused here, never passed on.
    let before = upstream.hits().len();
    for bad in [
        "/example.com/m/@v/v1.0.0-%C3%BC.info",
        "/example.com/m/@v/a%3Fb.info",
        "/example.com/m/@v/a%22b.info",
        "/example.com/m/@v/..info",
    ] {
        assert_eq!(app.fetch(bad).await.0, 400, "{bad}");
    }
    assert_eq!(upstream.hits().len(), before, "{:?}", upstream.hits());
    // Checksum database lookups: only valid module paths at canonical versions.
    for bad in [
        "/sumdb/sum.golang.org/lookup/example.com/m@v1.0.0%23x",
        "/sumdb/sum.golang.org/lookup/example.com/m@v1.0.0%3Fx",
        "/sumdb/sum.golang.org/lookup/example.com/m@master",
        "/sumdb/sum.golang.org/lookup/example.com/m@v1.0.0%2523",
    ] {
        assert_eq!(app.fetch(bad).await.0, 400, "{bad}");
    }
    assert!(sumdb.hits().is_empty(), "{:?}", sumdb.hits());
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn readiness_tells_strangers_nothing_about_the_database(pool: sqlx::PgPool) {
    let app = spawn_app(pg_store(pool.clone()), "off").await;
    assert_eq!(app.fetch("/readyz").await.0, 200);
    pool.close().await;
    let (status, body) = app.fetch("/readyz").await;
    assert_eq!(status, 503);
    let text = String::from_utf8_lossy(&body).to_lowercase();
    for word in [
        "pool",
        "closed",
        "sqlx",
        "postgres",
        "127.0.0.1",
        "connection",
    ] {
        assert!(!text.contains(word), "readiness says {word:?}: {text}");
    }
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn imports_never_follow_links(pool: sqlx::SqlitePool) {
    let work = tempfile::tempdir().expect("tempdir");
    let secret = work.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET host file\n").expect("secret");
    let tree = work.path().join("tree");
    let src = go_fixture().tree.join("github.com/agoratest/big/@v");
    let dst = tree.join("github.com/agoratest/big/@v");
    std::fs::create_dir_all(&dst).expect("mkdir");
    std::fs::copy(src.join("v1.0.0.zip"), dst.join("v1.0.0.zip")).expect("zip");
    std::fs::copy(src.join("v1.0.0.info"), dst.join("v1.0.0.info")).expect("info");
    std::os::unix::fs::symlink(&secret, dst.join("v1.0.0.mod")).expect("symlink");
    // And a linked zip for another module.
    let other = tree.join("github.com/agoratest/linked/@v");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::os::unix::fs::symlink(src.join("v1.0.0.zip"), other.join("v1.0.0.zip")).expect("link");

    let text = import_refusing_both(pool, &tree).await;
    assert!(!text.contains("TOP-SECRET"), "{text}");
    assert!(text.contains("not a regular file"), "{text}");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn imports_refuse_files_over_the_go_commands_limits(pool: sqlx::SqlitePool) {
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join("tree");
    let src = go_fixture().tree.join("github.com/agoratest/big/@v");
    let dst = tree.join("github.com/agoratest/big/@v");
    std::fs::create_dir_all(&dst).expect("mkdir");
    std::fs::copy(src.join("v1.0.0.zip"), dst.join("v1.0.0.zip")).expect("zip");
    std::fs::copy(src.join("v1.0.0.mod"), dst.join("v1.0.0.mod")).expect("mod");
    // An .info of 65 KiB (the limit is 64 KiB): padded JSON that would otherwise parse.
    let mut info = br#"{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z","Pad":""#.to_vec();
    info.extend(std::iter::repeat_n(b'x', 65 << 10));
    info.extend(br#""}"#);
    std::fs::write(dst.join("v1.0.0.info"), &info).expect("info");
    // A go.mod of 16 MiB and one byte, for another module.
    let other = tree.join("github.com/agoratest/multi/@v");
    std::fs::create_dir_all(&other).expect("mkdir");
    let msrc = go_fixture().tree.join("github.com/agoratest/multi/@v");
    std::fs::copy(msrc.join("v1.0.0.zip"), other.join("v1.0.0.zip")).expect("zip");
    std::fs::copy(msrc.join("v1.0.0.info"), other.join("v1.0.0.info")).expect("info");
    let mut go_mod = b"module github.com/agoratest/multi\n// ".to_vec();
    go_mod.resize((16 << 20) + 1, b'x');
    std::fs::write(other.join("v1.0.0.mod"), &go_mod).expect("mod");

    let text = import_refusing_both(pool, &tree).await;
    assert!(text.contains("larger than 65536 bytes"), "{text}");
    assert!(text.contains("larger than 16777216 bytes"), "{text}");
}

/// Imports `tree` (two versions) into a fresh store, expecting both refused; the report as text.
async fn import_refusing_both(pool: sqlx::SqlitePool, tree: &std::path::Path) -> String {
    let store = sqlite_store(pool).await;
    let intake = agora::transfer::import::intake(&store);
    let report = agora::transfer::import::import(&intake, store.admin.as_ref(), tree, "test")
        .await
        .expect("import");
    assert_eq!(report.imported, 0, "{report:?}");
    assert_eq!(report.failed.len(), 2, "{report:?}");
    format!("{report:?}")
}
