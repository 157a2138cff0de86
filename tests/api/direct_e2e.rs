//! Direct mode against the go command: agora reads the corpus repositories itself, and every
//! answer agrees with what `GOPROXY=direct` put in the go command's module cache.

use std::path::Path;

use crate::direct_fixture::{REQUIRED, build_through, corpus, go_versions};
use crate::helpers::{TestApp, esc, pg_store, spawn_app_with};
use crate::upstream::TestUpstream;

pub fn gitconfig_env(root: &Path) -> String {
    root.join("gitconfig").display().to_string()
}

async fn direct_app(pool: sqlx::PgPool, upstream: &str, extra: &[(&str, &str)]) -> TestApp {
    let cfg = gitconfig_env(&corpus().root);
    let mut env: Vec<(&str, &str)> = vec![("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str())];
    env.extend_from_slice(extra);
    spawn_app_with(pg_store(pool), upstream, &env).await
}

/// Every `.info`, `.mod` and `list` file under the go command's download cache.
fn cache_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read cache dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(name) = p.file_name().and_then(|n| n.to_str())
                && (name.ends_with(".info") || name.ends_with(".mod") || name == "list")
                && p.parent().is_some_and(|q| q.ends_with("@v"))
            {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_build_and_answers_match_the_go_command(pool: sqlx::PgPool) {
    let c = corpus();
    let app = direct_app(pool, "direct", &[]).await;

    let goproxy = app.address.clone();
    let out = tokio::task::spawn_blocking(move || build_through(&goproxy))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("go build through agora direct: {e}"));
    assert_eq!(out.trim(), "caps 1 2 sub three true 1.2 22020096");

    // .info and .mod exactly as the go command's module cache has them.
    let download = c.modcache.join("cache/download");
    let files = cache_files(&download);
    assert!(files.len() > 20, "{files:?}");
    let mut modules = Vec::new();
    for rel in &files {
        let want = std::fs::read(download.join(rel)).expect("read cache file");
        if rel.ends_with("/list") {
            modules.push(rel.trim_end_matches("/@v/list").to_string());
            continue;
        }
        let (status, got) = app.fetch(&format!("/{rel}")).await;
        assert_eq!(status, 200, "{rel}: {}", String::from_utf8_lossy(&got));
        if rel.ends_with(".info") {
            assert_eq!(json(&got), json(&want), "{rel}");
        } else {
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{rel}"
            );
        }
    }
    // list: what `go list -m -versions -retracted` says with GOPROXY=direct.
    for (module, _) in REQUIRED {
        let want = go_versions(module).unwrap_or_else(|e| panic!("{e}"));
        let (status, got) = app.fetch(&format!("/{}/@v/list", esc(module))).await;
        assert_eq!(status, 200, "{module}");
        let got: Vec<String> = String::from_utf8_lossy(&got)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(got, want, "list of {module}");
    }
    assert!(modules.iter().any(|m| m.contains("pseudo")), "{modules:?}");

    // Queries resolve to the canonical versions the go command computed.
    let (pseudo, hash) = &c.pseudo;
    assert!(pseudo.starts_with("v1.0.1-0.20240506070809-"), "{pseudo}");
    for query in ["main", hash.as_str(), &hash[..12], &hash[..7]] {
        let (status, body) = app
            .fetch(&format!("/github.com/agoratest/pseudo/@v/{query}.info"))
            .await;
        assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&body));
        let v = json(&body);
        assert_eq!(v["Version"], pseudo.as_str(), "{query}");
        assert_eq!(v["Origin"]["Hash"], hash.as_str(), "{query}");
    }
    let cases = [
        // The tag, not the untagged head ahead of it: `go list -m M@latest` (direct_latest.rs).
        ("github.com/agoratest/pseudo/@latest", "v1.0.0"),
        (
            "github.com/agoratest/legacy/@v/v2.0.0.info",
            "v2.0.0+incompatible",
        ),
        (
            "github.com/agoratest/legacy/@v/v3.0.0.info",
            "v3.0.0+incompatible",
        ),
        ("github.com/agoratest/retract/@latest", "v1.2.0"),
        ("github.com/agoratest/multi/sub/@v/v0.1.0.info", "v0.1.0"),
        ("github.com/!agora-!test/!caps/@latest", "v1.0.0"),
    ];
    for (path, want) in cases {
        let (status, body) = app.fetch(&format!("/{path}")).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(json(&body)["Version"], want, "{path}");
    }
    // Not modules, not versions.
    for path in [
        "github.com/agoratest/multi/v3/@v/v3.0.0.info",
        "github.com/agoratest/pseudo/@v/nosuchbranch.info",
        "github.com/agoratest/nosuchrepo/@v/list",
        "github.com/agoratest/@v/list",
        "github.com/agoratest/pseudo/@v/v1.0.1-0.20240506070809-000000000000.info",
    ] {
        let (status, body) = app.fetch(&format!("/{path}")).await;
        assert_eq!(status, 404, "{path}: {}", String::from_utf8_lossy(&body));
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_private_modules_never_reach_the_proxy(pool: sqlx::PgPool) {
    let empty = tempfile::tempdir().expect("tempdir");
    let upstream = TestUpstream::start(empty.path().to_path_buf());
    let app = direct_app(
        pool,
        &upstream.url(),
        &[("AGORA_PRIVATE", "github.com/Agora-Test,*.corp.example")],
    )
    .await;
    for tail in [
        "@v/list",
        "@v/v1.0.0.info",
        "@v/v1.0.0.mod",
        "@v/v1.0.0.zip",
        "@latest",
    ] {
        let (status, body) = app
            .fetch(&format!("/github.com/!agora-!test/!caps/{tail}"))
            .await;
        assert_eq!(status, 200, "{tail}: {}", String::from_utf8_lossy(&body));
    }
    let (status, _) = app.fetch("/github.com/agoratest/legacy/@v/list").await;
    assert_eq!(status, 404, "public modules go to the (empty) proxy");
    let hits = upstream.hits();
    assert!(
        hits.iter()
            .all(|h| !h.to_ascii_lowercase().contains("agora-!test")),
        "the proxy saw a private module: {hits:?}"
    );
    assert!(
        hits.iter().any(|h| h.contains("legacy")),
        "the proxy was asked for the public one: {hits:?}"
    );
}
