//! Subversion in direct mode against the go command: repositories served by `svnserve` on
//! loopback, found through `?go-get=1` meta tags, private (GOVCS allows svn only for private
//! modules by default). The go command lists no versions for Subversion and names every revision
//! by a `v0.0.0-` pseudo-version; agora's `list`, `.info`, `.mod`, zip hashes, `@latest` and
//! revision queries must be the same.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::direct_hg::{
    GoDirect, Sums, assert_same_sums_through, free_port, get, hg_binary, json, meta_server,
};
use crate::fixture::{go_binary, run, write};
use crate::helpers::{esc, pg_store, spawn_app_with};

fn svn(dir: &Path, args: &[&str]) -> Result<String, String> {
    run(Command::new("svn")
        .current_dir(dir)
        .env("LC_ALL", "C")
        .arg("--non-interactive")
        .args(args))
}

/// A repository `root/svn/<name>` with a `trunk`, made of commits of files (paths under the
/// repository root).
fn make_svn_repo(root: &Path, name: &str, commits: &[&[(&str, &str)]]) -> Result<(), String> {
    let repos = root.join("svn");
    std::fs::create_dir_all(&repos).map_err(|e| e.to_string())?;
    run(Command::new("svnadmin").arg("create").arg(repos.join(name)))?;
    let wc = root.join(format!("wc-{name}"));
    let url = format!("file://{}", repos.join(name).display());
    svn(root, &["checkout", "-q", &url, &wc.display().to_string()])?;
    for (i, files) in commits.iter().enumerate() {
        for (rel, data) in *files {
            write(&wc, rel, data.as_bytes())?;
        }
        svn(&wc, &["add", "-q", "--force", "."])?;
        svn(&wc, &["commit", "-q", "-m", &format!("commit {i}")])?;
    }
    Ok(())
}

struct SvnServe(Child);

impl SvnServe {
    fn start(root: &Path, port: u16) -> Self {
        let child = Command::new("svnserve")
            .args(["-d", "--foreground", "--listen-host", "127.0.0.1"])
            .args(["--listen-port", &port.to_string(), "-r"])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("svnserve");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "svnserve did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child)
    }
}

impl Drop for SvnServe {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_svn_answers_match_the_go_command(pool: sqlx::PgPool) {
    hg_binary(); // installs subversion too
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().to_path_buf();
    std::fs::create_dir_all(root.join("home")).expect("home");
    // A module at trunk, changed once more, then a commit elsewhere in the repository (the
    // latest revision of trunk is the last that changed trunk).
    make_svn_repo(
        &root,
        "plain",
        &[
            &[
                ("trunk/go.mod", "module example.com/svn/plain\n\ngo 1.21\n"),
                ("trunk/a.go", "package plain\n\nconst V = 1\n"),
                ("trunk/LICENSE", "Plain licence\n"),
            ],
            &[("trunk/a.go", "package plain\n\nconst V = 2\n")],
            &[("branches/b/x.txt", "elsewhere\n")],
        ],
    )
    .unwrap_or_else(|e| panic!("svn plain: {e}"));
    // A module in a subdirectory of trunk, with the LICENSE at trunk's root.
    make_svn_repo(
        &root,
        "multi",
        &[&[
            ("trunk/go.mod", "module example.com/svn/multi\n\ngo 1.21\n"),
            ("trunk/m.go", "package multi\n"),
            ("trunk/LICENSE", "Multi licence\n"),
            (
                "trunk/sub/go.mod",
                "module example.com/svn/multi/sub\n\ngo 1.21\n",
            ),
            ("trunk/sub/s.go", "package sub\n"),
        ]],
    )
    .unwrap_or_else(|e| panic!("svn multi: {e}"));
    let port = free_port();
    let serve = SvnServe::start(&root.join("svn"), port);
    let mut html = String::from("<html><head>");
    for name in ["plain", "multi"] {
        html.push_str(&format!(
            "<meta name=\"go-import\" content=\"example.com/svn/{name} svn svn://127.0.0.1:{port}/{name}/trunk\">"
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
        env: vec![("GOPRIVATE", "example.com/svn".to_string())],
    };
    let hosts = format!("example.com=127.0.0.1:{meta_port}");
    let store = pg_store(pool);
    let env = [
        ("AGORA_DIRECT__HOSTS", hosts.as_str()),
        ("AGORA_DIRECT__INSECURE", "example.com"),
        ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
        ("AGORA_PRIVATE", "example.com/svn"),
    ];
    let app = spawn_app_with(store.clone(), "direct", &env).await;

    let modules = [
        "example.com/svn/plain",
        "example.com/svn/multi",
        "example.com/svn/multi/sub",
    ];
    // (module, query) → what `go mod download -json` made of it.
    let queries: Vec<(&str, &str)> = vec![
        ("example.com/svn/plain", "latest"),
        ("example.com/svn/plain", "1"),
        ("example.com/svn/plain", "2"),
        ("example.com/svn/plain", "3"),
        ("example.com/svn/multi", "latest"),
        ("example.com/svn/multi/sub", "latest"),
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
            answers.push((m.to_string(), q.to_string(), d));
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
        assert_eq!(got, want, "list of {m} (the go command lists none for svn)");
        let got = json(&get(&app, &format!("/{e}/@latest")).await.expect("latest"));
        assert_eq!(got["Version"], latest["Version"], "{m}@latest");
        assert_eq!(
            got["Time"], latest["Time"],
            "{m}@latest (microseconds kept)"
        );
        assert!(
            latest["Version"]
                .as_str()
                .is_some_and(|v| v.starts_with("v0.0.0-")),
            "{latest}"
        );
    }
    let mut sums = Sums::new();
    for (m, q, d) in &answers {
        let v = d["Version"].as_str().expect("version").to_string();
        let e = esc(m);
        let got = json(
            &get(&app, &format!("/{e}/@v/{q}.info"))
                .await
                .expect("query"),
        );
        assert_eq!(got["Version"], d["Version"], "{m}@{q}");
        // .info and .mod as the go command's module cache has them.
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
    // Revision 3 changed nothing under trunk: it names revision 2's pseudo-version.
    let by_query = |q: &str| {
        answers
            .iter()
            .find(|(m, qq, _)| m == "example.com/svn/plain" && qq == q)
            .map(|(_, _, d)| d["Version"].clone())
    };
    assert_eq!(by_query("3"), by_query("2"));
    assert_eq!(by_query("latest"), by_query("2"));
    assert!(
        by_query("2").is_some_and(|v| v.as_str().is_some_and(|v| v.ends_with("-000000000002"))),
        "{answers:?}"
    );

    // The zips: downloaded again through agora, the same hashes.
    assert_same_sums_through(go, app.address.clone(), sums).await;

    // Revisions are numbers: anything else is unknown, never passed to svn as a peg revision.
    for q in ["HEAD", "{2024-01-01}", "99", "v1.0.0"] {
        let (status, body) = app
            .fetch(&format!("/example.com/svn/plain/@v/{q}.info"))
            .await;
        assert!(
            status == 404 || status == 400,
            "{q}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }

    // Public, svn is refused by the default GOVCS rules, in the go command's words.
    let public = spawn_app_with(store, "direct", &env[..3]).await;
    let (status, body) = public.fetch("/example.com/svn/plain/@v/1.info").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("GOVCS disallows using svn for public example.com/svn/plain"),
        "{body}"
    );
    drop(serve);
}
