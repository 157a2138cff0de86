//! Fossil in direct mode against the go command: repositories served by `fossil server` on
//! loopback, found through `?go-get=1` meta tags, private (GOVCS allows fossil only for private
//! modules by default). The go command lists no versions for Fossil and names every check-in by
//! a `v0.0.0-` pseudo-version; agora's `list`, `.info`, `.mod`, zip hashes, `@latest` and queries
//! must be the same.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::direct_hg::{
    GoDirect, Sums, assert_same_sums_through, free_port, get, json, meta_server,
};
use crate::fixture::{go_binary, run, write};
use crate::helpers::{esc, fresh_sqlite, pg_store, spawn_app_with};
use crate::tls_relay::{TestCa, tls_front};

pub fn fossil_binary() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-vcs.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("running scripts/ensure-vcs.sh");
    assert!(out.status.success(), "ensure-vcs.sh failed");
    "fossil".to_string()
}

fn fossil(dir: &Path, home: &Path, args: &[&str]) -> Result<String, String> {
    run(Command::new(fossil_binary())
        .current_dir(dir)
        .env("FOSSIL_HOME", home)
        .env("FOSSIL_USER", "tester")
        .args(args))
}

/// `root/fossils/<name>.fossil` (SHA-1 hashes, which the go command needs), made of commits of
/// files; a branch `feature` off the last commit when `branch` says so.
fn make_fossil_repo(
    root: &Path,
    name: &str,
    commits: &[&[(&str, &str)]],
    branch: bool,
) -> Result<(), String> {
    let home = root.join("home");
    let repos = root.join("fossils");
    std::fs::create_dir_all(&repos).map_err(|e| e.to_string())?;
    let repo = repos.join(format!("{name}.fossil"));
    fossil(
        &repos,
        &home,
        &["new", "--sha1", &repo.display().to_string()],
    )?;
    let wc = root.join(format!("wc-{name}"));
    std::fs::create_dir_all(&wc).map_err(|e| e.to_string())?;
    fossil(&wc, &home, &["open", &repo.display().to_string()])?;
    for (i, files) in commits.iter().enumerate() {
        for (rel, data) in *files {
            write(&wc, rel, data.as_bytes())?;
        }
        fossil(&wc, &home, &["addremove"])?;
        fossil(
            &wc,
            &home,
            &["commit", "-m", &format!("commit {i}"), "--no-warnings"],
        )?;
    }
    if branch {
        write(
            &wc,
            "feature.go",
            b"package plain\n\nconst Feature = true\n",
        )?;
        fossil(&wc, &home, &["addremove"])?;
        fossil(
            &wc,
            &home,
            &[
                "commit",
                "-m",
                "feature",
                "--branch",
                "feature",
                "--no-warnings",
            ],
        )?;
    }
    fossil(&wc, &home, &["close"])?;
    Ok(())
}

struct FossilServe(Child);

