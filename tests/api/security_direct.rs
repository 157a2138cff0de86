//! Direct mode reaches the network by one guarded path: `.git` paths, `mod` meta tags and git
//! itself only go where the address guard allows, never follow a redirect elsewhere, never echo
//! what an internal service said, and leave nothing behind for repositories that do not exist.

use std::path::Path;
use std::process::Command;

use crate::direct_fixture::{Step, make_repo};
use crate::fixture::{gitconfig_for, run, write};
use crate::helpers::{TestApp, spawn_app_with, sqlite_store};
use crate::scripted::{Act, Scripted, Tripwire};
use crate::tls_relay::{TestCa, tls_front};

const D1: &str = "2024-03-04T05:06:07Z";
const SECRET: &str = "TOP-SECRET-internal-answer";

/// An internal service on a loopback address the guard refuses: nothing may ever reach it.
fn internal() -> Scripted {
    Scripted::start("127.0.0.3", vec![("/", Act::text(200, SECRET))])
}

/// An app in direct mode that may reach the attacker's server at 127.0.0.2 (allowed, as an
/// operator might allow an internal code host), with `evil.test` and `pin.test` resolving
/// there and plain http allowed for both.
async fn direct_app(pool: sqlx::SqlitePool, evil: &Scripted, gitconfig: &Path) -> TestApp {
    direct_app_with(pool, evil, gitconfig, &[]).await
}

/// [`direct_app`] with more settings.
async fn direct_app_with(
    pool: sqlx::SqlitePool,
    evil: &Scripted,
    gitconfig: &Path,
    extra: &[(&str, &str)],
) -> TestApp {
    let hosts = format!(
        "evil.test=127.0.0.2:{p},pin.test=127.0.0.2:{p}",
        p = evil.port()
    );
    let cfg = gitconfig.display().to_string();
    let mut env = vec![
        ("AGORA_DIRECT__HOSTS", hosts.as_str()),
        ("AGORA_DIRECT__ALLOWED_CIDRS", "127.0.0.2/32"),
        ("AGORA_DIRECT__INSECURE", "evil.test,pin.test"),
        ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
        ("AGORA_DIRECT__REFRESH_SECS", "0"),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(sqlite_store(pool).await, "direct", &env).await
}

/// A bare copy of a one-version repository of `module`, ready for git's dumb HTTP protocol.
fn served_repo(dir: &Path, module: &str) -> std::path::PathBuf {
    let work = dir.join("work");
    let gomod = format!("module {module}\n\ngo 1.21\n");
    make_repo(
        &work,
        &[Step {
            files: &[("go.mod", gomod.as_bytes()), ("a.go", b"package a\n")],
            tags: &["v1.0.0"],
            date: D1,
        }],
    )
    .expect("repo");
    let bare = dir.join("bare.git");
    run(Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["clone", "-q", "--bare"])
        .arg(&work)
        .arg(&bare))
    .expect("clone --bare");
    run(Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .current_dir(&bare)
        .args(["update-server-info"]))
    .expect("update-server-info");
    bare
}

