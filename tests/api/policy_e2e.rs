//! Policy rules through the real go command: deny (the reason is printed), direct, redirect,
//! none, async across two replicas, and a hot reload.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::fixture::{build_app_through, go_env, go_fixture};
use crate::helpers::{TestApp, database_url, esc, pg_store, spawn_app_with, start_replica_with};
use crate::upstream::{Fault, TestUpstream};
use gomod::module::ModulePath;

/// `go mod download target` through `goproxy` in a fresh module cache: Ok(stdout) or Err(stderr).
pub fn go_download(goproxy: &str, target: &str) -> Result<String, String> {
    let f = go_fixture();
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&f.go);
    go_env(&mut cmd, &f.root, &work.path().join("modcache"), goproxy);
    let out = cmd
        .current_dir(work.path())
        .args(["mod", "download", target])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

async fn download(goproxy: &str, target: &str) -> Result<String, String> {
    let (p, t) = (goproxy.to_string(), target.to_string());
    tokio::task::spawn_blocking(move || go_download(&p, &t))
        .await
        .expect("join")
}

pub fn write_rules(dir: &Path, text: &str) -> String {
    let path = dir.join("rules.toml");
    // Write then rename, so the watcher never reads half a file.
    let tmp = dir.join("rules.toml.tmp");
    std::fs::write(&tmp, text).expect("write rules");
    std::fs::rename(&tmp, &path).expect("rename rules");
    path.display().to_string()
}

async fn policy_app(pool: sqlx::PgPool, upstream: &str, rules: &str) -> TestApp {
    spawn_app_with(
        pg_store(pool),
        upstream,
        &[
            ("AGORA_POLICY__RULES_FILE", rules),
            ("AGORA_POLICY__RELOAD_SECS", "1"),
        ],
    )
    .await
}

