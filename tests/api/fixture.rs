//! Real modules for end-to-end tests: local git repositories reached through `url.insteadOf`,
//! downloaded by the real go command with `GOPROXY=direct`. Its module cache download directory
//! is then a static GOPROXY tree, and the go.sum it wrote is the reference for every hash.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct GoFixture {
    pub go: PathBuf,
    pub root: PathBuf,
    /// A static GOPROXY tree of every fixture module.
    pub tree: PathBuf,
    /// A program requiring every fixture module, with the go.sum `GOPROXY=direct` produced.
    pub app: PathBuf,
    /// (module path, version) of every fixture module.
    pub modules: Vec<(&'static str, &'static str)>,
}

pub const BIG_FILE_BYTES: usize = 21 << 20;

static FIXTURE: OnceLock<GoFixture> = OnceLock::new();

/// Built once per test binary (a few seconds); tests copy what they change.
pub fn go_fixture() -> &'static GoFixture {
    FIXTURE.get_or_init(|| build().unwrap_or_else(|e| panic!("building the go fixture: {e}")))
}

pub fn go_binary() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-go.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("running scripts/ensure-go.sh");
    assert!(
        out.status.success(),
        "ensure-go.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The environment of a hermetic go command: its own caches, no sumdb, no toolchain downloads.
pub fn go_env(cmd: &mut Command, root: &Path, gomodcache: &Path, goproxy: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", root.join("home"))
        .env("GOPATH", root.join("gopath"))
        .env("GOMODCACHE", gomodcache)
        .env("GOCACHE", root.join("gocache"))
        .env("GOPROXY", goproxy)
        .env("GOSUMDB", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-modcacherw")
        .env("GONOSUMDB", "")
        .env("GOPRIVATE", "")
        .env("GIT_CONFIG_GLOBAL", root.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("CGO_ENABLED", "0");
}

pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The committer date of every fixture commit.
const FIXTURE_DATE: &str = "2024-03-04T05:06:07Z";

/// Runs git in `repo` with a fixed identity; commits get committer date `date` (and a fixed,
/// earlier author date, since pseudo-versions must use the committer's).
pub fn git_at(repo: &Path, date: &str, args: &[&str]) -> Result<String, String> {
    run(Command::new("git")
        .current_dir(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Agora Test")
        .env("GIT_AUTHOR_EMAIL", "test@agora.invalid")
        .env("GIT_COMMITTER_NAME", "Agora Test")
        .env("GIT_COMMITTER_EMAIL", "test@agora.invalid")
        .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", date))
}

pub fn write(dir: &Path, rel: &str, data: &[u8]) -> Result<(), String> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&path, data).map_err(|e| format!("{}: {e}", path.display()))
}

/// A git configuration reaching each module's repository through `url.insteadOf`.
pub fn gitconfig_for(repos: &[(&str, PathBuf)]) -> String {
    let mut cfg = String::from("[protocol \"file\"]\n\tallow = always\n");
    for (module, dir) in repos {
        cfg.push_str(&format!(
            "[url \"file://{}\"]\n\tinsteadOf = https://{}\n",
            dir.display(),
            module
        ));
    }
    cfg
}

/// A repository with one commit per (files, tag) step.
/// Files of one commit, and the tag it gets.
type Step<'a> = (&'a [(&'a str, &'a [u8])], &'a str);

fn repo(root: &Path, name: &str, steps: &[Step<'_>]) -> Result<PathBuf, String> {
    let dir = root.join("repos").join(name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    git_at(&dir, FIXTURE_DATE, &["init", "-q", "-b", "main"])?;
    for (files, tag) in steps {
        for (rel, data) in *files {
            write(&dir, rel, data)?;
        }
        git_at(&dir, FIXTURE_DATE, &["add", "-A"])?;
        git_at(&dir, FIXTURE_DATE, &["commit", "-q", "-m", tag])?;
        git_at(&dir, FIXTURE_DATE, &["tag", tag])?;
    }
    Ok(dir)
}

/// Incompressible bytes, the same for the same seed.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x: u64 = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn build() -> Result<GoFixture, String> {
    let go = go_binary();
    let root = std::env::temp_dir().join(format!("agora-fixture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).map_err(|e| e.to_string())?;

    let big = noise(0x9E37_79B9_7F4A_7C15, BIG_FILE_BYTES);
    let repos: Vec<(&str, &str, PathBuf)> = vec![
        (
            "github.com/Agora-Test/Caps",
            "caps",
            repo(
                &root,
                "caps",
                &[(
                    &[
                        ("go.mod", b"module github.com/Agora-Test/Caps\n\ngo 1.21\n"),
                        (
                            "caps.go",
                            b"package caps\n\nfunc Name() string { return \"caps\" }\n",
                        ),
                        ("LICENSE", b"Test licence\n"),
                    ],
                    "v1.0.0",
                )],
            )?,
        ),
        (
            "github.com/agoratest/multi",
            "multi",
            repo(
                &root,
                "multi",
                &[
                    (
                        &[
                            ("go.mod", b"module github.com/agoratest/multi\n\ngo 1.21\n"),
                            (
                                "multi.go",
                                b"package multi\n\nfunc Major() int { return 1 }\n",
                            ),
                        ],
                        "v1.0.0",
                    ),
                    (
                        &[
                            (
                                "go.mod",
                                b"module github.com/agoratest/multi/v2\n\ngo 1.21\n",
                            ),
                            (
                                "multi.go",
                                b"package multi\n\nfunc Major() int { return 2 }\n",
                            ),
                        ],
                        "v2.1.0",
                    ),
                ],
            )?,
        ),
        (
            "github.com/agoratest/legacy",
            "legacy",
            repo(
                &root,
                "legacy",
                &[
                    (
                        &[(
                            "legacy.go",
                            b"package legacy\n\nfunc Era() string { return \"one\" }\n",
                        )],
                        "v1.0.0",
                    ),
                    (
                        &[(
                            "legacy.go",
                            b"package legacy\n\nfunc Era() string { return \"two\" }\n",
                        )],
                        "v2.0.0",
                    ),
                ],
            )?,
        ),
        (
            "github.com/agoratest/big",
            "big",
            repo(
                &root,
                "big",
                &[(
                    &[
                        ("go.mod", b"module github.com/agoratest/big\n\ngo 1.21\n"),
                        (
                            "big.go",
                            b"package big\n\nfunc Size() int { return 22020096 }\n",
                        ),
                        ("data.bin", &big),
                    ],
                    "v1.0.0",
                )],
            )?,
        ),
    ];
    let rules: Vec<(&str, PathBuf)> = repos.iter().map(|(m, _, dir)| (*m, dir.clone())).collect();
    write(&root, "gitconfig", gitconfig_for(&rules).as_bytes())?;

    let app = root.join("app");
    write(
        &app,
        "go.mod",
        b"module example.com/app\n\ngo 1.21\n\nrequire (\n\tgithub.com/Agora-Test/Caps v1.0.0\n\tgithub.com/agoratest/multi/v2 v2.1.0\n\tgithub.com/agoratest/legacy v2.0.0+incompatible\n\tgithub.com/agoratest/big v1.0.0\n)\n",
    )?;
    write(
        &app,
        "main.go",
        b"package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/Agora-Test/Caps\"\n\t\"github.com/agoratest/big\"\n\t\"github.com/agoratest/legacy\"\n\tmulti \"github.com/agoratest/multi/v2\"\n)\n\nfunc main() {\n\tfmt.Println(caps.Name(), multi.Major(), legacy.Era(), big.Size())\n}\n",
    )?;
    let modcache = root.join("gopath/pkg/mod");
    let mut tidy = Command::new(&go);
    go_env(&mut tidy, &root, &modcache, "direct");
    run(tidy.current_dir(&app).args(["mod", "tidy"]))?;
    let mut all = Command::new(&go);
    go_env(&mut all, &root, &modcache, "direct");
    run(all
        .current_dir(&app)
        .args(["mod", "download", "-json", "all"]))?;
    // Older versions too, so lists have more than one entry.
    for (module, _, _) in &repos {
        let mut dl = Command::new(&go);
        go_env(&mut dl, &root, &modcache, "direct");
        run(dl
            .current_dir(&app)
            .args(["mod", "download", "-json", &format!("{module}@v1.0.0")]))?;
    }
    let tree = root.join("tree");
    run(Command::new("cp")
        .arg("-r")
        .arg(modcache.join("cache/download"))
        .arg(&tree))?;
    Ok(GoFixture {
        go,
        root,
        tree,
        app,
        modules: vec![
            ("github.com/Agora-Test/Caps", "v1.0.0"),
            ("github.com/agoratest/multi", "v1.0.0"),
            ("github.com/agoratest/multi/v2", "v2.1.0"),
            ("github.com/agoratest/legacy", "v1.0.0"),
            ("github.com/agoratest/legacy", "v2.0.0+incompatible"),
            ("github.com/agoratest/big", "v1.0.0"),
        ],
    })
}

/// Copies the fixture program into a fresh directory and builds it through `goproxy`,
/// checked against the fixture's go.sum. Returns what the program printed.
pub fn build_app_through(goproxy: &str) -> Result<String, String> {
    let f = go_fixture();
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let app = work.path().join("app");
    run(Command::new("cp").arg("-r").arg(&f.app).arg(&app))?;
    let go_sum_before = std::fs::read_to_string(app.join("go.sum")).map_err(|e| e.to_string())?;
    let modcache = work.path().join("modcache");
    let mut build = Command::new(&f.go);
    go_env(&mut build, &f.root, &modcache, goproxy);
    // -mod=readonly: go.sum must already hold every hash; a mismatch fails the build.
    run(build
        .current_dir(&app)
        .args(["build", "-mod=readonly", "-o", "app-bin", "."]))?;
    let mut verify = Command::new(&f.go);
    go_env(&mut verify, &f.root, &modcache, goproxy);
    run(verify
        .current_dir(&app)
        .args(["mod", "download", "-json", "all"]))?;
    let go_sum_after = std::fs::read_to_string(app.join("go.sum")).map_err(|e| e.to_string())?;
    if go_sum_before != go_sum_after {
        return Err(format!(
            "go.sum changed:\n{go_sum_before}\n---\n{go_sum_after}"
        ));
    }
    run(&mut Command::new(app.join("app-bin")))
}
