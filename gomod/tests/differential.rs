//! Differential tests against the real go command.
//!
//! For each case a small git repository is served to `go mod download` in direct mode (through a
//! `url.<file:///…>.insteadOf` rule), and the `Sum` go computes must equal the `h1:` of our
//! `create_from_dir` over the same tree, `hash_zip` of the zip go wrote, and `check_zip` of it.
//! Then our own zips are served from a `file://` GOPROXY tree, downloaded and built against.
//!
//! The go binary comes from `scripts/ensure-go.sh`; if none can be had, these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use gomod::zip::{self, File as _};

const DATE: &str = "2024-01-02T03:04:05Z";

fn go_binary() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/ensure-go.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "no go command: {} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    assert!(
        p.exists(),
        "ensure-go.sh printed {p:?}, which does not exist"
    );
    p
}

struct Case {
    repo: &'static str,
    /// The `https://…` URL go will ask git for (rewritten to the local repo).
    url: &'static str,
    module: &'static str,
    /// Tag to create (None: leave the commit untagged).
    tag: Option<&'static str>,
    /// Version query for `go mod download`; `@HEAD` becomes the commit hash.
    query: &'static str,
    files: &'static [(&'static str, &'static str)],
    symlinks: &'static [(&'static str, &'static str)],
    /// Module subdirectory inside the repo.
    subdir: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            repo: "vendorold",
            url: "https://example.com/vendorold",
            module: "example.com/vendorold.git",
            tag: Some("v1.0.0"),
            query: "v1.0.0",
            files: &[
                ("go.mod", "module example.com/vendorold.git\n\ngo 1.23\n"),
                (
                    "a.go",
                    "package vendorold\n\nfunc Name() string { return \"vendorold\" }\n",
                ),
                ("vendor/modules.txt", "# nothing\n"),
                ("vendor/top.go", "package vendor\n"),
                ("vendor/golang.org/x/y/y.go", "package y\n"),
                ("pkg/vendor/vendor.go", "package vendor\n"),
                ("pkg/vendor/inner/d.go", "package inner\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "vendornew",
            url: "https://example.com/vendornew",
            module: "example.com/vendornew.git",
            tag: Some("v1.0.0"),
            query: "v1.0.0",
            files: &[
                ("go.mod", "module example.com/vendornew.git\n\ngo 1.24\n"),
                (
                    "a.go",
                    "package vendornew\n\nfunc Name() string { return \"vendornew\" }\n",
                ),
                ("vendor/modules.txt", "# nothing\n"),
                ("vendor/top.go", "package vendor\n"),
                ("vendor/golang.org/x/y/y.go", "package y\n"),
                ("pkg/vendor/vendor.go", "package vendor\n"),
                ("pkg/vendor/inner/d.go", "package inner\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "nestedmod",
            url: "https://example.com/nestedmod",
            module: "example.com/nestedmod.git",
            tag: Some("v1.0.0"),
            query: "v1.0.0",
            files: &[
                ("go.mod", "module example.com/nestedmod.git\n\ngo 1.21\n"),
                (
                    "a.go",
                    "package nestedmod\n\nfunc Name() string { return \"nestedmod\" }\n",
                ),
                ("sub/go.mod", "module example.com/nestedmod.git/sub\n"),
                ("sub/s.go", "package sub\n"),
                ("sub/deeper/d.go", "package deeper\n"),
                ("upper/GO.MOD", "module whatever\n"),
                ("upper/u.go", "package upper\n"),
                ("subway/w.go", "package subway\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "oddnames",
            url: "https://example.com/oddnames",
            module: "example.com/oddnames.git",
            tag: Some("v1.2.3"),
            query: "v1.2.3",
            files: &[
                ("go.mod", "module example.com/oddnames.git\n"),
                (
                    "a.go",
                    "package oddnames\n\nfunc Name() string { return \"oddnames\" }\n",
                ),
                ("with space.txt", "space\n"),
                ("ünïcödé.txt", "unicode\n"),
                ("Ωmega/ж.txt", "greek and cyrillic\n"),
                ("plus+sign.txt", "+\n"),
                ("at@sign.txt", "@\n"),
                ("eq=sign.txt", "=\n"),
                ("dir with space/f [1] (x) {y} ~z!#$%&,^.txt", "punct\n"),
                ("crlf.txt", "line\r\nline\r\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "Repo",
            url: "https://github.com/Owner/Repo",
            module: "github.com/Owner/Repo",
            tag: Some("v0.3.0"),
            query: "v0.3.0",
            files: &[
                ("go.mod", "module github.com/Owner/Repo\n\ngo 1.20\n"),
                (
                    "a.go",
                    "package repo\n\nfunc Name() string { return \"Repo\" }\n",
                ),
                ("Docs/README.md", "# docs\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "incompat",
            url: "https://example.com/incompat",
            module: "example.com/incompat.git",
            tag: Some("v2.0.0"),
            query: "v2.0.0+incompatible",
            files: &[
                (
                    "a.go",
                    "package incompat\n\nfunc Name() string { return \"incompat\" }\n",
                ),
                ("LICENSE", "some license\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "pseudo",
            url: "https://example.com/pseudo",
            module: "example.com/pseudo.git",
            tag: None,
            query: "HEAD",
            files: &[
                ("go.mod", "module example.com/pseudo.git\n"),
                (
                    "a.go",
                    "package pseudo\n\nfunc Name() string { return \"pseudo\" }\n",
                ),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "hgarch",
            url: "https://example.com/hgarch",
            module: "example.com/hgarch.git",
            tag: Some("v1.0.0"),
            query: "v1.0.0",
            files: &[
                ("go.mod", "module example.com/hgarch.git\n"),
                (
                    "a.go",
                    "package hgarch\n\nfunc Name() string { return \"hgarch\" }\n",
                ),
                (".hg_archival.txt", "repo: 0123\nnode: 4567\n"),
                ("docs/.hg_archival.txt", "kept\n"),
            ],
            symlinks: &[],
            subdir: None,
        },
        Case {
            repo: "symlinked",
            url: "https://example.com/symlinked",
            module: "example.com/symlinked.git",
            tag: Some("v1.0.0"),
            query: "v1.0.0",
            files: &[
                ("go.mod", "module example.com/symlinked.git\n"),
                (
                    "a.go",
                    "package symlinked\n\nfunc Name() string { return \"symlinked\" }\n",
                ),
                ("README", "read me\n"),
            ],
            symlinks: &[("docs/link.txt", "../README"), ("dangling", "/nowhere")],
            subdir: None,
        },
        Case {
            repo: "mono",
            url: "https://example.com/mono",
            module: "example.com/mono.git/sub",
            tag: Some("sub/v1.0.0"),
            query: "v1.0.0",
            files: &[
                ("LICENSE", "root license\n"),
                ("README", "root readme\n"),
                ("sub/go.mod", "module example.com/mono.git/sub\n"),
                (
                    "sub/s.go",
                    "package sub\n\nfunc Name() string { return \"mono/sub\" }\n",
                ),
                ("sub/inner/i.txt", "inner\n"),
            ],
            symlinks: &[],
            subdir: Some("sub"),
        },
    ]
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    run(Command::new("git")
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env("GIT_AUTHOR_DATE", DATE)
        .env("GIT_COMMITTER_DATE", DATE)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .args(args))
}

fn go_cmd(go: &Path, tmp: &Path, cache: &Path) -> Command {
    let mut c = Command::new(go);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp)
        .env("GOPATH", tmp.join("gopath"))
        .env("GOMODCACHE", cache)
        .env("GOCACHE", tmp.join("gocache"))
        .env("GOSUMDB", "off")
        .env("GONOSUMCHECK", "")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-modcacherw")
        .env("GIT_CONFIG_GLOBAL", tmp.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0");
    c
}

struct Downloaded {
    module: &'static str,
    version: String,
    sum: String,
    go_mod: Vec<u8>,
    our_zip: Vec<u8>,
}

#[test]
fn go_command_agrees() {
    let go = go_binary();
    let tmp_dir = tempfile::tempdir().unwrap();
    let tmp = tmp_dir.path();
    let cases = cases();

    // The git config: one insteadOf per repo, and file:// allowed.
    let mut cfg =
        String::from("[protocol \"file\"]\n\tallow = always\n[init]\n\tdefaultBranch = main\n");
    for c in &cases {
        let dir = tmp.join("repos").join(c.repo);
        cfg.push_str(&format!(
            "[url \"file://{}\"]\n\tinsteadOf = {}\n",
            dir.display(),
            c.url
        ));
    }
    fs::write(tmp.join("gitconfig"), cfg).unwrap();

    let mut results = Vec::new();
    for c in &cases {
        let dir = tmp.join("repos").join(c.repo);
        fs::create_dir_all(&dir).unwrap();
        for (p, body) in c.files {
            let full = dir.join(p);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, body).unwrap();
        }
        for (p, target) in c.symlinks {
            let full = dir.join(p);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(target, full).unwrap();
        }
        git(&dir, tmp, &["init", "-q"]);
        git(&dir, tmp, &["add", "-A"]);
        git(&dir, tmp, &["commit", "-q", "-m", "initial"]);
        if let Some(tag) = c.tag {
            git(&dir, tmp, &["tag", tag]);
        }
        let query = if c.query == "HEAD" {
            git(&dir, tmp, &["rev-parse", "HEAD"]).trim().to_string()
        } else {
            c.query.to_string()
        };

        let out = run(go_cmd(&go, tmp, &tmp.join("modcache"))
            .env("GOPROXY", "direct")
            .current_dir(tmp)
            .args(["mod", "download", "-json", &format!("{}@{query}", c.module)]));
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let version = j["Version"].as_str().unwrap().to_string();
        let sum = j["Sum"].as_str().unwrap().to_string();
        let go_zip = PathBuf::from(j["Zip"].as_str().unwrap());
        let go_mod = fs::read(j["GoMod"].as_str().unwrap()).unwrap();
        if c.query == "HEAD" {
            assert!(version.starts_with("v0.0.0-20240102030405-"), "{version}");
        }

        // Ours, from the same tree.
        let mut our_zip = Vec::new();
        let created = match c.subdir {
            None => zip::create_from_dir(&mut our_zip, c.module, &version, &dir).unwrap(),
            Some(sub) => {
                let mut files: Vec<Box<dyn zip::File>> = zip::list_dir(&dir.join(sub))
                    .unwrap()
                    .into_iter()
                    .map(|f| Box::new(f) as Box<dyn zip::File>)
                    .collect();
                if !files.iter().any(|f| f.path() == "LICENSE") {
                    let lic = fs::read(dir.join("LICENSE")).unwrap();
                    files.push(Box::new(zip::MemFile::new("LICENSE", lic)));
                }
                zip::create(&mut our_zip, c.module, &version, files).unwrap()
            }
        };
        let hashed = gomod::dirhash::hash_zip(&go_zip).unwrap();
        let checked = zip::check_zip(&go_zip, c.module, &version);
        println!(
            "{:<28} {:<40} go {}  ours {}  {}",
            c.module,
            version,
            sum,
            created.h1,
            if sum == created.h1 { "AGREE" } else { "DIFFER" }
        );
        assert_eq!(created.h1, sum, "create vs go for {}", c.module);
        assert_eq!(hashed, sum, "hash_zip of go's zip for {}", c.module);
        let checked =
            checked.unwrap_or_else(|e| panic!("check_zip of go's zip for {}: {e}", c.module));
        assert_eq!(checked.h1, sum);
        assert_eq!(
            j["GoModSum"].as_str().unwrap(),
            gomod::dirhash::hash_go_mod(&go_mod),
            "go.mod sum for {}",
            c.module
        );
        results.push(Downloaded {
            module: c.module,
            version,
            sum,
            go_mod,
            our_zip,
        });
    }

    // Our zips, served as a static GOPROXY.
    let tree = tmp.join("proxy");
    for d in &results {
        let at = tree
            .join(gomod::module::escape_path(d.module).unwrap())
            .join("@v");
        fs::create_dir_all(&at).unwrap();
        let v = gomod::module::escape_version(&d.version).unwrap();
        fs::write(at.join("list"), format!("{}\n", d.version)).unwrap();
        fs::write(
            at.join(format!("{v}.info")),
            format!("{{\"Version\":\"{}\",\"Time\":\"{DATE}\"}}\n", d.version),
        )
        .unwrap();
        fs::write(at.join(format!("{v}.mod")), &d.go_mod).unwrap();
        fs::write(at.join(format!("{v}.zip")), &d.our_zip).unwrap();
    }
    let proxy = format!("file://{}", tree.display());
    let cache2 = tmp.join("modcache2");
    for d in &results {
        let out = run(go_cmd(&go, tmp, &cache2)
            .env("GOPROXY", &proxy)
            .current_dir(tmp)
            .args([
                "mod",
                "download",
                "-json",
                &format!("{}@{}", d.module, d.version),
            ]));
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            j["Sum"].as_str().unwrap(),
            d.sum,
            "go re-hashing our zip of {}",
            d.module
        );
    }

    // A program importing every module, built against our zips.
    let consumer = tmp.join("consumer");
    fs::create_dir_all(&consumer).unwrap();
    let mut gomod = String::from("module example.com/consumer\n\ngo 1.21\n\nrequire (\n");
    let mut imports = String::new();
    let mut calls = String::new();
    for (i, d) in results.iter().enumerate() {
        gomod.push_str(&format!("\t{} {}\n", d.module, d.version));
        imports.push_str(&format!("\tp{i} \"{}\"\n", d.module));
        calls.push_str(&format!("\tprintln(p{i}.Name())\n"));
    }
    gomod.push_str(")\n");
    fs::write(consumer.join("go.mod"), gomod).unwrap();
    fs::write(
        consumer.join("main.go"),
        format!("package main\n\nimport (\n{imports})\n\nfunc main() {{\n{calls}}}\n"),
    )
    .unwrap();
    run(go_cmd(&go, tmp, &cache2)
        .env("GOPROXY", &proxy)
        .env("GOFLAGS", "-modcacherw -mod=mod")
        .current_dir(&consumer)
        .args(["build", "-o", "consumer", "."]));
    let printed = run(Command::new(consumer.join("consumer")).current_dir(&consumer));
    let _ = printed;
    // println! writes to stderr in Go; building and running is the check.
}