async fn stored(app: &TestApp, module: &str) -> Vec<String> {
    app.store
        .versions
        .versions(&ModulePath::parse(module).expect("module path"))
        .await
        .expect("store versions")
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_deny_shows_the_reason_and_stops_fallback(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let rules_dir = tempfile::tempdir().expect("tmp");
    let rules = write_rules(
        rules_dir.path(),
        r#"
[[rule]]
pattern = "github.com/agoratest/big"
action = "deny"
reason = "big is banned by the licence review (ticket LIC-42)"

[[rule]]
pattern = "github.com/agoratest/legacy"
versions = ">= v2.0.0"
action = "deny"
reason = "legacy v2 is retired; stay on v1"
"#,
    );
    let app = policy_app(pool, &upstream.url(), &rules).await;

    // Denied: the go command fails and prints the reason; with `,direct` behind us it does not
    // fall back (403 stops the walk), so the failure is ours.
    let err = download(
        &format!("{},direct", app.address),
        "github.com/agoratest/big@v1.0.0",
    )
    .await
    .expect_err("denied module downloaded");
    assert!(
        err.contains("big is banned by the licence review (ticket LIC-42)"),
        "{err}"
    );
    assert!(err.contains("403"), "{err}");
    assert_eq!(upstream.hits_ending("big/@v/v1.0.0.zip"), 0);
    assert!(upstream.hits().iter().all(|h| !h.contains("/big/")));

    // A version constraint: v1 passes, v2 is refused with its own reason.
    download(&app.address, "github.com/agoratest/legacy@v1.0.0")
        .await
        .unwrap_or_else(|e| panic!("legacy v1: {e}"));
    let err = download(
        &app.address,
        "github.com/agoratest/legacy@v2.0.0+incompatible",
    )
    .await
    .expect_err("legacy v2 downloaded");
    assert!(err.contains("legacy v2 is retired; stay on v1"), "{err}");
    assert_eq!(
        stored(&app, "github.com/agoratest/legacy").await,
        ["v1.0.0"]
    );

    // The list leaves the denied versions out; the module-wide requests of a denied module are 403.
    let (status, body) = app
        .fetch(&format!("/{}/@v/list", esc("github.com/agoratest/legacy")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8_lossy(&body), "v1.0.0\n");
    let (status, body) = app.fetch("/github.com/agoratest/big/@v/list").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        String::from_utf8_lossy(&body),
        "forbidden: github.com/agoratest/big: big is banned by the licence review (ticket LIC-42)\n"
    );

    // Allowed modules are untouched.
    download(&app.address, "github.com/agoratest/multi/v2@v2.1.0")
        .await
        .unwrap_or_else(|e| panic!("multi: {e}"));
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_redirect_sends_the_go_command_elsewhere_and_stores_nothing(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let rules_dir = tempfile::tempdir().expect("tmp");
    let rules = write_rules(
        rules_dir.path(),
        &format!(
            "[upstreams]\ncorp = \"{}/r7\"\n\n[default]\nmode = \"redirect\"\nupstream = \"corp\"\n",
            upstream.url()
        ),
    );
    // Agora's own upstream is off: everything the build gets came through the redirects.
    let app = policy_app(pool, "off", &rules).await;
    let goproxy = app.address.clone();
    let out = tokio::task::spawn_blocking(move || build_app_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("build through redirects: {e}"));
    assert_eq!(out.trim(), "caps 2 two 22020096");
    for (module, _) in &go_fixture().modules {
        assert!(stored(&app, module).await.is_empty(), "{module} was stored");
    }
    assert!(upstream.hits_ending("big/@v/v1.0.0.zip") >= 1);

    let resp = crate::helpers::client()
        .get(format!(
            "{}/{}/@v/v1.0.0.zip",
            app.address,
            esc("github.com/Agora-Test/Caps")
        ))
        .send()
        .await
        .expect("request");
    // reqwest follows the redirect: the bytes are the upstream's.
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.url().as_str(),
        format!(
            "{}/r7/github.com/!agora-!test/!caps/@v/v1.0.0.zip",
            upstream.url()
        )
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_none_serves_only_stored_versions_after_a_reload(pool: sqlx::PgPool) {
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let rules_dir = tempfile::tempdir().expect("tmp");
    let rules = write_rules(rules_dir.path(), "[default]\nmode = \"sync\"\n");
    let app = policy_app(pool, &upstream.url(), &rules).await;
    download(&app.address, "github.com/Agora-Test/Caps@v1.0.0")
        .await
        .unwrap_or_else(|e| panic!("caps while sync: {e}"));

    // An invalid file is refused as a whole: the old rules (sync) stay.
    write_rules(
        rules_dir.path(),
        "[default]\nmode = \"none\"\n[[rule]]\npattern = \"x\"\nmode = \"later\"\n",
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    download(&app.address, "github.com/agoratest/legacy@v1.0.0")
        .await
        .unwrap_or_else(|e| panic!("legacy with the invalid file ignored: {e}"));

    write_rules(rules_dir.path(), "[default]\nmode = \"none\"\n");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // A version nobody has: 404 either way, but only mode none says it fetched nothing.
        let (status, body) = app.fetch("/example.com/nothing/@v/v1.0.0.info").await;
        assert_eq!(status, 404);
        if String::from_utf8_lossy(&body).contains("fetches nothing") {
            break;
        }
        assert!(Instant::now() < deadline, "rules not reloaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Stored: served. Not stored: 404 through the go command, and the upstream is not asked.
    download(&app.address, "github.com/Agora-Test/Caps@v1.0.0")
        .await
        .unwrap_or_else(|e| panic!("stored caps under none: {e}"));
    let before = upstream.hits().len();
    let err = download(&app.address, "github.com/agoratest/multi/v2@v2.1.0")
        .await
        .expect_err("multi fetched under none");
    assert!(err.contains("fetches nothing"), "{err}");
    let (status, body) = app
        .fetch(&format!("/{}/@v/list", esc("github.com/Agora-Test/Caps")))
        .await;
    assert_eq!(
        (status, String::from_utf8_lossy(&body).as_ref()),
        (200, "v1.0.0\n")
    );
    let (status, _) = app.fetch("/github.com/agoratest/multi/v2/@latest").await;
    assert_eq!(status, 404);
    assert_eq!(upstream.hits().len(), before, "{:?}", upstream.hits());
    assert!(
        stored(&app, "github.com/agoratest/multi/v2")
            .await
            .is_empty()
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_direct_fetches_from_git_never_from_the_proxy(pool: sqlx::PgPool) {
    let f = go_fixture();
    let upstream = TestUpstream::start(f.tree.clone());
    let rules_dir = tempfile::tempdir().expect("tmp");
    let rules = write_rules(
        rules_dir.path(),
        "[[rule]]\npattern = \"github.com/Agora-Test\"\naction = \"direct\"\n",
    );
    let gitconfig = f.root.join("gitconfig").display().to_string();
    // The upstream list does not mention direct: the rules make agora build it anyway.
    let app = spawn_app_with(
        pg_store(pool),
        &upstream.url(),
        &[
            ("AGORA_POLICY__RULES_FILE", rules.as_str()),
            ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", gitconfig.as_str()),
        ],
    )
    .await;
    download(&app.address, "github.com/Agora-Test/Caps@v1.0.0")
        .await
        .unwrap_or_else(|e| panic!("caps direct: {e}"));
    download(&app.address, "github.com/agoratest/multi@v1.0.0")
        .await
        .unwrap_or_else(|e| panic!("multi through the proxy: {e}"));
    let hits = upstream.hits();
    assert!(
        hits.iter().all(|h| !h.contains("!agora-!test")),
        "a direct module reached the proxy: {hits:?}"
    );
    assert!(
        hits.iter().any(|h| h.contains("agoratest/multi")),
        "{hits:?}"
    );
    assert_eq!(stored(&app, "github.com/Agora-Test/Caps").await, ["v1.0.0"]);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_async_answers_404_then_fills_once_across_two_replicas(pool: sqlx::PgPool) {
    let url = database_url(&pool);
    let upstream = TestUpstream::start(go_fixture().tree.clone());
    let data = tempfile::tempdir().expect("tmp");
    let rules = write_rules(data.path(), "[default]\nmode = \"async\"\n");
    let env = [("AGORA_POLICY__RULES_FILE", rules.as_str())];
    let a = start_replica_with(&url, &format!("{}/r0", upstream.url()), data.path(), &env);
    let b = start_replica_with(&url, &format!("{}/r1", upstream.url()), data.path(), &env);
    // Slow zips, so both replicas' background fills overlap.
    upstream.fault(".zip", Fault::Delay(Duration::from_millis(500)), None);

    let target = "github.com/agoratest/multi/v2@v2.1.0";
    let err = download(&a.address, target)
        .await
        .expect_err("async answered at once");
    assert!(
        err.contains("fetching in the background, retry shortly"),
        "{err}"
    );
    let client = crate::helpers::client();
    let path = format!("/{}/@v/v2.1.0.zip", esc("github.com/agoratest/multi/v2"));
    let first_b = client
        .get(format!("{}{path}", b.address))
        .send()
        .await
        .expect("b");
    assert_eq!(first_b.status().as_u16(), 404);

    let deadline = Instant::now() + Duration::from_secs(30);
    for replica in [&a, &b] {
        loop {
            let status = client
                .get(format!("{}{path}", replica.address))
                .send()
                .await
                .expect("poll")
                .status()
                .as_u16();
            if status == 200 {
                break;
            }
            assert_eq!(status, 404);
            assert!(Instant::now() < deadline, "never filled");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    download(&b.address, target)
        .await
        .unwrap_or_else(|e| panic!("after the fill: {e}"));
    download(&a.address, target)
        .await
        .unwrap_or_else(|e| panic!("after the fill: {e}"));
    assert_eq!(
        upstream.hits_ending("multi/v2/@v/v2.1.0.zip"),
        1,
        "{:?}",
        upstream.hits()
    );
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn policy_an_invalid_rules_file_stops_the_start(pool: sqlx::PgPool) {
    let dir = tempfile::tempdir().expect("tmp");
    let rules = write_rules(
        dir.path(),
        "[[rule]]\npattern = \"a.example\"\nmode = \"redirect\"\nupstream = \"nowhere\"\n",
    );
    let settings = crate::helpers::settings(
        "off",
        dir.path(),
        &[("AGORA_POLICY__RULES_FILE", rules.as_str())],
    );
    let err = agora::http::startup::Application::build_with_stores(&settings, pg_store(pool))
        .err()
        .expect("started with an invalid rules file");
    let msg = err.to_string();
    assert!(msg.contains("rules.toml"), "{msg}");
    assert!(
        msg.contains("rule 1") && msg.contains("\"nowhere\""),
        "{msg}"
    );
}
