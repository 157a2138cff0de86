//! Mercurial in direct mode against the go command: the shapes of the git corpus committed with
//! hg, served by `hg serve` on loopback and found through `?go-get=1` meta tags (served through
//! the go command's HTTP proxy variables, and agora's `direct.hosts`). Every answer, `list`,
//! `.info`, `.mod`, the zip's hash, `@latest` and queries, agrees with `GOPROXY=direct`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixture::{go_binary, go_env, run, write};
use crate::helpers::{TestApp, esc, pg_store, spawn_app_with};

const D1: i64 = 1_709_528_767; // 2024-03-04T05:06:07Z
const D2: i64 = 1_714_979_289; // 2024-05-06T07:08:09Z
const D3: i64 = 1_720_429_811; // 2024-07-08T09:10:11Z

pub fn hg_binary() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-vcs.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("running scripts/ensure-vcs.sh");
    assert!(
        out.status.success(),
        "ensure-vcs.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// hg for building fixtures: no user configuration, a fixed author.
fn hg(dir: &Path, args: &[&str]) -> Result<String, String> {
    run(Command::new(hg_binary())
        .current_dir(dir)
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .env("HGUSER", "Agora Test <test@example.com>")
        .args(args))
}

/// One commit: files written, tags added after it (each its own "Added tag" commit, as hg does),
/// at a unix time.
struct Step<'a> {
    files: &'a [(&'a str, &'a str)],
    tags: &'a [&'a str],
    at: i64,
}

fn make_hg_repo(dir: &Path, steps: &[Step<'_>]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    hg(dir, &["init", "."])?;
    for (i, s) in steps.iter().enumerate() {
        for (rel, data) in s.files {
            write(dir, rel, data.as_bytes())?;
        }
        let date = format!("{} 0", s.at);
        hg(dir, &["addremove", "-q"])?;
        hg(
            dir,
            &["commit", "-q", "-m", &format!("step {i}"), "-d", &date],
        )?;
        let rev = hg(dir, &["log", "-r", ".", "-T", "{node}"])?;
        for t in s.tags {
            hg(dir, &["tag", "-r", rev.trim(), "-d", &date, t])?;
        }
    }
    Ok(())
}

fn go_mod(module: &str) -> String {
    format!("module {module}\n\ngo 1.21\n")
}

/// The repositories, by name, with the module paths (under `example.com/hg/`) asked about.
fn corpus(repos: &Path) -> Result<Vec<&'static str>, String> {
    let r = |name: &str| repos.join(name);
    // Tagged, then a commit ahead of the tag: a pseudo-version with the tag as its base.
    make_hg_repo(
        &r("tagged"),
        &[
            Step {
                files: &[
                    ("go.mod", &go_mod("example.com/hg/tagged")),
                    ("a.go", "package tagged\n\nconst V = 1\n"),
                    ("LICENSE", "Tagged licence\n"),
                    (".hgignore", "syntax: glob\n*.tmp\n"),
                ],
                tags: &["v1.0.0"],
                at: D1,
            },
            Step {
                files: &[("a.go", "package tagged\n\nconst V = 2\n")],
                tags: &[],
                at: D2,
            },
        ],
    )?;
    // Only a pre-release.
    make_hg_repo(
        &r("pre"),
        &[Step {
            files: &[
                ("go.mod", &go_mod("example.com/hg/pre")),
                ("p.go", "package pre\n"),
            ],
            tags: &["v0.2.0-rc.1"],
            at: D1,
        }],
    )?;
    // No tags at all: latest is the tip's pseudo-version.
    make_hg_repo(
        &r("untagged"),
        &[Step {
            files: &[
                ("go.mod", &go_mod("example.com/hg/untagged")),
                ("u.go", "package untagged\n"),
            ],
            tags: &[],
            at: D1,
        }],
    )?;
    // A module at the root, one in a subdirectory (inheriting the root LICENSE), a v2 in v2/.
    make_hg_repo(
        &r("multi"),
        &[Step {
            files: &[
                ("go.mod", &go_mod("example.com/hg/multi")),
                ("m.go", "package multi\n"),
                ("LICENSE", "Multi licence\n"),
                ("notes.txt", "line one\r\nline two\n"),
                ("sub/go.mod", &go_mod("example.com/hg/multi/sub")),
                ("sub/s.go", "package sub\n"),
                ("v2/go.mod", &go_mod("example.com/hg/multi/v2")),
                ("v2/m.go", "package multi\n"),
            ],
            tags: &["v1.0.0", "sub/v0.1.0", "v2.0.0"],
            at: D1,
        }],
    )?;
    // No go.mod, major versions above 1: +incompatible.
    make_hg_repo(
        &r("legacy"),
        &[
            Step {
                files: &[("l.go", "package legacy // 1\n")],
                tags: &["v1.0.0"],
                at: D1,
            },
            Step {
                files: &[("l.go", "package legacy // 2\n")],
                tags: &["v2.0.0"],
                at: D2,
            },
        ],
    )?;
    // The newest version retracts itself.
    make_hg_repo(
        &r("retract"),
        &[
            Step {
                files: &[
                    ("go.mod", &go_mod("example.com/hg/retract")),
                    ("r.go", "package retract\n"),
                ],
                tags: &["v1.0.0"],
                at: D1,
            },
            Step {
                files: &[(
                    "go.mod",
                    "module example.com/hg/retract\n\ngo 1.21\n\nretract v1.1.0 // broken\n",
                )],
                tags: &["v1.1.0"],
                at: D3,
            },
        ],
    )?;
    // Every tag retracted: the go command answers the tip's pseudo-version.
    make_hg_repo(
        &r("allretracted"),
        &[
            Step {
                files: &[
                    ("go.mod", &go_mod("example.com/hg/allretracted")),
                    (
                        "r.go",
                        "package allretracted
",
                    ),
                ],
                tags: &["v1.0.0"],
                at: D1,
            },
            Step {
                files: &[(
                    "go.mod",
                    "module example.com/hg/allretracted

go 1.21

retract [v1.0.0, v1.1.0]
",
                )],
                tags: &["v1.1.0"],
                at: D2,
            },
        ],
    )?;
    Ok(vec![
        "example.com/hg/allretracted",
        "example.com/hg/tagged",
        "example.com/hg/pre",
        "example.com/hg/untagged",
        "example.com/hg/multi",
        "example.com/hg/multi/sub",
        "example.com/hg/multi/v2",
        "example.com/hg/legacy",
        "example.com/hg/retract",
    ])
}

