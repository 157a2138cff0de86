//! `agora mod zip|verify|hash`, run as the real binary: exit codes, what goes to stdout and
//! stderr, and that a failed `zip` leaves no output file. One case is checked against the go
//! command (`go mod download` of the same tree served from a local git repository). And
//! `agora import` of a tar bomb, measured on disk while it runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zip::write::SimpleFileOptions;

fn agora(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agora"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("running the agora binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The last stdout line, which must be an `h1:` hash, of a command that succeeded.
fn h1_of(what: &str, o: &Output) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    let out = stdout(o);
    let last = out.lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("h1:") && last.len() == 3 + 44,
        "{what}: last stdout line {last:?} is not an h1: hash"
    );
    last
}

fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    fs::create_dir_all(dir).unwrap();
    for (rel, body) in files {
        let full = dir.join(rel);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, body).unwrap();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Good {
    name: &'static str,
    path: &'static str,
    version: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const GOOD: &[Good] = &[
    Good {
        name: "plain v1",
        path: "example.com/m",
        version: "v1.2.3",
        files: &[
            ("go.mod", "module example.com/m\n\ngo 1.22\n"),
            ("m.go", "package m\n"),
            ("sub/dir/x.txt", "x\n"),
            ("LICENSE", "license text\n"),
        ],
    },
    Good {
        name: "major v2",
        path: "example.com/m/v2",
        version: "v2.0.1",
        files: &[
            ("go.mod", "module example.com/m/v2\n"),
            ("m.go", "package m\n"),
        ],
    },
    Good {
        name: "incompatible, no go.mod",
        path: "example.com/old",
        version: "v3.1.0+incompatible",
        files: &[("old.go", "package old\n")],
    },
    Good {
        name: "pseudo-version",
        path: "example.com/p",
        version: "v0.0.0-20240102030405-0123456789ab",
        files: &[
            ("go.mod", "module example.com/p\n"),
            ("p.go", "package p\n"),
        ],
    },
];

#[test]
fn zip_verify_and_hash_agree() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, c) in GOOD.iter().enumerate() {
        let dir = tmp.path().join(format!("tree{i}"));
        write_tree(&dir, c.files);
        let out = tmp.path().join(format!("out{i}.zip"));
        let zipped = h1_of(
            c.name,
            &agora(&[
                "mod",
                "zip",
                "--path",
                c.path,
                "--version",
                c.version,
                s(&dir),
                "-o",
                s(&out),
            ]),
        );
        assert!(out.is_file(), "{}: no zip written", c.name);
        let verified = h1_of(
            c.name,
            &agora(&[
                "mod",
                "verify",
                "--path",
                c.path,
                "--version",
                c.version,
                s(&out),
            ]),
        );
        let hashed_zip = h1_of(c.name, &agora(&["mod", "hash", s(&out)]));
        let hashed_dir = h1_of(
            c.name,
            &agora(&[
                "mod",
                "hash",
                "--path",
                c.path,
                "--version",
                c.version,
                s(&dir),
            ]),
        );
        assert_eq!(verified, zipped, "{}: verify", c.name);
        assert_eq!(hashed_zip, zipped, "{}: hash of the zip", c.name);
        assert_eq!(hashed_dir, zipped, "{}: hash of the directory", c.name);
    }
}

#[test]
fn hash_of_a_directory_needs_path_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path(), &[("go.mod", "module example.com/m\n")]);
    let o = agora(&["mod", "hash", s(tmp.path())]);
    assert!(!o.status.success());
    assert!(stdout(&o).is_empty(), "stdout: {}", stdout(&o));
    assert!(
        stderr(&o).contains("needs --path and --version"),
        "stderr: {}",
        stderr(&o)
    );
}

/// A tree that `agora mod zip` must refuse.
struct Bad {
    name: &'static str,
    path: &'static str,
    version: &'static str,
    /// None: the directory does not exist.
    files: Option<&'static [(&'static str, &'static str)]>,
    /// What stderr must say (a substring).
    reason: &'static str,
}

const OK_MOD: (&str, &str) = ("go.mod", "module example.com/m\n");

