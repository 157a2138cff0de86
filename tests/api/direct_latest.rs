//! `@latest` in direct mode against the go command's `go list -m -json M@latest` with
//! `GOPROXY=direct`, for every shape of repository that changes the answer.

use std::path::Path;
use std::process::Command;

use crate::direct_fixture::{Step, make_repo};
use crate::fixture::{git_at, gitconfig_for, go_binary, go_env, run, write};
use crate::helpers::{esc, pg_store, spawn_app_with};

const D1: &str = "2024-03-04T05:06:07Z";
const D2: &str = "2024-05-06T07:08:09Z";
const D3: &str = "2024-07-08T09:10:11Z";

fn go_mod(module: &str) -> String {
    format!("module {module}\n\ngo 1.21\n")
}

/// Module paths and the repositories `url.insteadOf` sends them to.
type Repos = Vec<(&'static str, std::path::PathBuf)>;

/// Builds one repository per shape under `root/repos`; the module paths asked for, and the
/// insteadOf rules.
fn shapes(root: &Path) -> Result<(Vec<&'static str>, Repos), String> {
    let r = |name: &str| root.join("repos").join(name);
    let src = |v: &str| format!("package m\n\nconst V = \"{v}\"\n");
    let mut repos = Vec::new();
    let mut modules = Vec::new();

    // The default branch is ahead of its newest tag: the tag, not the head.
    let m = "github.com/latest/ahead";
    make_repo(
        &r("ahead"),
        &[
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("1").as_bytes()),
                ],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[("m.go", src("tip").as_bytes())],
                tags: &[],
                date: D2,
            },
        ],
    )?;
    repos.push((m, r("ahead")));
    modules.push(m);

    // A higher tag on another branch: tags count wherever they are.
    let m = "github.com/latest/branch";
    make_repo(
        &r("branch"),
        &[Step {
            files: &[
                ("go.mod", go_mod(m).as_bytes()),
                ("m.go", src("1").as_bytes()),
            ],
            tags: &["v1.0.0"],
            date: D1,
        }],
    )?;
    let dir = r("branch");
    git_at(&dir, D2, &["checkout", "-q", "-b", "side"])?;
    write(&dir, "m.go", src("side").as_bytes())?;
    git_at(&dir, D2, &["commit", "-qam", "side"])?;
    git_at(&dir, D2, &["tag", "v1.2.0"])?;
    git_at(&dir, D2, &["checkout", "-q", "main"])?;
    repos.push((m, dir));
    modules.push(m);

    // Only pre-releases: the highest of them.
    let m = "github.com/latest/pre";
    make_repo(
        &r("pre"),
        &[
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("a").as_bytes()),
                ],
                tags: &["v0.2.0-alpha"],
                date: D1,
            },
            Step {
                files: &[("m.go", src("b").as_bytes())],
                tags: &["v0.1.0-rc.1"],
                date: D2,
            },
        ],
    )?;
    repos.push((m, r("pre")));
    modules.push(m);

    // No tags: the head's pseudo-version.
    let m = "github.com/latest/untagged";
    make_repo(
        &r("untagged"),
        &[
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("a").as_bytes()),
                ],
                tags: &[],
                date: D1,
            },
            Step {
                files: &[("m.go", src("b").as_bytes())],
                tags: &[],
                date: D2,
            },
        ],
    )?;
    repos.push((m, r("untagged")));
    modules.push(m);

    // The newest tag retracts itself: the one before.
    let m = "github.com/latest/selfretract";
    let retracting = format!("{}\nretract v1.1.0 // broken\n", go_mod(m));
    make_repo(
        &r("selfretract"),
        &[
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("1").as_bytes()),
                ],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[
                    ("go.mod", retracting.as_bytes()),
                    ("m.go", src("1.1").as_bytes()),
                ],
                tags: &["v1.1.0"],
                date: D2,
            },
        ],
    )?;
    repos.push((m, r("selfretract")));
    modules.push(m);

    // Every tag retracted, the head's included: the go command converts the head skipping
    // retracted tags, i.e. answers a pseudo-version after them.
    let m = "github.com/latest/allretracted";
    let all = format!("{}\nretract [v1.0.0, v1.1.0]\n", go_mod(m));
    make_repo(
        &r("allretracted"),
        &[
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("1").as_bytes()),
                ],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[("go.mod", all.as_bytes()), ("m.go", src("1.1").as_bytes())],
                tags: &["v1.1.0"],
                date: D2,
            },
        ],
    )?;
    repos.push((m, r("allretracted")));
    modules.push(m);

    // A v2 module in a major subdirectory beside v1 at the root.
    let m = "github.com/latest/sub";
    let m2 = "github.com/latest/sub/v2";
    make_repo(
        &r("sub"),
        &[
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("1").as_bytes()),
                ],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[
                    ("v2/go.mod", go_mod(m2).as_bytes()),
                    ("v2/m.go", src("2").as_bytes()),
                ],
                tags: &["v2.0.0"],
                date: D2,
            },
            Step {
                files: &[("v2/m.go", src("2.1").as_bytes())],
                tags: &["v2.1.0"],
                date: D3,
            },
        ],
    )?;
    repos.push((m, r("sub")));
    modules.push(m);
    modules.push(m2);

    // Legacy majors without go.mod, then a go.mod on the untagged head: v2+incompatible wins.
    let m = "github.com/latest/legacy";
    make_repo(
        &r("legacy"),
        &[
            Step {
                files: &[("m.go", src("1").as_bytes())],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[("m.go", src("2").as_bytes())],
                tags: &["v2.0.0"],
                date: D2,
            },
            Step {
                files: &[("go.mod", go_mod(m).as_bytes())],
                tags: &[],
                date: D3,
            },
        ],
    )?;
    repos.push((m, r("legacy")));
    modules.push(m);

    // Legacy majors, then a tagged v1 with a go.mod: the module went module-aware.
    let m = "github.com/latest/aware";
    make_repo(
        &r("aware"),
        &[
            Step {
                files: &[("m.go", src("1").as_bytes())],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[("m.go", src("2").as_bytes())],
                tags: &["v2.0.0"],
                date: D2,
            },
            Step {
                files: &[
                    ("go.mod", go_mod(m).as_bytes()),
                    ("m.go", src("1.1").as_bytes()),
                ],
                tags: &["v1.1.0-rc.1"],
                date: D3,
            },
        ],
    )?;
    repos.push((m, r("aware")));
    modules.push(m);

    Ok((modules, repos))
}

