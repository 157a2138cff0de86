//! Publishing, administration, retention and offline transfer, end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{build_app_through, go_fixture, run};
use crate::helpers::{
    TestApp, database_url, esc, pg_store, spawn_app, spawn_app_with, sqlite_store,
    start_replica_with,
};

/// Modules the publishing tests publish: the fixture's and `corp.example`'s. Private to the
/// checksum database as well, which the tests never ask.
pub const PUBLISHABLE: &str = "github.com/Agora-Test,github.com/agoratest,corp.example";

/// An app that publishes [`PUBLISHABLE`] modules, with `extra` settings.
pub async fn publishing_app(
    store: agora::store::Stores,
    upstream: &str,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut env = vec![
        ("AGORA_ADMIN__PUBLISH_PATTERNS", PUBLISHABLE),
        ("AGORA_SUMDB__PRIVATE", PUBLISHABLE),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(store, upstream, &env).await
}
use crate::upstream::TestUpstream;

/// (module, fixture repository, tag, version) of every fixture module version.
const SOURCES: &[(&str, &str, &str, &str)] = &[
    ("github.com/Agora-Test/Caps", "caps", "v1.0.0", "v1.0.0"),
    ("github.com/agoratest/multi", "multi", "v1.0.0", "v1.0.0"),
    ("github.com/agoratest/multi/v2", "multi", "v2.1.0", "v2.1.0"),
    ("github.com/agoratest/legacy", "legacy", "v1.0.0", "v1.0.0"),
    (
        "github.com/agoratest/legacy",
        "legacy",
        "v2.0.0",
        "v2.0.0+incompatible",
    ),
    ("github.com/agoratest/big", "big", "v1.0.0", "v1.0.0"),
];

/// The fixture repository's tree at `tag`, checked out into `dest`.
fn checkout(repo: &str, tag: &str, dest: &Path) -> PathBuf {
    let src = go_fixture().root.join("repos").join(repo);
    let dir = dest.join(format!("{repo}-{tag}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let tar = dest.join(format!("{repo}-{tag}.tar"));
    run(Command::new("git")
        .current_dir(&src)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["archive", "-o"])
        .arg(&tar)
        .arg(tag))
    .expect("git archive");
    run(Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(&dir)).expect("untar");
    dir
}

fn agora() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agora"))
}

fn publish_cli(
    server: &str,
    token: &str,
    module: &str,
    version: &str,
    dir: &Path,
) -> Result<String, String> {
    run(agora()
        .args([
            "publish",
            "--path",
            module,
            "--version",
            version,
            "--server",
            server,
        ])
        .env("AGORA_TOKEN", token)
        .arg(dir))
}

/// A module zip of `dir` made by the module library.
fn make_zip(module: &str, version: &str, dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    gomod::zip::create_from_dir(std::io::Cursor::new(&mut out), module, version, dir)
        .expect("create zip");
    out
}

fn small_module(root: &Path, module: &str) -> PathBuf {
    let dir = root.join(esc(module).replace('/', "_"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("go.mod"), format!("module {module}\n\ngo 1.21\n")).expect("go.mod");
    std::fs::write(
        dir.join("lib.go"),
        "package lib\n\nfunc One() int { return 1 }\n",
    )
    .expect("lib.go");
    dir
}

/// PUTs a zip as the token `alice` (created with the publish scope on first use).
async fn put(app: &TestApp, module: &str, version: &str, body: Vec<u8>) -> (u16, String) {
    let token = alice(app).await;
    put_as(app, Some(&token), module, version, body).await
}

async fn alice(app: &TestApp) -> String {
    app.named_token("alice", "publish").await
}

pub async fn put_as(
    app: &TestApp,
    token: Option<&str>,
    module: &str,
    version: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let mut req = app.client.put(format!(
        "{}/{}/@v/{}.zip",
        app.address,
        esc(module),
        esc(version)
    ));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.body(body).send().await.expect("put");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn published_versions_build_with_the_go_command_and_are_never_replaced(pool: sqlx::PgPool) {
    let app = publishing_app(pg_store(pool), "off", &[]).await;
    let token = app.token("ci", "publish").await;
    let admin = app.token("ops", "admin").await;
    let work = tempfile::tempdir().expect("tempdir");
    let server = app.address.clone();
    let root = work.path().to_path_buf();
    let t = token.clone();
    tokio::task::spawn_blocking(move || {
        for (module, repo, tag, version) in SOURCES {
            let dir = checkout(repo, tag, &root);
            let out = publish_cli(&server, &t, module, version, &dir)
                .unwrap_or_else(|e| panic!("publish {module}@{version}: {e}"));
            assert!(
                out.contains(&format!("published {module}@{version}")),
                "{out}"
            );
        }
    })
    .await
    .expect("join");

    // The go command builds from the published versions alone, and every hash matches the
    // go.sum that GOPROXY=direct wrote.
    let goproxy = app.address.clone();
    let out = tokio::task::spawn_blocking(move || build_app_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("go build from published versions: {e}"));
    assert_eq!(out.trim(), "caps 2 two 22020096");

    // A second publish of the same version is refused, whatever its content.
    let server = app.address.clone();
    let root = work.path().to_path_buf();
    let err = tokio::task::spawn_blocking(move || {
        let dir = small_module(&root, "github.com/Agora-Test/Caps");
        publish_cli(
            &server,
            &token,
            "github.com/Agora-Test/Caps",
            "v1.0.0",
            &dir,
        )
    })
    .await
    .expect("join")
    .expect_err("second publish must fail");
    assert!(err.contains("409"), "{err}");

    let (status, body) = app.fetch_as("/admin/audit", &admin).await;
    assert_eq!(status, 200);
    let audit: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let publishes: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "publish")
        .collect();
    assert_eq!(publishes.len(), SOURCES.len());
    assert!(publishes.iter().all(|e| e["actor"] == "ci"), "{audit}");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn put_checks_the_zip_and_answers_409_for_an_existing_version(pool: sqlx::SqlitePool) {
    let app = publishing_app(sqlite_store(pool).await, "off", &[]).await;
    let work = tempfile::tempdir().expect("tempdir");
    let module = "corp.example/Team/lib";
    let dir = small_module(work.path(), module);

    let (status, body) = put(&app, module, "v1.0.0", make_zip(module, "v1.0.0", &dir)).await;
    assert_eq!(status, 201, "{body}");
    let published: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(published["h1"].as_str().expect("h1").starts_with("h1:"));

    let (status, body) = put(&app, module, "v1.0.0", make_zip(module, "v1.0.0", &dir)).await;
    assert_eq!(status, 409, "{body}");
    // A zip made for another version, garbage, a non-canonical version.
    let (status, body) = put(&app, module, "v1.1.0", make_zip(module, "v1.0.0", &dir)).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = put(&app, module, "v1.2.0", b"not a zip".to_vec()).await;
    assert_eq!(status, 400);
    let (status, _) = put(&app, module, "v1.2", make_zip(module, "v1.0.0", &dir)).await;
    assert_eq!(status, 400);
    // A go.mod naming another module.
    let other = small_module(work.path(), "corp.example/other");
    let (status, body) = put(&app, module, "v1.3.0", make_zip(module, "v1.3.0", &other)).await;
    assert_eq!(status, 400, "{body}");

    // Served like a fetched version.
    let m = esc(module);
    let (status, body) = app.fetch(&format!("/{m}/@v/list")).await;
    assert_eq!((status, &body[..]), (200, &b"v1.0.0\n"[..]));
    let (status, info) = app.fetch(&format!("/{m}/@v/v1.0.0.info")).await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_slice(&info).expect("info json");
    assert_eq!(info["Version"], "v1.0.0");
    assert!(info["Time"].as_str().is_some());
    let (status, go_mod) = app.fetch(&format!("/{m}/@v/v1.0.0.mod")).await;
    assert_eq!(status, 200);
    assert!(go_mod.starts_with(b"module corp.example/Team/lib\n"));
    let (status, zip) = app.fetch(&format!("/{m}/@v/v1.0.0.zip")).await;
    assert_eq!(status, 200);
    assert_eq!(&zip[..], &make_zip(module, "v1.0.0", &dir)[..]);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn hidden_versions_answer_410_with_the_reason_on_postgres(pool: sqlx::PgPool) {
    hidden_flow(pg_store(pool)).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn hidden_versions_answer_410_with_the_reason_on_sqlite(pool: sqlx::SqlitePool) {
    hidden_flow(sqlite_store(pool).await).await;
}

async fn hidden_flow(store: agora::store::Stores) {
    let app = publishing_app(store, "off", &[]).await;
    let bob = app.token("bob", "admin").await;
    let work = tempfile::tempdir().expect("tempdir");
    let module = "corp.example/hideme";
    let dir = small_module(work.path(), module);
    for v in ["v1.0.0", "v1.1.0", "v1.2.0"] {
        let (status, body) = put(&app, module, v, make_zip(module, v, &dir)).await;
        assert_eq!(status, 201, "{body}");
    }
    let m = esc(module);
    // Warm the caches, so hiding must invalidate them.
    assert_eq!(app.fetch(&format!("/{m}/@v/v1.2.0.info")).await.0, 200);
    assert_eq!(app.fetch(&format!("/{m}/@v/list")).await.0, 200);

    let hide = |reason: &'static str| {
        app.client
            .post(format!("{}/admin/hide", app.address))
            .bearer_auth(&bob)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"module": module, "version": "v1.2.0", "reason": reason})
                    .to_string(),
            )
            .send()
    };
    let resp = hide("CVE-2026-0001: leaks secrets").await.expect("hide");
    assert_eq!(resp.status().as_u16(), 200);
    let resp = hide("again").await.expect("hide again");
    let again: serde_json::Value =
        serde_json::from_str(&resp.text().await.expect("body")).expect("json");
    assert_eq!(again["already_hidden"], true);
    let resp = hide("  ").await.expect("hide without reason");
    assert_eq!(resp.status().as_u16(), 400);

    for ext in ["info", "mod", "zip"] {
        let (status, body) = app.fetch(&format!("/{m}/@v/v1.2.0.{ext}")).await;
        assert_eq!(status, 410, "{ext}");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("CVE-2026-0001: leaks secrets"), "{body}");
    }
    let (_, list) = app.fetch(&format!("/{m}/@v/list")).await;
    assert_eq!(&list[..], b"v1.0.0\nv1.1.0\n");
    let (_, latest) = app.fetch(&format!("/{m}/@latest")).await;
    assert!(String::from_utf8_lossy(&latest).contains("v1.1.0"));

    let (_, catalog) = app.fetch("/catalog").await;
    let catalog: serde_json::Value = serde_json::from_slice(&catalog).expect("json");
    let versions: Vec<&str> = catalog["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .map(|e| e["version"].as_str().expect("version"))
        .collect();
    assert_eq!(versions, ["v1.0.0", "v1.1.0"]);

    let (_, admin) = app
        .fetch_as(&format!("/admin/versions?module={module}"), &bob)
        .await;
    let admin: serde_json::Value = serde_json::from_slice(&admin).expect("json");
    let hidden: Vec<&serde_json::Value> = admin["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter(|v| !v["hidden"].is_null())
        .collect();
    assert_eq!(hidden.len(), 1);
    assert_eq!(hidden[0]["source"], "publish:alice");

    let (_, audit) = app.fetch_as("/admin/audit", &bob).await;
    let audit: serde_json::Value = serde_json::from_slice(&audit).expect("json");
    let hides: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "hide")
        .collect();
    assert_eq!(hides.len(), 1, "{audit}");
    assert_eq!(hides[0]["actor"], "bob");
    assert_eq!(hides[0]["version"], "v1.2.0");
    assert!(hides[0]["at"].as_i64().expect("at") > 0);

    // Publishing over a hidden version is still a conflict.
    let (status, _) = put(&app, module, "v1.2.0", make_zip(module, "v1.2.0", &dir)).await;
    assert_eq!(status, 409);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn catalog_pages_like_athens(pool: sqlx::PgPool) {
    let app = publishing_app(pg_store(pool), "off", &[]).await;
    let work = tempfile::tempdir().expect("tempdir");
    let mut want = Vec::new();
    for module in ["corp.example/a", "corp.example/b"] {
        let dir = small_module(work.path(), module);
        for v in ["v0.1.0", "v0.2.0", "v1.0.0"] {
            assert_eq!(put(&app, module, v, make_zip(module, v, &dir)).await.0, 201);
            want.push(format!("{module}@{v}"));
        }
    }
    let mut got = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let (status, body) = app
            .fetch(&format!("/catalog?token={token}&pagesize=4"))
            .await;
        assert_eq!(status, 200);
        pages += 1;
        let page: serde_json::Value = serde_json::from_slice(&body).expect("json");
        for e in page["modules"].as_array().expect("modules") {
            got.push(format!(
                "{}@{}",
                e["module"].as_str().expect("module"),
                e["version"].as_str().expect("version")
            ));
        }
        match page.get("next").and_then(|n| n.as_str()) {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert_eq!(got, want);
    assert_eq!(pages, 2);
    assert_eq!(app.fetch("/catalog?pagesize=0").await.0, 400);
    assert_eq!(app.fetch("/catalog?token=x").await.0, 400);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn retention_expires_only_fetched_versions_on_postgres(pool: sqlx::PgPool) {
    retention_flow(pg_store(pool)).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn retention_expires_only_fetched_versions_on_sqlite(pool: sqlx::SqlitePool) {
    retention_flow(sqlite_store(pool).await).await;
}

async fn retention_flow(store: agora::store::Stores) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let app = publishing_app(store.clone(), &upstream.url(), &[]).await;
    let caps = format!("/{}/@v/v1.0.0.zip", esc("github.com/Agora-Test/Caps"));
    assert_eq!(app.fetch(&caps).await.0, 200);
    let work = tempfile::tempdir().expect("tempdir");
    let module = "corp.example/kept";
    let dir = small_module(work.path(), module);
    assert_eq!(
        put(&app, module, "v1.0.0", make_zip(module, "v1.0.0", &dir))
            .await
            .0,
        201
    );

    let now = agora::admin::unix_now();
    let plan = agora::admin::retention::plan(store.admin.as_ref(), 30, now)
        .await
        .expect("plan");
    assert!(plan.expire.is_empty(), "nothing is 30 days old yet");
    let later = now + 31 * 86_400;
    let plan = agora::admin::retention::plan(store.admin.as_ref(), 30, later)
        .await
        .expect("plan");
    let names: Vec<String> = plan
        .expire
        .iter()
        .map(|r| format!("{}@{}", r.module, r.version))
        .collect();
    assert_eq!(names, ["github.com/Agora-Test/Caps@v1.0.0"]);
    assert_eq!(plan.kept, 1);
    let n = agora::admin::retention::apply(&store, &plan, 30, "ops", later)
        .await
        .expect("apply");
    assert_eq!(n, 1);
    let audit = store.admin.audit_log(0, 100).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "expire" && e.actor == "ops")
    );

    // Expired, so fetched again on the next request (from a fresh process: no cached copy).
    let again = spawn_app(store.clone(), &upstream.url()).await;
    assert_eq!(again.fetch(&caps).await.0, 200);
    assert_eq!(upstream.hits_ending(&caps), 2, "{:?}", upstream.hits());
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn export_then_import_builds_from_the_second_agora_offline(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let db_a = database_url(&pool);
    let app = spawn_app(pg_store(pool), &upstream.url()).await;
    let goproxy = app.address.clone();
    tokio::task::spawn_blocking(move || build_app_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("go build through the first agora: {e}"));

    let work = tempfile::tempdir().expect("tempdir");
    let tarball = work.path().join("modules.tar.gz");
    let db_b = format!("sqlite://{}", work.path().join("b.db").display());
    let (tb, w) = (tarball.clone(), work.path().to_path_buf());
    let db_b2 = db_b.clone();
    tokio::task::spawn_blocking(move || {
        let out = run(agora()
            .args(["export", "--gomod"])
            .arg(go_fixture().app.join("go.mod"))
            .arg("--out")
            .arg(&tb)
            .env("AGORA_DATABASE_URL", &db_a)
            .env("AGORA_DATA_DIR", w.join("a-data")))
        .expect("export");
        assert!(out.contains("exported 4 versions"), "{out}");
        // Retention is a dry run unless told otherwise.
        let out = run(agora()
            .args(["retention", "--days", "0"])
            .env("AGORA_DATABASE_URL", &db_a)
            .env("AGORA_DATA_DIR", w.join("a-data")))
        .expect("retention dry run");
        assert!(out.contains("dry run: "), "{out}");
        assert!(
            out.contains("would expire github.com/agoratest/big@v1.0.0"),
            "{out}"
        );
        let out = run(agora()
            .arg("import")
            .arg(&tb)
            .env("AGORA_DATABASE_URL", &db_b2)
            .env("AGORA_DATA_DIR", w.join("b-data")))
        .expect("import");
        assert!(out.contains("imported 4 versions"), "{out}");
        // Importing again changes nothing.
        let out = run(agora()
            .arg("import")
            .arg(&tb)
            .env("AGORA_DATABASE_URL", &db_b2)
            .env("AGORA_DATA_DIR", w.join("b-data")))
        .expect("import again");
        assert!(out.contains("4 already stored"), "{out}");
    })
    .await
    .expect("join");

    // The second agora has no upstream, and the first one's upstream is gone.
    drop(upstream);
    let replica = start_replica_with(&db_b, "off", &work.path().join("b-data"), &[]);
    let goproxy = replica.address.clone();
    let out = tokio::task::spawn_blocking(move || build_app_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("go build through the second agora: {e}"));
    assert_eq!(out.trim(), "caps 2 two 22020096");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn import_verifies_every_zip_against_its_ziphash(pool: sqlx::SqlitePool) {
    let store = sqlite_store(pool).await;
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join("tree");
    run(Command::new("cp")
        .arg("-r")
        .arg(&go_fixture().tree)
        .arg(&tree))
    .expect("copy tree");
    let caps = tree.join("github.com/!agora-!test/!caps/@v");
    std::fs::write(
        caps.join("v1.0.0.ziphash"),
        "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    )
    .expect("ziphash");
    let legacy = tree.join("github.com/agoratest/legacy/@v");
    std::fs::write(legacy.join("v1.0.0.zip"), b"PK\x03\x04 truncated").expect("zip");

    let intake = agora::transfer::import::intake(&store);
    let report = agora::transfer::import::import(&intake, store.admin.as_ref(), &tree, "test")
        .await
        .expect("import");
    assert_eq!(report.failed.len(), 2, "{:?}", report.failed);
    assert!(
        report
            .failed
            .iter()
            .any(|f| f.contains("Caps@v1.0.0") && f.contains(".ziphash"))
    );
    assert!(report.failed.iter().any(|f| f.contains("legacy@v1.0.0")));
    assert_eq!(report.imported, 4, "{report:?}");
    assert!(
        store
            .admin
            .catalog(&agora::store::CatalogQuery {
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("catalog")
            .iter()
            .all(|r| r.module != "github.com/Agora-Test/Caps")
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn serving_a_version_records_its_last_use_on_postgres(pool: sqlx::PgPool) {
    usage_flow(pg_store(pool)).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn serving_a_version_records_its_last_use_on_sqlite(pool: sqlx::SqlitePool) {
    usage_flow(sqlite_store(pool).await).await;
}

async fn usage_flow(store: agora::store::Stores) {
    let app = publishing_app(store, "off", &[("AGORA_ADMIN__USAGE_FLUSH_SECS", "0")]).await;
    let ops = app.token("ops", "admin").await;
    let work = tempfile::tempdir().expect("tempdir");
    let module = "corp.example/used";
    let dir = small_module(work.path(), module);
    assert_eq!(
        put(&app, module, "v1.0.0", make_zip(module, "v1.0.0", &dir))
            .await
            .0,
        201
    );
    let (_, before) = app.fetch_as("/admin/versions", &ops).await;
    let before: serde_json::Value = serde_json::from_slice(&before).expect("json");
    assert!(before["versions"][0]["last_used_at"].is_null(), "{before}");
    assert_eq!(
        app.fetch(&format!("/{}/@v/v1.0.0.mod", esc(module)))
            .await
            .0,
        200
    );
    let mut used = serde_json::Value::Null;
    for _ in 0..50 {
        let (_, body) = app.fetch_as("/admin/versions", &ops).await;
        let page: serde_json::Value = serde_json::from_slice(&body).expect("json");
        used = page["versions"][0]["last_used_at"].clone();
        if !used.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(used.as_i64().expect("last_used_at recorded") > 0);
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn admin_disabled_turns_off_publish_and_admin(pool: sqlx::SqlitePool) {
    let app = publishing_app(
        sqlite_store(pool).await,
        "off",
        &[("AGORA_ADMIN__ENABLED", "false")],
    )
    .await;
    let ops = app.token("ops", "admin").await;
    let work = tempfile::tempdir().expect("tempdir");
    let module = "corp.example/closed";
    let dir = small_module(work.path(), module);
    assert_eq!(
        put(&app, module, "v1.0.0", make_zip(module, "v1.0.0", &dir))
            .await
            .0,
        404
    );
    assert_eq!(app.fetch_as("/admin/versions", &ops).await.0, 404);
    assert_eq!(app.fetch_as("/admin/audit", &ops).await.0, 404);
    assert_eq!(app.fetch("/catalog").await.0, 200);
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn latest_never_names_a_hidden_version(pool: sqlx::SqlitePool) {
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join("tree");
    run(Command::new("cp")
        .arg("-r")
        .arg(&go_fixture().tree)
        .arg(&tree))
    .expect("copy tree");
    let legacy = tree.join("github.com/agoratest/legacy");
    std::fs::copy(legacy.join("@v/v1.0.0.info"), legacy.join("@latest")).expect("@latest");
    let upstream = TestUpstream::start(tree);
    let app = spawn_app(sqlite_store(pool).await, &upstream.url()).await;
    let ops = app.token("ops", "admin").await;
    // The upstream's @latest names a version hidden here: it is not passed on. (A zip's answer
    // ends once its version is stored.)
    let (status, _) = app
        .fetch("/github.com/agoratest/legacy/@v/v1.0.0.zip")
        .await;
    assert_eq!(status, 200);
    let hidden = app
        .client
        .post(format!("{}/admin/hide", app.address))
        .bearer_auth(&ops)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({
                "module": "github.com/agoratest/legacy",
                "version": "v1.0.0",
                "reason": "withdrawn"
            })
            .to_string(),
        )
        .send()
        .await
        .expect("hide");
    assert_eq!(hidden.status().as_u16(), 200);
    let (status, body) = app.fetch("/github.com/agoratest/legacy/@latest").await;
    // Nothing else is stored, so nothing visible is left to name.
    assert_eq!(status, 410, "{}", String::from_utf8_lossy(&body));

    let caps = esc("github.com/Agora-Test/Caps");
    assert_eq!(app.fetch(&format!("/{caps}/@v/v1.0.0.zip")).await.0, 200);
    let resp = app
        .client
        .post(format!("{}/admin/hide", app.address))
        .bearer_auth(&ops)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({
                "module": "github.com/Agora-Test/Caps",
                "version": "v1.0.0",
                "reason": "withdrawn"
            })
            .to_string(),
        )
        .send()
        .await
        .expect("hide");
    assert_eq!(resp.status().as_u16(), 200);
    // No upstream @latest for this one: the stored versions answer, and none is visible.
    let (status, body) = app.fetch(&format!("/{caps}/@latest")).await;
    assert!(
        status == 404 || status == 410,
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    let (status, body) = app.fetch(&format!("/{caps}/@v/list")).await;
    assert_eq!((status, &body[..]), (200, &b""[..]));
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn a_go_mod_the_go_command_cannot_parse_is_never_stored(pool: sqlx::SqlitePool) {
    // The go command refuses this line in a dependency's go.mod (`go build`: "go.mod:5: invalid
    // quoted string: unquoted string cannot contain quote"), so no build could use the version.
    let bad = "require example.com/dep\"<script> v1.0.0";
    let refusal = "go.mod:5: invalid quoted string: unquoted string cannot contain quote";
    let work = tempfile::tempdir().expect("tempdir");
    let module_dir = |module: &str| {
        let dir = small_module(work.path(), module);
        std::fs::write(
            dir.join("go.mod"),
            format!("module {module}\n\ngo 1.21\n\n{bad}\n"),
        )
        .expect("go.mod");
        dir
    };

    // Fetched: a static upstream serving the version, its .mod and its zip.
    let fetched = "github.com/agoratest/badreq";
    let tree = work.path().join("tree");
    let at_v = tree.join(fetched).join("@v");
    std::fs::create_dir_all(&at_v).expect("mkdir");
    let dir = module_dir(fetched);
    std::fs::write(at_v.join("list"), "v1.0.0\n").expect("list");
    std::fs::write(
        at_v.join("v1.0.0.info"),
        r#"{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}"#,
    )
    .expect("info");
    std::fs::copy(dir.join("go.mod"), at_v.join("v1.0.0.mod")).expect("mod");
    std::fs::write(at_v.join("v1.0.0.zip"), make_zip(fetched, "v1.0.0", &dir)).expect("zip");
    let upstream = TestUpstream::start(tree);
    let app = publishing_app(sqlite_store(pool).await, &upstream.url(), &[]).await;
    // (Its .info, checked on its own, may be answered meanwhile.)
    for file in ["mod", "zip"] {
        let (status, body) = app.fetch(&format!("/{fetched}/@v/v1.0.0.{file}")).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 502, "{file}: {body}");
        assert!(body.contains(refusal), "{file}: {body}");
    }
    assert!(!app.is_stored(fetched, "v1.0.0").await);

    // Published: refused with the same words, nothing stored.
    let published = "corp.example/badreq";
    let zip = make_zip(published, "v1.0.0", &module_dir(published));
    let (status, body) = put(&app, published, "v1.0.0", zip).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains(refusal), "{body}");
    assert!(!app.is_stored(published, "v1.0.0").await);
    assert_eq!(
        app.fetch(&format!("/{published}/@v/v1.0.0.info")).await.0,
        404
    );
}
