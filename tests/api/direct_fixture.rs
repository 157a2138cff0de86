//! A corpus of git repositories for direct mode, reached through `url.insteadOf`, and what the
//! real go command made of them with `GOPROXY=direct`: a program's go.sum and its module cache.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::fixture::{git_at, gitconfig_for, go_binary, go_env, noise, run, write};

pub struct Corpus {
    pub go: PathBuf,
    /// Holds `gitconfig` (the insteadOf rules) and `home`.
    pub root: PathBuf,
    /// The program needing every module, with the go.sum `GOPROXY=direct` produced.
    pub app: PathBuf,
    /// The go command's module cache after downloading everything direct.
    pub modcache: PathBuf,
    /// The pseudo-version of the untagged commit of `github.com/agoratest/pseudo`, and its hash.
    pub pseudo: (String, String),
}

/// Module paths of the corpus, with the versions the program requires.
pub const REQUIRED: &[(&str, &str)] = &[
    ("github.com/Agora-Test/Caps", "v1.0.0"),
    ("github.com/agoratest/multi", "v1.0.0"),
    ("github.com/agoratest/multi/sub", "v0.1.0"),
    ("github.com/agoratest/multi/v2", "v2.0.0"),
    ("github.com/agoratest/legacy", "v3.0.0+incompatible"),
    ("github.com/agoratest/retract", "v1.2.0"),
    ("github.com/agoratest/big", "v1.0.0"),
];

pub const BIG_BYTES: usize = 21 << 20;

static CORPUS: OnceLock<Corpus> = OnceLock::new();

pub fn corpus() -> &'static Corpus {
    CORPUS.get_or_init(|| build().unwrap_or_else(|e| panic!("building the direct corpus: {e}")))
}

/// One commit: files written, files removed, tags, committer date.
pub struct Step<'a> {
    pub files: &'a [(&'a str, &'a [u8])],
    pub tags: &'a [&'a str],
    pub date: &'a str,
}