const BAD_TREES: &[Bad] = &[
    Bad {
        name: "case collision",
        path: "example.com/m",
        version: "v1.0.0",
        files: Some(&[OK_MOD, ("a.go", "package m\n"), ("A.go", "package m\n")]),
        reason: "case-insensitive file name collision",
    },
    Bad {
        name: "bad character in a file name",
        path: "example.com/m",
        version: "v1.0.0",
        files: Some(&[OK_MOD, ("dir/a:b.go", "package m\n")]),
        reason: "a:b.go",
    },
    Bad {
        name: "Windows reserved file name",
        path: "example.com/m",
        version: "v1.0.0",
        files: Some(&[OK_MOD, ("aux.go", "package m\n")]),
        reason: "aux.go",
    },
    Bad {
        name: "non-canonical version",
        path: "example.com/m",
        version: "v1.0",
        files: Some(&[OK_MOD]),
        reason: "not canonical",
    },
    Bad {
        name: "not semver",
        path: "example.com/m",
        version: "latest",
        files: Some(&[OK_MOD]),
        reason: "latest",
    },
    Bad {
        name: "path without /v2 for v2.0.0",
        path: "example.com/m",
        version: "v2.0.0",
        files: Some(&[OK_MOD]),
        reason: "v2",
    },
    Bad {
        name: "path /v2 for v1.0.0",
        path: "example.com/m/v2",
        version: "v1.0.0",
        files: Some(&[("go.mod", "module example.com/m/v2\n")]),
        reason: "v2",
    },
    Bad {
        name: "invalid module path",
        path: "-example.com/m",
        version: "v1.0.0",
        files: Some(&[OK_MOD]),
        reason: "-example.com/m",
    },
    Bad {
        name: "missing directory",
        path: "example.com/m",
        version: "v1.0.0",
        files: None,
        reason: "no-such-dir: No such file or directory",
    },
];

#[test]
fn zip_refuses_bad_trees_and_leaves_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, c) in BAD_TREES.iter().enumerate() {
        let dir = match c.files {
            Some(files) => {
                let d = tmp.path().join(format!("tree{i}"));
                write_tree(&d, files);
                d
            }
            None => tmp.path().join("no-such-dir"),
        };
        let out = tmp.path().join(format!("out{i}.zip"));
        // `--path=…` so that a path starting with `-` reaches our check rather than clap's.
        let o = agora(&[
            "mod",
            "zip",
            &format!("--path={}", c.path),
            &format!("--version={}", c.version),
            s(&dir),
            "-o",
            s(&out),
        ]);
        let (so, se) = (stdout(&o), stderr(&o));
        assert!(!o.status.success(), "{}: succeeded\nstdout: {so}", c.name);
        assert!(
            !so.contains("h1:"),
            "{}: a hash on stdout of a failure: {so}",
            c.name
        );
        assert!(
            se.contains(c.reason),
            "{}: stderr does not say {:?}: {se}",
            c.name,
            c.reason
        );
        assert!(!out.exists(), "{}: {} left behind", c.name, out.display());
    }
}

fn build_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let opts = SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

struct BadZip {
    name: &'static str,
    entries: &'static [(&'static str, &'static [u8])],
    reason: &'static str,
}

const BAD_ZIPS: &[BadZip] = &[
    BadZip {
        name: "wrong prefix",
        entries: &[
            ("example.com/m@v1.0.0/go.mod", b"module example.com/m\n"),
            ("example.com/other@v1.0.0/x.go", b"package x\n"),
        ],
        reason: "does not have prefix",
    },
    BadZip {
        name: "go.mod in a subdirectory",
        entries: &[
            ("example.com/m@v1.0.0/go.mod", b"module example.com/m\n"),
            (
                "example.com/m@v1.0.0/sub/go.mod",
                b"module example.com/m/sub\n",
            ),
        ],
        reason: "go.mod file not in module root directory",
    },
    BadZip {
        name: "case collision",
        entries: &[
            ("example.com/m@v1.0.0/a.go", b"package m\n"),
            ("example.com/m@v1.0.0/A.go", b"package m\n"),
        ],
        reason: "case-insensitive file name collision",
    },
    BadZip {
        name: "path traversal",
        entries: &[("example.com/m@v1.0.0/../../etc/passwd", b"root\n")],
        reason: "invalid path element",
    },
];

