//! Direct mode when repositories and networks misbehave.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::direct_fixture::{Step, make_repo};
use crate::fixture::{git_at, gitconfig_for, write};
use crate::helpers::{pg_store, spawn_app_with};

const D1: &str = "2024-03-04T05:06:07Z";

/// A one-module repository `module` tagged v1.0.0, and a gitconfig pointing `https://{module}`
/// at it (plus `extra` rules).
fn small_repo(dir: &Path, module: &str, extra: &[(&str, PathBuf)]) -> (PathBuf, PathBuf) {
    let repo = dir.join("repo");
    let gomod = format!("module {module}\n\ngo 1.21\n");
    make_repo(
        &repo,
        &[Step {
            files: &[("go.mod", gomod.as_bytes()), ("a.go", b"package a\n")],
            tags: &["v1.0.0"],
            date: D1,
        }],
    )
    .expect("repo");
    let mut rules = vec![(module, repo.clone())];
    rules.extend(extra.iter().map(|(m, p)| (*m, p.clone())));
    let cfg = dir.join("gitconfig");
    write(dir, "gitconfig", gitconfig_for(&rules).as_bytes()).expect("gitconfig");
    (repo, cfg)
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_stored_versions_survive_moved_tags_and_vanished_repositories(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = "github.com/agoratest/vanish";
    let (repo, cfg) = small_repo(tmp.path(), module, &[]);
    let cfg = cfg.display().to_string();
    let store = pg_store(pool);
    let env = [
        ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
        ("AGORA_DIRECT__REFRESH_SECS", "0"),
    ];
    let app = spawn_app_with(store.clone(), "direct", &env).await;
    let base = format!("/{module}/@v/v1.0.0");
    let mut first = Vec::new();
    for ext in ["info", "mod", "zip"] {
        let (status, body) = app.fetch(&format!("{base}.{ext}")).await;
        assert_eq!(status, 200, "{ext}: {}", String::from_utf8_lossy(&body));
        first.push(body);
    }

    // The tag moves to another commit: the stored version does not change.
    write(&repo, "a.go", b"package a\n\nconst Moved = true\n").expect("write");
    git_at(&repo, "2024-06-01T00:00:00Z", &["commit", "-qam", "moved"]).expect("commit");
    git_at(&repo, "2024-06-01T00:00:00Z", &["tag", "-f", "v1.0.0"]).expect("tag");
    for (i, ext) in ["info", "mod", "zip"].iter().enumerate() {
        let (status, body) = app.fetch(&format!("{base}.{ext}")).await;
        assert_eq!(status, 200, "{ext}");
        assert_eq!(body, first[i], "{ext} changed after the tag moved");
    }

    // The repository vanishes: this replica and a new one with an empty disk cache still serve it.
    std::fs::remove_dir_all(&repo).expect("remove repo");
    let fresh = spawn_app_with(store, "direct", &env).await;
    for a in [&app, &fresh] {
        for (i, ext) in ["info", "mod", "zip"].iter().enumerate() {
            let (status, body) = a.fetch(&format!("{base}.{ext}")).await;
            assert_eq!(status, 200, "{ext}: {}", String::from_utf8_lossy(&body));
            assert_eq!(body, first[i], "{ext}");
        }
        let (status, body) = a.fetch(&format!("/{module}/@v/list")).await;
        assert_eq!(status, 200);
        assert_eq!(&body[..], b"v1.0.0\n");
    }
    let (status, _) = fresh.fetch(&format!("/{module}/@v/v1.0.1.info")).await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_hanging_git_is_killed_with_a_504(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = "github.com/agoratest/hang";
    let (_, cfg) = small_repo(tmp.path(), module, &[]);
    let pidfile = tmp.path().join("pid");
    let script = tmp.path().join("git-hangs");
    write(
        tmp.path(),
        "git-hangs",
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *ls-remote*|*fetch*) echo $$ > {}; exec sleep 60 ;;\nesac\nexec git \"$@\"\n",
            pidfile.display()
        )
        .as_bytes(),
    )
    .expect("script");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");
    let (cfg, script) = (cfg.display().to_string(), script.display().to_string());
    let app = spawn_app_with(
        pg_store(pool),
        "direct",
        &[
            ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
            ("AGORA_DIRECT__GIT", script.as_str()),
            ("AGORA_DIRECT__GIT_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let started = Instant::now();
    let (status, body) = app.fetch(&format!("/{module}/@v/list")).await;
    let took = started.elapsed();
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("timed out"), "{body}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // The hung process is gone.
    let pid = std::fs::read_to_string(&pidfile).expect("pid");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "git {pid} still running"
    );
}

/// Serves `html` to every request on a loopback port.
fn meta_server(html: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                html.len(),
                html
            );
            let _ = conn.write_all(resp.as_bytes());
        }
    });
    port
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_discovery_is_guarded_and_configurable(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = "vanity.test/mod";
    let (_, cfg) = small_repo(tmp.path(), "vanity.test/repo", &[]);
    let port = meta_server(
        "<html><head><meta name=\"go-import\" content=\"vanity.test/mod git https://vanity.test/repo\"></head></html>"
            .to_string(),
    );
    // The repository's go.mod names vanity.test/repo; serve one that names the module.
    let repo = tmp.path().join("repo");
    write(&repo, "go.mod", b"module vanity.test/mod\n\ngo 1.21\n").expect("write");
    git_at(&repo, D1, &["commit", "-qam", "rename"]).expect("commit");
    git_at(&repo, D1, &["tag", "v1.1.0"]).expect("tag");

    let (cfg, hosts) = (
        cfg.display().to_string(),
        format!("vanity.test=127.0.0.1:{port}"),
    );
    let store = pg_store(pool);
    let refused = spawn_app_with(
        store.clone(),
        "direct",
        &[
            ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
            ("AGORA_DIRECT__HOSTS", hosts.as_str()),
            ("AGORA_DIRECT__INSECURE", "vanity.test"),
        ],
    )
    .await;
    let (status, body) = refused.fetch(&format!("/{module}/@v/list")).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("refused") && body.contains("127.0.0.1"),
        "{body}"
    );

    let allowed = spawn_app_with(
        store,
        "direct",
        &[
            ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
            ("AGORA_DIRECT__HOSTS", hosts.as_str()),
            ("AGORA_DIRECT__INSECURE", "vanity.test"),
            ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
        ],
    )
    .await;
    let (status, body) = allowed.fetch(&format!("/{module}/@v/list")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(&body[..], b"v1.0.0\nv1.1.0\n");
    for ext in ["info", "mod", "zip"] {
        let (status, body) = allowed.fetch(&format!("/{module}/@v/v1.1.0.{ext}")).await;
        assert_eq!(status, 200, "{ext}: {}", String::from_utf8_lossy(&body));
    }
    // Without the insecure pattern, https only: nothing listens there.
    let (status, _) = allowed.fetch("/vanity.test/other/@v/list").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn direct_repository_cache_is_incremental_and_evicts_least_recently_used() {
    use agora::upstream::direct::cache::{CacheLimits, RepoCache};
    use agora::upstream::direct::git::{Git, GitOptions};
    use agora::upstream::direct::guard::{Guard, NetPolicy};
    use agora::upstream::direct::host::git::GitHost;
    use agora::upstream::direct::host::{Kind, Mirror};

    let tmp = tempfile::tempdir().expect("tempdir");
    // Incompressible, so each repository really takes about this much disk.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let mut urls = Vec::new();
    for name in ["a", "b"] {
        let dir = tmp.path().join(name);
        let gomod = format!("module example.com/{name}\n");
        make_repo(
            &dir,
            &[Step {
                files: &[("go.mod", gomod.as_bytes()), ("x.bin", &noise)],
                tags: &["v1.0.0"],
                date: D1,
            }],
        )
        .expect("repo");
        urls.push((dir.clone(), format!("file://{}", dir.display())));
    }
    // Local repositories: allowed by name in git's configuration, as an operator would.
    let gitconfig = tmp.path().join("gitconfig");
    write(
        tmp.path(),
        "gitconfig",
        b"[protocol \"file\"]\n\tallow = always\n",
    )
    .expect("gitconfig");
    let git = Git::new(GitOptions {
        program: "git".into(),
        timeout: Duration::from_secs(30),
        max_processes: 2,
        global_config: Some(gitconfig),
    });
    let cache_dir = tmp.path().join("cache");
    let guard = std::sync::Arc::new(Guard {
        policy: NetPolicy::default(),
        timeout: Duration::from_secs(5),
        trust: agora::upstream::trust::Trust::load("").expect("trust"),
    });
    // Room for one repository, not two.
    let limits = CacheLimits {
        max_bytes: 300_000,
        max_repos: 10,
        refresh: Duration::ZERO,
    };
    let mirror: std::sync::Arc<dyn Mirror> = std::sync::Arc::new(GitHost::new(git));
    let cache = RepoCache::new(cache_dir.clone(), limits, vec![mirror], guard).expect("cache");
    let count = || {
        std::fs::read_dir(&cache_dir)
            .map(|d| d.count())
            .unwrap_or(0)
    };

    let a = cache
        .open(Kind::Git, &urls[0].1, false, false)
        .await
        .expect("open a");
    assert_eq!(a.refs.get("refs/tags/v1.0.0").map(str::len), Some(40));
    drop(a);
    // A new tag appears: the next open sees it (one ls-remote, one incremental fetch).
    let (dir_a, url_a) = &urls[0];
    write(dir_a, "y.go", b"package y\n").expect("write");
    git_at(dir_a, D1, &["add", "-A"]).expect("add");
    git_at(dir_a, D1, &["commit", "-qm", "two"]).expect("commit");
    git_at(dir_a, D1, &["tag", "v1.1.0"]).expect("tag");
    let a = cache
        .open(Kind::Git, url_a, false, false)
        .await
        .expect("reopen a");
    assert!(a.refs.get("refs/tags/v1.1.0").is_some());
    drop(a);
    assert_eq!(count(), 1);

    // Opening b pushes the cache over its bound: a, least recently used, goes.
    let b = cache
        .open(Kind::Git, &urls[1].1, false, false)
        .await
        .expect("open b");
    drop(b);
    assert_eq!(count(), 1, "a was not evicted");
    // And comes back on demand.
    let a = cache
        .open(Kind::Git, url_a, false, false)
        .await
        .expect("open a again");
    assert!(a.refs.get("refs/tags/v1.1.0").is_some());
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_archive_output_stops_at_the_zip_limit(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = "github.com/agoratest/huge";
    let repo = tmp.path().join("repo");
    let gomod = format!("module {module}\n\ngo 1.21\n");
    // Incompressible, so git's archive of it is as large as it.
    let data: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    make_repo(
        &repo,
        &[Step {
            files: &[("go.mod", gomod.as_bytes()), ("data.bin", &data)],
            tags: &["v1.0.0"],
            date: D1,
        }],
    )
    .expect("repo");
    write(
        tmp.path(),
        "gitconfig",
        gitconfig_for(&[(module, repo)]).as_bytes(),
    )
    .expect("gitconfig");
    let cfg = tmp.path().join("gitconfig").display().to_string();
    let store = pg_store(pool);
    let app = spawn_app_with(
        store.clone(),
        "direct",
        &[
            ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
            ("AGORA_FETCH__MAX_ZIP_BYTES", "1048576"),
        ],
    )
    .await;
    let (status, body) = app.fetch(&format!("/{module}/@v/v1.0.0.zip")).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("1048576"), "the limit is named: {body}");
    let stored = store
        .versions
        .version(
            &gomod::module::ModulePath::parse(module).expect("path"),
            &gomod::version::Version::parse("v1.0.0").expect("version"),
        )
        .await
        .expect("store");
    assert!(stored.is_none());
    // Nothing of the archive is left on disk, and nothing past the limit was ever written.
    let leftovers: Vec<_> = walk(app.data_dir())
        .into_iter()
        .filter(|(p, _)| !p.components().any(|c| c.as_os_str() == "git"))
        .filter(|(_, len)| *len > 0)
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// Every file under `dir` with its size.
fn walk(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        match e.metadata() {
            Ok(m) if m.is_dir() => out.extend(walk(&path)),
            Ok(m) => out.push((path, m.len())),
            Err(_) => {}
        }
    }
    out
}

/// The repositories in a server's cache, by directory.
fn cached_repos(app: &crate::helpers::TestApp) -> Vec<PathBuf> {
    std::fs::read_dir(app.data_dir().join("git"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("HEAD").is_file())
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_fetches_shallow_until_a_question_needs_history(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = "github.com/agoratest/shallow";
    let (repo, cfg) = small_repo(tmp.path(), module, &[]);
    // v1.0.0, an untagged commit, then v1.1.0 at the head.
    write(&repo, "a.go", b"package a\n\nconst B = 2\n").expect("write");
    git_at(
        &repo,
        "2024-05-06T07:08:09Z",
        &["commit", "-qam", "between"],
    )
    .expect("commit");
    let between = git_at(&repo, D1, &["rev-parse", "HEAD"]).expect("rev-parse");
    let between = between.trim().to_string();
    write(&repo, "a.go", b"package a\n\nconst B = 3\n").expect("write");
    git_at(&repo, "2024-07-08T09:10:11Z", &["commit", "-qam", "head"]).expect("commit");
    git_at(&repo, D1, &["tag", "v1.1.0"]).expect("tag");
    let cfg = cfg.display().to_string();
    let app = spawn_app_with(
        pg_store(pool),
        "direct",
        &[("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str())],
    )
    .await;
    let count = |dir: &Path| {
        git_at(dir, D1, &["rev-list", "--all", "--count"])
            .expect("rev-list")
            .trim()
            .parse::<u32>()
            .expect("count")
    };

    // Tagged versions, list and @latest: the tips only, at depth 1.
    for path in ["@v/list", "@v/v1.0.0.info", "@v/v1.0.0.zip", "@latest"] {
        let (status, body) = app.fetch(&format!("/{module}/{path}")).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    }
    let cached = cached_repos(&app);
    assert_eq!(cached.len(), 1, "{cached:?}");
    let dir = &cached[0];
    assert!(dir.join("shallow").is_file(), "fetched shallow");
    assert_eq!(count(dir), 2, "the two tagged commits, not the one between");

    // A commit no ref names, as a pseudo-version on v1.0.0: the whole history, once.
    let (status, body) = app
        .fetch(&format!("/{module}/@v/{}.info", &between[..12]))
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"Version\":\"v1.0.1-0.20240506070809-") && body.contains(&between),
        "{body}"
    );
    assert!(!dir.join("shallow").exists(), "deepened");
    assert_eq!(count(dir), 3);

    // A new tag later: the refresh fetches it as a complete repository does.
    write(&repo, "a.go", b"package a\n\nconst B = 4\n").expect("write");
    git_at(&repo, "2024-09-01T00:00:00Z", &["commit", "-qam", "next"]).expect("commit");
    git_at(&repo, D1, &["tag", "v1.2.0"]).expect("tag");
    let (status, body) = app.fetch(&format!("/{module}/@v/v1.2.0.info")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(!dir.join("shallow").exists(), "still complete");
    assert_eq!(count(dir), 4);
}