pub fn make_repo(dir: &Path, steps: &[Step<'_>]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    git_at(dir, "2024-01-01T00:00:00Z", &["init", "-q", "-b", "main"])?;
    for (i, s) in steps.iter().enumerate() {
        for (rel, data) in s.files {
            write(dir, rel, data)?;
        }
        git_at(dir, s.date, &["add", "-A"])?;
        git_at(dir, s.date, &["commit", "-q", "-m", &format!("step {i}")])?;
        for t in s.tags {
            git_at(dir, s.date, &["tag", t])?;
        }
    }
    Ok(())
}

const D1: &str = "2024-03-04T05:06:07Z";
const D2: &str = "2024-05-06T07:08:09Z";
const D3: &str = "2024-07-08T09:10:11Z";

fn build() -> Result<Corpus, String> {
    let go = go_binary();
    let root = std::env::temp_dir().join(format!("agora-direct-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).map_err(|e| e.to_string())?;
    let r = |name: &str| root.join("repos").join(name);

    make_repo(
        &r("caps"),
        &[Step {
            files: &[
                ("go.mod", b"module github.com/Agora-Test/Caps\n\ngo 1.21\n"),
                (
                    "caps.go",
                    b"package caps\n\nfunc Name() string { return \"caps\" }\n",
                ),
                ("LICENSE", b"Caps licence\n"),
            ],
            tags: &["v1.0.0"],
            date: D1,
        }],
    )?;
    make_repo(
        &r("multi"),
        &[Step {
            files: &[
                ("go.mod", b"module github.com/agoratest/multi\n\ngo 1.21\n"),
                (
                    "multi.go",
                    b"package multi\n\nfunc Major() int { return 1 }\n",
                ),
                ("LICENSE", b"Multi licence\n"),
                (".gitattributes", b"*.txt eol=crlf\n"),
                ("notes.txt", b"line one\nline two\n"),
                (
                    "vendor/modules.txt",
                    b"# example.com/vend v1.0.0\n## explicit\nexample.com/vend\n",
                ),
                (
                    "vendor/example.com/vend/vend.go",
                    b"package vend\n\nconst One = 1\n",
                ),
                (
                    "sub/go.mod",
                    b"module github.com/agoratest/multi/sub\n\ngo 1.21\n",
                ),
                (
                    "sub/sub.go",
                    b"package sub\n\nfunc Name() string { return \"sub\" }\n",
                ),
                (
                    "v2/go.mod",
                    b"module github.com/agoratest/multi/v2\n\ngo 1.21\n",
                ),
                (
                    "v2/multi.go",
                    b"package multi\n\nfunc Major() int { return 2 }\n",
                ),
            ],
            tags: &["v1.0.0", "sub/v0.1.0", "v2.0.0"],
            date: D1,
        }],
    )?;
    let legacy = |era: &'static str| -> Vec<(&'static str, &'static [u8])> {
        vec![(
            "legacy.go",
            match era {
                "one" => b"package legacy\n\nfunc Era() string { return \"one\" }\n",
                "two" => b"package legacy\n\nfunc Era() string { return \"two\" }\n",
                _ => b"package legacy\n\nfunc Era() string { return \"three\" }\n",
            },
        )]
    };
    let (l1, l2, l3) = (legacy("one"), legacy("two"), legacy("three"));
    make_repo(
        &r("legacy"),
        &[
            Step {
                files: &l1,
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &l2,
                tags: &["v2.0.0"],
                date: D2,
            },
            Step {
                files: &l3,
                tags: &["v3.0.0"],
                date: D3,
            },
        ],
    )?;
    make_repo(
        &r("pseudo"),
        &[
            Step {
                files: &[
                    ("go.mod", b"module github.com/agoratest/pseudo\n\ngo 1.21\n"),
                    (
                        "pseudo.go",
                        b"package pseudo\n\nfunc Tip() bool { return false }\n",
                    ),
                ],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[(
                    "pseudo.go",
                    b"package pseudo\n\nfunc Tip() bool { return true }\n",
                )],
                tags: &[],
                date: D2,
            },
        ],
    )?;
    make_repo(
        &r("retract"),
        &[
            Step {
                files: &[
                    ("go.mod", b"module github.com/agoratest/retract\n\ngo 1.21\n"),
                    ("retract.go", b"package retract\n\nfunc V() string { return \"1.0\" }\n"),
                ],
                tags: &["v1.0.0"],
                date: D1,
            },
            Step {
                files: &[("retract.go", b"package retract\n\nfunc V() string { return \"1.1\" }\n")],
                tags: &["v1.1.0"],
                date: D2,
            },
            Step {
                files: &[
                    ("go.mod", b"module github.com/agoratest/retract\n\ngo 1.21\n\n// Broken.\nretract v1.1.0\n"),
                    ("retract.go", b"package retract\n\nfunc V() string { return \"1.2\" }\n"),
                ],
                tags: &["v1.2.0"],
                date: D3,
            },
        ],
    )?;
    let big = noise(0x2545_F491_4F6C_DD1D, BIG_BYTES);
    make_repo(
        &r("big"),
        &[Step {
            files: &[
                ("go.mod", b"module github.com/agoratest/big\n\ngo 1.21\n"),
                (
                    "big.go",
                    b"package big\n\nfunc Size() int { return 22020096 }\n",
                ),
                ("data.bin", &big),
            ],
            tags: &["v1.0.0"],
            date: D1,
        }],
    )?;

    let repos: Vec<(&'static str, PathBuf)> = vec![
        ("github.com/Agora-Test/Caps", r("caps")),
        ("github.com/agoratest/multi", r("multi")),
        ("github.com/agoratest/legacy", r("legacy")),
        ("github.com/agoratest/pseudo", r("pseudo")),
        ("github.com/agoratest/retract", r("retract")),
        ("github.com/agoratest/big", r("big")),
    ];
    write(&root, "gitconfig", gitconfig_for(&repos).as_bytes())?;

    let app = root.join("app");
    let mut require = String::new();
    for (m, v) in REQUIRED {
        require.push_str(&format!("\t{m} {v}\n"));
    }
    write(
        &app,
        "go.mod",
        format!("module example.com/app\n\ngo 1.21\n\nrequire (\n{require})\n").as_bytes(),
    )?;
    write(
        &app,
        "main.go",
        b"package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/Agora-Test/Caps\"\n\t\"github.com/agoratest/big\"\n\t\"github.com/agoratest/legacy\"\n\tmulti1 \"github.com/agoratest/multi\"\n\t\"github.com/agoratest/multi/sub\"\n\tmulti \"github.com/agoratest/multi/v2\"\n\t\"github.com/agoratest/pseudo\"\n\t\"github.com/agoratest/retract\"\n)\n\nfunc main() {\n\tfmt.Println(caps.Name(), multi1.Major(), multi.Major(), sub.Name(), legacy.Era(), pseudo.Tip(), retract.V(), big.Size())\n}\n",
    )?;
    let modcache = root.join("gopath/pkg/mod");
    let go_cmd = |args: &[&str]| -> Result<String, String> {
        let mut c = Command::new(&go);
        go_env(&mut c, &root, &modcache, "direct");
        // The go fixture's environment points GIT_CONFIG_GLOBAL at root/gitconfig already.
        run(c.current_dir(&app).args(args))
    };
    go_cmd(&["get", "github.com/agoratest/pseudo@main"])?;
    go_cmd(&["mod", "tidy"])?;
    go_cmd(&["mod", "download", "-json", "all"])?;
    let pseudo_hash = git_at(&r("pseudo"), D2, &["rev-parse", "main"])?
        .trim()
        .to_string();
    let info = go_cmd(&["list", "-m", "-json", "github.com/agoratest/pseudo"])?;
    let v: serde_json::Value = serde_json::from_str(&info).map_err(|e| e.to_string())?;
    let pseudo_version = v["Version"].as_str().unwrap_or_default().to_string();
    // Older versions too, so the cache holds more than the build needs.
    for q in [
        "github.com/agoratest/legacy@v1.0.0",
        "github.com/agoratest/legacy@v2.0.0+incompatible",
        "github.com/agoratest/retract@v1.1.0",
        "github.com/agoratest/pseudo@v1.0.0",
    ] {
        go_cmd(&["mod", "download", "-json", q])?;
    }
    Ok(Corpus {
        go,
        root,
        app,
        modcache,
        pseudo: (pseudo_version, pseudo_hash),
    })
}

/// The go command's `list -m -versions -retracted` for a module, with `GOPROXY=direct`.
pub fn go_versions(module: &str) -> Result<Vec<String>, String> {
    let c = corpus();
    let mut cmd = Command::new(&c.go);
    go_env(&mut cmd, &c.root, &c.modcache, "direct");
    let out = run(cmd.current_dir(&c.app).args([
        "list",
        "-m",
        "-retracted",
        "-versions",
        "-json",
        module,
    ]))?;
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    Ok(v["Versions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Builds the corpus program through `goproxy` in a fresh module cache, checked against the
/// direct go.sum; returns what it printed.
pub fn build_through(goproxy: &str) -> Result<String, String> {
    let c = corpus();
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let app = work.path().join("app");
    run(Command::new("cp").arg("-r").arg(&c.app).arg(&app))?;
    let before = std::fs::read_to_string(app.join("go.sum")).map_err(|e| e.to_string())?;
    let modcache = work.path().join("modcache");
    let mut build = Command::new(&c.go);
    go_env(&mut build, &c.root, &modcache, goproxy);
    // No git for the go command: everything must come from agora.
    build.env("GIT_CONFIG_GLOBAL", "/dev/null");
    run(build
        .current_dir(&app)
        .args(["build", "-mod=readonly", "-o", "app-bin", "."]))?;
    let mut verify = Command::new(&c.go);
    go_env(&mut verify, &c.root, &modcache, goproxy);
    verify.env("GIT_CONFIG_GLOBAL", "/dev/null");
    run(verify
        .current_dir(&app)
        .args(["mod", "download", "-json", "all"]))?;
    let after = std::fs::read_to_string(app.join("go.sum")).map_err(|e| e.to_string())?;
    if before != after {
        return Err(format!("go.sum changed:\n{before}\n---\n{after}"));
    }
    run(&mut Command::new(app.join("app-bin")))
}