#[test]
fn verify_refuses_hostile_zips() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<(&str, PathBuf, &str)> = BAD_ZIPS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = tmp.path().join(format!("bad{i}.zip"));
            fs::write(&p, build_zip(c.entries)).unwrap();
            (c.name, p, c.reason)
        })
        .collect();
    let garbage = tmp.path().join("garbage.zip");
    fs::write(&garbage, b"this is not a zip file at all").unwrap();
    files.push(("not a zip", garbage, "invalid zip file"));
    files.push((
        "missing file",
        tmp.path().join("missing.zip"),
        "missing.zip",
    ));
    for (name, p, reason) in &files {
        let o = agora(&[
            "mod",
            "verify",
            "--path",
            "example.com/m",
            "--version",
            "v1.0.0",
            s(p),
        ]);
        let (so, se) = (stdout(&o), stderr(&o));
        assert!(!o.status.success(), "{name}: accepted\nstdout: {so}");
        assert!(so.is_empty(), "{name}: stdout of a refusal: {so}");
        assert!(
            se.contains(reason),
            "{name}: stderr does not say {reason:?}: {se}"
        );
    }

    // The wrong module for a good zip is refused too.
    let good = tmp.path().join("good.zip");
    fs::write(
        &good,
        build_zip(&[("example.com/m@v1.0.0/go.mod", b"module example.com/m\n")]),
    )
    .unwrap();
    let o = agora(&[
        "mod",
        "verify",
        "--path",
        "example.com/m",
        "--version",
        "v1.0.1",
        s(&good),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("does not have prefix"),
        "{}",
        stderr(&o)
    );
}

fn go_binary() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-go.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "no go command: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn must(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// `agora mod zip` of a tree hashes as the go command's `go mod download` of the same tree does.
#[test]
fn zip_hash_matches_the_go_command() {
    const MODULE: &str = "example.com/clitree.git";
    const URL: &str = "https://example.com/clitree";
    const DATE: &str = "2024-01-02T03:04:05Z";
    let go = go_binary();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let repo = t.join("repo");
    write_tree(
        &repo,
        &[
            ("go.mod", "module example.com/clitree.git\n\ngo 1.21\n"),
            ("tree.go", "package clitree\n\nconst Name = \"tree\"\n"),
            ("internal/x/x.go", "package x\n"),
            ("testdata/data file.txt", "some data\n"),
            ("README.md", "# clitree\n"),
        ],
    );
    let gitconfig = t.join("gitconfig");
    fs::write(
        &gitconfig,
        format!(
            "[protocol \"file\"]\n\tallow = always\n[init]\n\tdefaultBranch = main\n\
             [url \"file://{}\"]\n\tinsteadOf = {URL}\n",
            repo.display()
        ),
    )
    .unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "tree"],
        &["tag", "v1.4.0"],
    ] {
        must(
            Command::new("git")
                .current_dir(&repo)
                .env("HOME", t)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", &gitconfig)
                .env("GIT_AUTHOR_DATE", DATE)
                .env("GIT_COMMITTER_DATE", DATE)
                .env("GIT_AUTHOR_NAME", "Test")
                .env("GIT_AUTHOR_EMAIL", "test@example.com")
                .env("GIT_COMMITTER_NAME", "Test")
                .env("GIT_COMMITTER_EMAIL", "test@example.com")
                .args(args),
        );
    }
    let json = must(
        Command::new(&go)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", t)
            .env("GOPATH", t.join("gopath"))
            .env("GOMODCACHE", t.join("modcache"))
            .env("GOCACHE", t.join("gocache"))
            .env("GOPROXY", "direct")
            .env("GOSUMDB", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-modcacherw")
            .env("GIT_CONFIG_GLOBAL", &gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .current_dir(t)
            .args(["mod", "download", "-json", &format!("{MODULE}@v1.4.0")]),
    );
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let go_sum = j["Sum"].as_str().unwrap().to_string();

    // The work tree has a .git directory, which the zip leaves out; zip a clean copy so that
    // `mod hash` of the directory can be compared as well.
    let clean = t.join("clean");
    for entry in [
        "go.mod",
        "tree.go",
        "internal/x/x.go",
        "testdata/data file.txt",
        "README.md",
    ] {
        let to = clean.join(entry);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(repo.join(entry), to).unwrap();
    }
    let out = t.join("clitree.zip");
    let ours = h1_of(
        "zip",
        &agora(&[
            "mod",
            "zip",
            "--path",
            MODULE,
            "--version",
            "v1.4.0",
            s(&repo),
            "-o",
            s(&out),
        ]),
    );
    assert_eq!(ours, go_sum, "agora mod zip vs go mod download");
    let from_clean = h1_of(
        "hash dir",
        &agora(&[
            "mod",
            "hash",
            "--path",
            MODULE,
            "--version",
            "v1.4.0",
            s(&clean),
        ]),
    );
    assert_eq!(from_clean, go_sum, "agora mod hash of the tree vs go");
    let go_zip = j["Zip"].as_str().unwrap();
    let verified = h1_of(
        "verify go's zip",
        &agora(&[
            "mod",
            "verify",
            "--path",
            MODULE,
            "--version",
            "v1.4.0",
            go_zip,
        ]),
    );
    assert_eq!(verified, go_sum, "agora mod verify of go's zip");
}

/// The test command stops at the first step that fails: a PostgreSQL that cannot be found or
/// started must not let the suite run on with an empty `DATABASE_URL`.
#[test]
fn the_test_script_stops_when_postgres_cannot_be_had() {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test.sh"))
        .env("ENSURE_POSTGRES", "false")
        // Were the failure ignored, this makes the next steps fail at once rather than run.
        .env("CARGO", "false")
        .env("AGORA_GO", "/bin/true")
        .output()
        .expect("run scripts/test.sh");
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("DATABASE_URL="),
        "went on past the failed step: {}",
        stdout(&out)
    );
}