/// `hg serve` of every repository under `repos`, killed when dropped.
struct HgServe {
    child: Child,
    port: u16,
}

impl HgServe {
    fn start(repos: &Path) -> Self {
        let conf = repos.join("web.conf");
        let mut paths = String::from("[paths]\n");
        for e in std::fs::read_dir(repos).expect("repos").flatten() {
            if e.path().is_dir() {
                let name = e.file_name().to_string_lossy().into_owned();
                paths.push_str(&format!("{name} = {}\n", e.path().display()));
            }
        }
        std::fs::write(&conf, paths).expect("web.conf");
        let port = free_port();
        let child = Command::new(hg_binary())
            .env("HGRCPATH", "")
            .args(["serve", "--web-conf"])
            .arg(&conf)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("hg serve");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "hg serve did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for HgServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Answers every request with `html`: agora's discovery page (through `direct.hosts`) and, as the
/// go command's HTTP proxy, its `?go-get=1` pages (a CONNECT gets the page too, which fails
/// TLS, so the go command falls back to http under GOINSECURE, as agora does).
pub fn meta_server(html: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let html = html.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    html.len(),
                    html
                );
                let _ = conn.write_all(resp.as_bytes());
                let mut rest = [0u8; 1024];
                let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
                let _ = conn.read(&mut rest);
            });
        }
    });
    port
}