/// What `go list -m -json M@latest` says with `GOPROXY=direct`: (Version, Time), or `None`
/// when it finds no version.
fn go_latest(go: &Path, root: &Path, module: &str) -> Option<(String, String)> {
    let probe = root.join("probe");
    let mut cmd = Command::new(go);
    go_env(&mut cmd, root, &root.join("modcache"), "direct");
    let out =
        run(cmd
            .current_dir(&probe)
            .args(["list", "-m", "-json", &format!("{module}@latest")]))
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&out).ok()?;
    Some((
        v["Version"].as_str()?.to_string(),
        v["Time"].as_str()?.to_string(),
    ))
}

#[sqlx::test(migrations = "migrations/postgres")]
async fn direct_latest_is_what_the_go_command_answers(pool: sqlx::PgPool) {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    let (modules, repos) = shapes(root).expect("repositories");
    write(root, "gitconfig", gitconfig_for(&repos).as_bytes()).expect("gitconfig");
    std::fs::create_dir_all(root.join("home")).expect("home");
    write(
        &root.join("probe"),
        "go.mod",
        b"module example.com/probe\n\ngo 1.21\n",
    )
    .expect("probe");
    let cfg = root.join("gitconfig").display().to_string();
    let app = spawn_app_with(
        pg_store(pool),
        "direct",
        &[("AGORA_DIRECT__GIT_CONFIG_GLOBAL", cfg.as_str())],
    )
    .await;

    let go = go_binary();
    let mut answered = 0;
    for module in modules {
        let want = {
            let (go, root, module) = (go.clone(), root.to_path_buf(), module.to_string());
            tokio::task::spawn_blocking(move || go_latest(&go, &root, &module))
                .await
                .expect("join")
        };
        let (status, body) = app.fetch(&format!("/{}/@latest", esc(module))).await;
        let got = (status == 200).then(|| {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            (
                v["Version"].as_str().unwrap_or_default().to_string(),
                v["Time"].as_str().unwrap_or_default().to_string(),
            )
        });
        assert_eq!(
            got,
            want,
            "{module}@latest: agora {status} {}",
            String::from_utf8_lossy(&body)
        );
        match want {
            Some((version, time)) => {
                answered += 1;
                if module.ends_with("/allretracted") || module.ends_with("/untagged") {
                    assert!(
                        gomod::pseudo::is_pseudo_version(&version),
                        "{module}: {version}"
                    );
                }
                // Side by side: the version's own .info says the same.
                let (status, body) = app
                    .fetch(&format!("/{}/@v/{}.info", esc(module), esc(&version)))
                    .await;
                assert_eq!(status, 200, "{module}@{version}");
                let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                assert_eq!(
                    (v["Version"].as_str(), v["Time"].as_str()),
                    (Some(version.as_str()), Some(time.as_str()))
                );
            }
            None => assert!(matches!(status, 404 | 410), "{module}: {status}"),
        }
    }
    assert_eq!(answered, 10, "shapes the go command answered");
}