/// Bytes in regular files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => bytes_under(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[test]
fn import_refuses_a_pax_size_tar_bomb_with_little_written() {
    let work = tempfile::tempdir().unwrap();
    // A .tgz of well under 1 MiB: a PAX record says the zip that follows holds 600 MiB, its
    // ustar header says 0, and 600 MiB of zeros follow.
    let bomb = work.path().join("bomb.tgz");
    let declared: u64 = 600 << 20;
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        fs::File::create(&bomb).unwrap(),
        flate2::Compression::best(),
    ));
    tar.append_pax_extensions([("size", declared.to_string().as_bytes())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("example.com/m/@v/v1.0.0.zip").unwrap();
    h.set_mode(0o644);
    h.set_size(0);
    h.set_cksum();
    let gz = tar.get_mut();
    gz.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(declared >> 20) {
        gz.write_all(&zeros).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
    let bomb_size = fs::metadata(&bomb).unwrap().len();
    assert!(bomb_size < 1 << 20, "{bomb_size}");

    // Where the import unpacks (its temporary directory) and stores, sampled while it runs.
    let tmp = work.path().join("tmp");
    let data = work.path().join("data");
    fs::create_dir_all(&tmp).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("import")
        .arg(&bomb)
        .env_remove("RUST_LOG")
        .env("TMPDIR", &tmp)
        .env(
            "AGORA_DATABASE_URL",
            format!("sqlite://{}", work.path().join("db.sqlite").display()),
        )
        .env("AGORA_DATA_DIR", &data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(bytes_under(&tmp) + bytes_under(&data));
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("example.com/m/@v/v1.0.0.zip: larger than 524288000 bytes"),
        "{err}"
    );
    eprintln!("bomb {bomb_size} bytes, declaring {declared}: peak {peak} bytes on disk");
    assert!(peak < 1 << 20, "{peak} bytes written");
    assert_eq!(bytes_under(&tmp), 0, "the unpacked files are removed");
}