/// The go command with `GOPROXY=direct`, finding `example.com` through the meta server.
#[derive(Clone)]
pub struct GoDirect {
    pub go: PathBuf,
    pub root: PathBuf,
    pub app: PathBuf,
    pub modcache: PathBuf,
    pub meta_port: u16,
    /// More environment (`GOPRIVATE`, ...).
    pub env: Vec<(&'static str, String)>,
}

impl GoDirect {
    pub fn cmd(&self, goproxy: &str, modcache: &Path, args: &[&str]) -> Result<String, String> {
        let mut c = Command::new(&self.go);
        go_env(&mut c, &self.root, modcache, goproxy);
        let proxy = format!("http://127.0.0.1:{}", self.meta_port);
        c.env("HTTP_PROXY", &proxy)
            .env("HTTPS_PROXY", &proxy)
            .env("GOINSECURE", "example.com")
            .env("HGRCPATH", "")
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
        run(c.current_dir(&self.app).args(args))
    }

    pub fn direct(&self, args: &[&str]) -> Result<serde_json::Value, String> {
        let out = self.cmd("direct", &self.modcache, args)?;
        serde_json::from_str(&out).map_err(|e| format!("{e}: {out}"))
    }
}

/// What the go command computed with `GOPROXY=direct`, by `module@version`: (`Sum`, `GoModSum`).
pub type Sums = std::collections::BTreeMap<String, (serde_json::Value, serde_json::Value)>;

/// The go command downloads every version of `sums` again, through `proxy`, into an empty module
/// cache: each arrives with the hashes it had direct.
pub async fn assert_same_sums_through(go: GoDirect, proxy: String, sums: Sums) {
    let targets: Vec<String> = sums.keys().cloned().collect();
    let through = tokio::task::spawn_blocking(move || {
        // A module cache of its own for each proxy, so each is asked for every file.
        let name: String = proxy.chars().filter(char::is_ascii_alphanumeric).collect();
        let modcache = go.root.join(format!("modcache-{name}"));
        let mut args = vec!["mod", "download", "-json"];
        args.extend(targets.iter().map(String::as_str));
        go.cmd(&proxy, &modcache, &args)
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("go command through agora: {e}"));
    let mut seen = std::collections::BTreeSet::new();
    for doc in serde_json::Deserializer::from_str(&through).into_iter::<serde_json::Value>() {
        let d = doc.expect("json");
        let key = format!(
            "{}@{}",
            d["Path"].as_str().unwrap_or(""),
            d["Version"].as_str().unwrap_or("")
        );
        assert!(d["Error"].is_null(), "{key}: {}", d["Error"]);
        let (sum, mod_sum) = sums.get(&key).unwrap_or_else(|| panic!("unexpected {key}"));
        assert_eq!((&d["Sum"], &d["GoModSum"]), (sum, mod_sum), "{key}");
        seen.insert(key);
    }
    assert_eq!(
        seen.iter().collect::<Vec<_>>(),
        sums.keys().collect::<Vec<_>>(),
        "{through}"
    );
}

pub fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

pub async fn get(app: &TestApp, path: &str) -> Result<bytes::Bytes, String> {
    let (status, body) = app.fetch(path).await;
    if status != 200 {
        return Err(format!(
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_hg_answers_match_the_go_command(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().to_path_buf();
    std::fs::create_dir_all(root.join("home")).expect("home");
    let repos = root.join("repos");
    let modules = corpus(&repos).unwrap_or_else(|e| panic!("hg corpus: {e}"));
    let serve = HgServe::start(&repos);
    let mut html = String::from("<html><head>");
    for name in [
        "tagged",
        "pre",
        "untagged",
        "multi",
        "legacy",
        "retract",
        "allretracted",
    ] {
        html.push_str(&format!(
            "<meta name=\"go-import\" content=\"example.com/hg/{name} hg http://127.0.0.1:{}/{name}\">",
            serve.port
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
        env: Vec::new(),
    };

    let hosts = format!("example.com=127.0.0.1:{meta_port}");
    let hg_path = hg_binary().display().to_string();
    let store = pg_store(pool);
    let app = spawn_app_with(
        store.clone(),
        "direct",
        &[
            ("AGORA_DIRECT__HOSTS", hosts.as_str()),
            ("AGORA_DIRECT__INSECURE", "example.com"),
            ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
            ("AGORA_DIRECT__HG", hg_path.as_str()),
        ],
    )
    .await;

    // What the go command says, asked off the async runtime (it talks to servers on threads).
    let (go, wanted) = tokio::task::spawn_blocking(move || {
        let mut wanted = Vec::new();
        for m in &modules {
            let listed = go.direct(&["list", "-m", "-json", "-versions", "-retracted", m])?;
            let versions: Vec<String> = listed["Versions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let latest = go.direct(&["list", "-m", "-json", &format!("{m}@latest")])?;
            // Every listed version first, so the cache's .info files come from the versions
            // themselves; then the queries.
            let mut downloads = Vec::new();
            for v in &versions {
                downloads.push((
                    v.clone(),
                    go.direct(&["mod", "download", "-json", &format!("{m}@{v}")])?,
                ));
            }
            wanted.push((m.to_string(), versions, latest, downloads));
        }
        Ok::<_, String>((go, wanted))
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("go command, direct: {e}"));

    let mut pseudo = None;
    for (m, versions, latest, downloads) in &wanted {
        let e = esc(m);
        // list
        let got = get(&app, &format!("/{e}/@v/list")).await.expect("list");
        let got: Vec<&str> = std::str::from_utf8(&got).expect("utf8").lines().collect();
        assert_eq!(got, *versions, "list of {m}");
        // @latest
        let got = json(&get(&app, &format!("/{e}/@latest")).await.expect("latest"));
        assert_eq!(got["Version"], latest["Version"], "{m}@latest");
        assert_eq!(got["Time"], latest["Time"], "{m}@latest");
        if latest["Version"]
            .as_str()
            .is_some_and(|v| v.contains("-0.") || v.starts_with("v0.0.0-"))
        {
            pseudo.get_or_insert((
                m.clone(),
                latest["Version"].as_str().unwrap_or_default().to_string(),
            ));
        }
        // .info and .mod exactly as the go command's module cache has them.
        for (v, d) in downloads {
            let info = std::fs::read(d["Info"].as_str().expect("Info")).expect("info file");
            let got = json(&get(&app, &format!("/{e}/@v/{v}.info")).await.expect("info"));
            assert_eq!(got, json(&info), "{m}@{v}.info");
            let gomod = std::fs::read(d["GoMod"].as_str().expect("GoMod")).expect("mod file");
            let got = get(&app, &format!("/{e}/@v/{v}.mod")).await.expect("mod");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&gomod),
                "{m}@{v}.mod"
            );
        }
    }

    // Queries: a branch, hash prefixes, the latest changeset; the same versions as the go command.
    let tip = hg(&repos.join("tagged"), &["log", "-r", "tip", "-T", "{node}"]).expect("tip");
    let queries: Vec<(&str, String)> = vec![
        ("example.com/hg/tagged", "default".to_string()),
        ("example.com/hg/tagged", tip[..12].to_string()),
        ("example.com/hg/tagged", tip[..7].to_string()),
        ("example.com/hg/tagged", "tip".to_string()),
        ("example.com/hg/tagged", "v1.0.0".to_string()),
        ("example.com/hg/untagged", "default".to_string()),
        ("example.com/hg/legacy", "v2.0.0".to_string()),
    ];
    let (go, answers) = tokio::task::spawn_blocking(move || {
        let mut answers = Vec::new();
        for (m, q) in &queries {
            let d = go.direct(&["mod", "download", "-json", &format!("{m}@{q}")])?;
            answers.push((m.to_string(), q.clone(), d));
        }
        Ok::<_, String>((go, answers))
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("go command, queries: {e}"));
    for (m, q, d) in &answers {
        let got = json(
            &get(&app, &format!("/{}/@v/{q}.info", esc(m)))
                .await
                .expect("query"),
        );
        assert_eq!(got["Version"], d["Version"], "{m}@{q}");
        assert_eq!(
            got["Origin"]["Hash"],
            json(&std::fs::read(d["Info"].as_str().expect("Info")).expect("info"))["Origin"]["Hash"],
            "{m}@{q}"
        );
    }
    assert!(
        answers.iter().any(|(_, q, d)| q == "default"
            && d["Version"]
                .as_str()
                .is_some_and(|v| v.starts_with("v1.0.1-0."))),
        "a pseudo-version on the tag's base: {answers:?}"
    );
    assert!(
        pseudo.is_some(),
        "an untagged module's latest is a pseudo-version"
    );

    // The zips: the go command downloads everything again through agora, with the same hashes.
    let mut sums = Sums::new();
    for (m, _, _, downloads) in &wanted {
        for (v, d) in downloads {
            sums.insert(
                format!("{m}@{v}"),
                (d["Sum"].clone(), d["GoModSum"].clone()),
            );
        }
    }
    for (m, _, d) in &answers {
        let v = d["Version"].as_str().expect("version");
        sums.insert(
            format!("{m}@{v}"),
            (d["Sum"].clone(), d["GoModSum"].clone()),
        );
    }
    assert_same_sums_through(go, app.address.clone(), sums).await;

    // Bad queries are 404s, never a revset: hg is asked for names and hashes only.
    for q in ["all()", "nosuchbranch", "tip~1", "000000000000"] {
        let (status, body) = app
            .fetch(&format!("/example.com/hg/tagged/@v/{q}.info"))
            .await;
        assert!(
            status == 404 || status == 400,
            "{q}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }

    // GOVCS: hg refused for public modules when the rules say so, with the go command's words.
    let refused = spawn_app_with(
        store,
        "direct",
        &[
            ("AGORA_DIRECT__HOSTS", hosts.as_str()),
            ("AGORA_DIRECT__INSECURE", "example.com"),
            ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
            ("AGORA_DIRECT__VCS", "public:git"),
        ],
    )
    .await;
    let (status, body) = refused.fetch("/example.com/hg/pre/@v/default.info").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("GOVCS disallows using hg for public example.com/hg/pre"),
        "{body}"
    );
    drop(serve);
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_hanging_hg_is_killed_with_a_504_and_nothing_is_stored(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pidfile = tmp.path().join("pid");
    let real = hg_binary();
    write(
        tmp.path(),
        "hg-hangs",
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *pull*) echo $$ > {}; exec sleep 60 ;;\nesac\nexec {} \"$@\"\n",
            pidfile.display(),
            real.display()
        )
        .as_bytes(),
    )
    .expect("script");
    let script = tmp.path().join("hg-hangs");
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");
    let meta_port = meta_server(
        "<html><head><meta name=\"go-import\" content=\"example.com/hg/hang hg http://127.0.0.1:9/hang\"></head></html>"
            .to_string(),
    );
    let (hosts, script) = (
        format!("example.com=127.0.0.1:{meta_port}"),
        script.display().to_string(),
    );
    let store = pg_store(pool);
    let app = spawn_app_with(
        store.clone(),
        "direct",
        &[
            ("AGORA_DIRECT__HOSTS", hosts.as_str()),
            ("AGORA_DIRECT__INSECURE", "example.com"),
            ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
            ("AGORA_DIRECT__HG", script.as_str()),
            ("AGORA_DIRECT__GIT_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let started = Instant::now();
    let (status, body) = app.fetch("/example.com/hg/hang/@v/v1.0.0.info").await;
    let took = started.elapsed();
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 504, "{body}");
    assert!(
        body.contains(" pull ") && body.contains("timed out"),
        "{body}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let pid = std::fs::read_to_string(&pidfile).expect("pid");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "hg {pid} still running"
    );
    let stored = store
        .admin
        .catalog(&agora::store::CatalogQuery {
            limit: 10,
            include_hidden: true,
            ..Default::default()
        })
        .await
        .expect("catalog");
    assert!(stored.is_empty(), "{stored:?}");
    // A repository hg cannot reach: 404 with hg's reason (a GOPROXY list may go on), not a 500.
    let app = spawn_app_with(
        store,
        "direct",
        &[
            ("AGORA_DIRECT__HOSTS", hosts.as_str()),
            ("AGORA_DIRECT__INSECURE", "example.com"),
            ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.0/8"),
            ("AGORA_DIRECT__HG", real.display().to_string().as_str()),
        ],
    )
    .await;
    let (status, body) = app.fetch("/example.com/hg/hang/@v/list").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("127.0.0.1:9"), "{body}");
}