impl Drop for FossilServe {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_fossil_answers_match_the_go_command(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().to_path_buf();
    std::fs::create_dir_all(root.join("home")).expect("home");
    make_fossil_repo(
        &root,
        "plain",
        &[
            &[
                ("go.mod", "module example.com/fossil/plain\n\ngo 1.21\n"),
                ("a.go", "package plain\n\nconst V = 1\n"),
                ("LICENSE", "Plain licence\n"),
            ],
            &[("a.go", "package plain\n\n// Two.\nconst V = 2\n")],
        ],
        true,
    )
    .unwrap_or_else(|e| panic!("fossil plain: {e}"));
    make_fossil_repo(
        &root,
        "multi",
        &[&[
            ("go.mod", "module example.com/fossil/multi\n\ngo 1.21\n"),
            ("m.go", "package multi\n"),
            ("LICENSE", "Multi licence\n"),
            (
                "sub/go.mod",
                "module example.com/fossil/multi/sub\n\ngo 1.21\n",
            ),
            ("sub/s.go", "package sub\n"),
        ]],
        false,
    )
    .unwrap_or_else(|e| panic!("fossil multi: {e}"));
    let port = free_port();
    let serve = FossilServe(
        Command::new(fossil_binary())
            .env("FOSSIL_HOME", root.join("home"))
            .arg("server")
            .arg(root.join("fossils"))
            .args(["--repolist", "--localhost", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("fossil server"),
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "fossil server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut html = String::from("<html><head>");
    for name in ["plain", "multi"] {
        html.push_str(&format!(
            "<meta name=\"go-import\" content=\"example.com/fossil/{name} fossil http://127.0.0.1:{port}/{name}\">"
        ));
    }
    html.push_str("</head></html>");
    let meta_port = meta_server(html);
    let app_dir = root.join("app");
    write(&app_dir, "go.mod", b"module example.com/app\n\ngo 1.21\n").expect("app");
    let go = GoDirect {
        go: go_binary(),
        root: root.clone(),
        app: app_dir,
        modcache: root.join("modcache-direct"),
        meta_port,
        env: vec![
            ("GOPRIVATE", "example.com/fossil".to_string()),
            ("FOSSIL_HOME", root.join("home").display().to_string()),
            ("USER", "tester".to_string()),
        ],
    };
    let hosts = format!("example.com=127.0.0.1:{meta_port}");
    let store = pg_store(pool);
    let env = [
        ("AGORA_DIRECT__HOSTS", hosts.as_str()),
        ("AGORA_DIRECT__INSECURE", "example.com"),
        ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
        ("AGORA_PRIVATE", "example.com/fossil"),
    ];
    let app = spawn_app_with(store.clone(), "direct", &env).await;

    let trunk = fossil(
        &root,
        &root.join("home"),
        &[
            "info",
            "-R",
            &root.join("fossils/plain.fossil").display().to_string(),
            "trunk",
        ],
    )
    .expect("info");
    let trunk = trunk
        .lines()
        .find_map(|l| l.strip_prefix("hash:"))
        .and_then(|l| l.split_whitespace().next())
        .expect("trunk hash")
        .to_string();
    let modules = [
        "example.com/fossil/plain",
        "example.com/fossil/multi",
        "example.com/fossil/multi/sub",
    ];
    let queries: Vec<(&str, String)> = vec![
        ("example.com/fossil/plain", "trunk".to_string()),
        ("example.com/fossil/plain", "feature".to_string()),
        ("example.com/fossil/plain", trunk[..12].to_string()),
        ("example.com/fossil/plain", trunk[..8].to_string()),
        ("example.com/fossil/multi", "trunk".to_string()),
        ("example.com/fossil/multi/sub", "trunk".to_string()),
    ];
    let (go, lists, answers) = tokio::task::spawn_blocking(move || {
        let mut lists = Vec::new();
        for m in modules {
            let listed = go.direct(&["list", "-m", "-json", "-versions", m])?;
            let latest = go.direct(&["list", "-m", "-json", &format!("{m}@latest")])?;
            lists.push((m, listed["Versions"].clone(), latest));
        }
        let mut answers = Vec::new();
        for (m, q) in &queries {
            let d = go.direct(&["mod", "download", "-json", &format!("{m}@{q}")])?;
            answers.push((m.to_string(), q.clone(), d));
        }
        Ok::<_, String>((go, lists, answers))
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("go command, direct: {e}"));

    for (m, versions, latest) in &lists {
        let e = esc(m);
        let got = get(&app, &format!("/{e}/@v/list")).await.expect("list");
        let got: Vec<&str> = std::str::from_utf8(&got).expect("utf8").lines().collect();
        let want: Vec<&str> = versions
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            got, want,
            "list of {m} (the go command lists none for fossil)"
        );
        let got = json(&get(&app, &format!("/{e}/@latest")).await.expect("latest"));
        assert_eq!(got["Version"], latest["Version"], "{m}@latest");
        assert_eq!(got["Time"], latest["Time"], "{m}@latest");
    }
    let mut sums = Sums::new();
    for (m, q, d) in &answers {
        let v = d["Version"].as_str().expect("version").to_string();
        assert!(v.starts_with("v0.0.0-"), "{m}@{q}: {v}");
        let e = esc(m);
        let got = json(
            &get(&app, &format!("/{e}/@v/{q}.info"))
                .await
                .expect("query"),
        );
        assert_eq!(got["Version"], d["Version"], "{m}@{q}");
        let info = std::fs::read(d["Info"].as_str().expect("Info")).expect("info file");
        let got = json(&get(&app, &format!("/{e}/@v/{v}.info")).await.expect("info"));
        assert_eq!(got, json(&info), "{m}@{v}.info");
        let gomod = std::fs::read(d["GoMod"].as_str().expect("GoMod")).expect("mod file");
        let got = get(&app, &format!("/{e}/@v/{v}.mod")).await.expect("mod");
        assert_eq!(got, gomod, "{m}@{v}.mod");
        sums.insert(
            format!("{m}@{v}"),
            (d["Sum"].clone(), d["GoModSum"].clone()),
        );
    }

    assert_same_sums_through(go.clone(), app.address.clone(), sums.clone()).await;

    // The same repositories at `https://fossil.test`, whose certificate only a private CA
    // vouches for: fossil goes through agora's intercepting egress proxy, which trusts that CA
    // through `tls.ca_file`, and every answer is the same.
    let ca = TestCa::new();
    let front = tls_front(
        "127.0.0.1",
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        &ca,
        &["fossil.test"],
    )
    .await;
    let mut html = String::from("<html><head>");
    for name in ["plain", "multi"] {
        html.push_str(&format!(
            "<meta name=\"go-import\" content=\"example.com/fossil/{name} fossil https://fossil.test:{front}/{name}\">"
        ));
    }
    html.push_str("</head></html>");
    let tls_meta = meta_server(html);
    let tls_hosts = format!("example.com=127.0.0.1:{tls_meta},fossil.test=127.0.0.1:{front}");
    let ca_file = ca.pem_file.display().to_string();
    let tls_db = tmp.path().join("tls-db");
    let tls_env = [
        ("AGORA_DIRECT__HOSTS", tls_hosts.as_str()),
        ("AGORA_DIRECT__INSECURE", "example.com"),
        ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
        ("AGORA_PRIVATE", "example.com/fossil"),
        ("AGORA_TLS__CA_FILE", ca_file.as_str()),
    ];
    let tls_app = spawn_app_with(fresh_sqlite(&tls_db).await, "direct", &tls_env).await;
    for (m, q, d) in &answers {
        let e = esc(m);
        let got = json(
            &get(&tls_app, &format!("/{e}/@v/{q}.info"))
                .await
                .expect("query over https"),
        );
        assert_eq!(got["Version"], d["Version"], "{m}@{q} over https");
    }
    assert_same_sums_through(go, tls_app.address.clone(), sums).await;

    // Names and hashes only: nothing else is passed to fossil.
    for q in ["tip", "current", "2024-01-01", "abc", "nosuchbranch"] {
        let (status, body) = app
            .fetch(&format!("/example.com/fossil/plain/@v/{q}.info"))
            .await;
        assert!(
            status == 404 || status == 400,
            "{q}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let public = spawn_app_with(store, "direct", &env[..3]).await;
    let (status, body) = public
        .fetch("/example.com/fossil/plain/@v/trunk.info")
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("GOVCS disallows using fossil for public example.com/fossil/plain"),
        "{body}"
    );
    drop(serve);
}