fn no_secret(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    assert!(!text.contains(SECRET), "internal answer echoed: {text}");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn mod_meta_tags_never_reach_or_echo_internal_services(pool: sqlx::SqlitePool) {
    let inside = internal();
    // A mod proxy on an allowed address that redirects inside.
    let hop = Scripted::start(
        "127.0.0.2",
        vec![(
            "/redirect",
            Act::Redirect(format!("{}/secret", inside.url())),
        )],
    );
    let pages = Scripted::start(
        "127.0.0.2",
        vec![
            // A mod proxy on an internal address, named outright.
            (
                "/direct",
                Act::go_import("evil.test/direct", "mod", &format!("{}/", inside.url())),
            ),
            (
                "/hop",
                Act::go_import(
                    "evil.test/hop",
                    "mod",
                    &format!("http://127.0.0.2:{}/redirect", hop.port()),
                ),
            ),
        ],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "gitconfig", b"").expect("gitconfig");
    let app = direct_app(pool, &pages, &tmp.path().join("gitconfig")).await;

    for path in ["/evil.test/hop/@v/list", "/evil.test/hop/@latest"] {
        let (status, body) = app.fetch(path).await;
        assert_ne!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        no_secret(&body);
    }
    assert!(!hop.hits().is_empty(), "the mod proxy was never asked");
    let (status, body) = app.fetch("/evil.test/direct/@v/list").await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("refused"));
    no_secret(&body);
    assert!(inside.hits().is_empty(), "reached: {:?}", inside.hits());
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn git_follows_no_redirect_and_speaks_only_allowed_protocols(pool: sqlx::SqlitePool) {
    let inside = internal();
    let wire = Tripwire::start("127.0.0.2", 0).expect("tripwire");
    let evil = Scripted::start(
        "127.0.0.2",
        vec![(
            "/r.git",
            Act::Redirect(format!("{}/stolen/info/refs", inside.url())),
        )],
    );
    // The pages name the attacker's own port, known only now: serve them from a second server.
    let pages = Scripted::start(
        "127.0.0.2",
        vec![
            (
                "/r",
                Act::go_import(
                    "evil.test/r",
                    "git",
                    &format!("http://127.0.0.2:{}/r.git", evil.port()),
                ),
            ),
            (
                "/g",
                Act::go_import(
                    "evil.test/g",
                    "git",
                    &format!("git://127.0.0.2:{}/g", wire.addr.port()),
                ),
            ),
        ],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "gitconfig", b"").expect("gitconfig");
    let app = direct_app(pool, &pages, &tmp.path().join("gitconfig")).await;

    let (status, body) = app.fetch("/evil.test/r/@v/list").await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    no_secret(&body);
    assert!(
        evil.hits()
            .iter()
            .any(|h| h.starts_with("/r.git/info/refs")),
        "git never asked: {:?}",
        evil.hits()
    );
    assert!(
        inside.hits().is_empty(),
        "redirect followed: {:?}",
        inside.hits()
    );

    let (status, body) = app.fetch("/evil.test/g/@v/list").await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("refused"));
    assert_eq!(wire.connections(), 0, "git:// was used");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn git_connects_to_the_address_the_guard_checked(pool: sqlx::SqlitePool) {
    // `pin.test` has no DNS record: git can only fetch if it uses the checked address.
    let tmp = tempfile::tempdir().expect("tempdir");
    let bare = served_repo(tmp.path(), "pin.test/p");
    let server = Scripted::start("127.0.0.2", vec![("/p.git", Act::Dir(bare))]);
    let pages = Scripted::start(
        "127.0.0.2",
        vec![(
            "/p",
            Act::go_import(
                "pin.test/p",
                "git",
                &format!("http://pin.test:{}/p.git", server.port()),
            ),
        )],
    );
    // pin.test resolves (for agora) to the page server; git must connect to the repository
    // server's port on the same pinned address.
    write(tmp.path(), "gitconfig", b"").expect("gitconfig");
    let app = direct_app(pool, &pages, &tmp.path().join("gitconfig")).await;
    let (status, body) = app.fetch("/pin.test/p/@v/list").await;
    assert_eq!(
        (status, String::from_utf8_lossy(&body).as_ref()),
        (200, "v1.0.0\n")
    );
    let (status, _) = app.fetch("/pin.test/p/@v/v1.0.0.zip").await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn git_paths_with_a_vcs_suffix_pass_the_guard(pool: sqlx::SqlitePool) {
    // An internal https service at an address `<ip>/path.git` would make git contact.
    let wire = (50..250).find_map(|x| Tripwire::start(&format!("127.0.0.{x}"), 443).ok());
    let ip = wire
        .as_ref()
        .map(|w| w.addr.ip().to_string())
        .unwrap_or_else(|| "127.0.0.9".into());
    let app = spawn_app_with(sqlite_store(pool).await, "direct", &[]).await;
    let (status, body) = app.fetch(&format!("/{ip}/internal/repo.git/@v/list")).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("refused") && body.contains(&ip), "{body}");
    match wire {
        Some(w) => assert_eq!(w.connections(), 0, "git reached {ip}:443"),
        None => eprintln!("cannot listen on port 443 here: connection count not checked"),
    }
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn repositories_that_do_not_exist_leave_nothing_behind(pool: sqlx::SqlitePool) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rules = Vec::new();
    let names: Vec<String> = (0..12)
        .map(|i| format!("github.com/agoratest/gone{i}"))
        .collect();
    for n in &names {
        rules.push((n.as_str(), tmp.path().join("nowhere").join(n)));
    }
    // Two real repositories, and room for only one.
    for real in ["github.com/agoratest/reala", "github.com/agoratest/realb"] {
        let dir = tmp.path().join(real.replace('/', "_"));
        let gomod = format!("module {real}\n\ngo 1.21\n");
        make_repo(
            &dir,
            &[Step {
                files: &[("go.mod", gomod.as_bytes())],
                tags: &["v1.0.0"],
                date: D1,
            }],
        )
        .expect("repo");
        rules.push((real, dir));
    }
    write(tmp.path(), "gitconfig", gitconfig_for(&rules).as_bytes()).expect("gitconfig");
    let cfg = tmp.path().join("gitconfig").display().to_string();
    let app = spawn_app_with(
        sqlite_store(pool).await,
        "direct",
        &[
            ("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str()),
            ("AGORA_DIRECT__CACHE_MAX_REPOS", "1"),
            ("AGORA_CACHE__NEGATIVE_TTL_SECS", "0"),
        ],
    )
    .await;
    let git_dir = app.data_dir().join("git");
    let entries = || {
        std::fs::read_dir(&git_dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    for n in &names {
        let (status, _) = app.fetch(&format!("/{n}/@v/list")).await;
        assert_eq!(status, 404, "{n}");
    }
    assert!(entries().is_empty(), "left behind: {:?}", entries());
    for real in ["github.com/agoratest/reala", "github.com/agoratest/realb"] {
        let (status, body) = app.fetch(&format!("/{real}/@v/list")).await;
        assert_eq!((status, &body[..]), (200, &b"v1.0.0\n"[..]), "{real}");
    }
    assert_eq!(entries().len(), 1, "{:?}", entries());
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn hg_follows_no_redirect_to_an_address_the_guard_refuses(pool: sqlx::SqlitePool) {
    // hg follows HTTP redirects by itself and cannot be pinned: it reaches the network only
    // through agora's egress proxy, which checks every host, the redirect's too.
    crate::direct_hg::hg_binary();
    let inside = internal();
    let evil = Scripted::start(
        "127.0.0.2",
        vec![(
            "/r",
            Act::Redirect(format!("{}/stolen?cmd=capabilities", inside.url())),
        )],
    );
    let pages = Scripted::start(
        "127.0.0.2",
        vec![(
            "/r",
            Act::go_import(
                "evil.test/r",
                "hg",
                &format!("http://127.0.0.2:{}/r", evil.port()),
            ),
        )],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "gitconfig", b"").expect("gitconfig");
    let app = direct_app(pool, &pages, &tmp.path().join("gitconfig")).await;
    let (status, body) = app.fetch("/evil.test/r/@v/list").await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    no_secret(&body);
    assert!(
        evil.hits().iter().any(|h| h.starts_with("/r")),
        "hg never asked: {:?}",
        evil.hits()
    );
    assert!(
        inside.hits().is_empty(),
        "redirect followed: {:?}",
        inside.hits()
    );
}

/// Asks for the `modules` of an attacker's server at 127.0.0.2 (allowed) answering `routes`
/// (redirects inside), each found through a go-import tag naming `vcs`: every one is not found,
/// echoes nothing, and was asked for. The modules are private: svn and fossil are for private
/// modules only by default. With `tls`, the server is `https://evil.test`, its certificate
/// signed by a private CA that agora trusts through `tls.ca_file`.
async fn redirected(
    pool: sqlx::SqlitePool,
    vcs: &str,
    routes: Vec<(&str, Act)>,
    modules: &[&str],
    tls: bool,
) {
    crate::direct_hg::hg_binary();
    let evil = Scripted::start("127.0.0.2", routes);
    let ca = TestCa::new();
    let base = if tls {
        let port = tls_front("127.0.0.2", evil.addr, &ca, &["evil.test"]).await;
        format!("https://evil.test:{port}")
    } else {
        format!("http://127.0.0.2:{}", evil.port())
    };
    let mut html = String::from("<html><head>");
    for m in modules {
        html.push_str(&format!(
            "<meta name=\"go-import\" content=\"evil.test/{m} {vcs} {base}/{m}\">"
        ));
    }
    html.push_str("</head></html>");
    let pages = Scripted::start("127.0.0.2", vec![("/", Act::html(&html))]);
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "gitconfig", b"").expect("gitconfig");
    let ca_file = ca.pem_file.display().to_string();
    let app = direct_app_with(
        pool,
        &pages,
        &tmp.path().join("gitconfig"),
        &[
            ("AGORA_PRIVATE", "evil.test"),
            ("AGORA_TLS__CA_FILE", &ca_file),
        ],
    )
    .await;
    for m in modules {
        let (status, body) = app.fetch(&format!("/evil.test/{m}/@v/list")).await;
        assert_eq!(status, 404, "{m}: {}", String::from_utf8_lossy(&body));
        no_secret(&body);
        assert!(
            evil.hits().iter().any(|h| h.starts_with(&format!("/{m}"))),
            "{vcs} never asked for {m} over {base}: {:?}",
            evil.hits()
        );
    }
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn svn_follows_no_redirect_to_an_address_the_guard_refuses(pool: sqlx::SqlitePool) {
    // svn follows a permanent move by itself, to any scheme (svn://, file://): it reaches
    // http(s) only through agora's egress proxy, which checks every host and refuses redirects.
    svn_redirected(pool, false).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn svn_over_https_follows_no_redirect_to_an_address_the_guard_refuses(
    pool: sqlx::SqlitePool,
) {
    // Inside a TLS tunnel the proxy would not see the move: it intercepts https for svn.
    svn_redirected(pool, true).await;
}

async fn svn_redirected(pool: sqlx::SqlitePool, tls: bool) {
    let inside = internal();
    let trip = Tripwire::start("127.0.0.3", 0).expect("tripwire");
    redirected(
        pool,
        "svn",
        vec![
            ("/http", Act::Moved(format!("{}/stolen", inside.url()))),
            ("/svn", Act::Moved(format!("svn://{}/stolen", trip.addr))),
        ],
        &["http", "svn"],
        tls,
    )
    .await;
    assert!(
        inside.hits().is_empty(),
        "redirect followed: {:?}",
        inside.hits()
    );
    assert_eq!(trip.connections(), 0, "redirect to svn:// followed");
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn fossil_follows_no_redirect_to_an_address_the_guard_refuses(pool: sqlx::SqlitePool) {
    // fossil follows redirects by itself, and connects to their targets directly even when it
    // was given a proxy: agora's egress proxy refuses every redirect answer it forwards.
    fossil_redirected(pool, false).await;
}

#[sqlx::test(migrations = "migrations/sqlite")]
async fn fossil_over_https_follows_no_redirect_to_an_address_the_guard_refuses(
    pool: sqlx::SqlitePool,
) {
    // Inside a TLS tunnel the proxy would not see the redirect: it intercepts https for fossil.
    fossil_redirected(pool, true).await;
}

async fn fossil_redirected(pool: sqlx::SqlitePool, tls: bool) {
    let inside = internal();
    redirected(
        pool,
        "fossil",
        vec![
            ("/moved", Act::Moved(format!("{}/stolen", inside.url()))),
            ("/found", Act::Redirect(format!("{}/stolen", inside.url()))),
        ],
        &["moved", "found"],
        tls,
    )
    .await;
    assert!(
        inside.hits().is_empty(),
        "redirect followed: {:?}",
        inside.hits()
    );
}
