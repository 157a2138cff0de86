//! Which files `create_from_dir` puts into a module zip, and which trees it refuses.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use gomod::zip::{self, MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE, ZipError};

const MOD: &str = "example.com/m";
const VER: &str = "v1.0.0";

/// Builds a tree from (path, contents) pairs; a path ending in `/` makes an empty directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, body) in files {
        let full = dir.path().join(p);
        if p.ends_with('/') {
            fs::create_dir_all(&full).unwrap();
            continue;
        }
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(&full, body).unwrap();
    }
    dir
}

fn zipped(dir: &Path) -> Result<Vec<String>, ZipError> {
    let mut out = Vec::new();
    let created = zip::create_from_dir(&mut out, MOD, VER, dir)?;
    let mut names = created.files.clone();
    names.sort();
    // What the zip really holds, read back.
    let mut ar = ::zip::ZipArchive::new(std::io::Cursor::new(out)).unwrap();
    let mut inside: Vec<String> = (0..ar.len())
        .map(|i| {
            let f = ar.by_index(i).unwrap();
            f.name()
                .unwrap()
                .strip_prefix("example.com/m@v1.0.0/")
                .unwrap()
                .to_string()
        })
        .collect();
    inside.sort();
    assert_eq!(names, inside);
    Ok(names)
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const VENDOR_TREE: &[&str] = &[
    "main.go",
    "vendor/modules.txt",
    "vendor/top.go",
    "vendor/golang.org/x/lib/lib.go",
    "pkg/vendor/vendor.go",
    "pkg/vendor/inner/deep.go",
];

fn vendor_case(go_line: Option<&str>) -> Vec<String> {
    let mut files: Vec<(&str, String)> = VENDOR_TREE
        .iter()
        .map(|p| (*p, format!("// {p}\n")))
        .collect();
    let gomod = match go_line {
        Some(g) => format!("module example.com/m\n\n{g}\n"),
        None => "module example.com/m\n".to_string(),
    };
    files.push(("go.mod", gomod));
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, b)| (*p, b.as_str())).collect();
    let dir = tree(&refs);
    zipped(dir.path()).unwrap()
}

#[test]
fn vendor_rules_before_go_1_24() {
    let want = sorted(&["go.mod", "main.go", "vendor/modules.txt", "vendor/top.go"]);
    assert_eq!(vendor_case(Some("go 1.23")), want);
    assert_eq!(vendor_case(Some("go 1.23.9")), want);
    assert_eq!(vendor_case(None), want, "no go line means the old rule");
    assert_eq!(
        vendor_case(Some("go 1.x")),
        want,
        "unparsable go line means the old rule"
    );
}

#[test]
fn vendor_rules_from_go_1_24() {
    let want = sorted(&["go.mod", "main.go", "vendor/top.go", "pkg/vendor/vendor.go"]);
    assert_eq!(vendor_case(Some("go 1.24")), want);
    assert_eq!(vendor_case(Some("go 1.24rc1")), want);
    assert_eq!(vendor_case(Some("go 1.26.0")), want);
}

#[test]
fn vendor_rule_ignores_a_nested_go_mod_version() {
    // Only the root go.mod decides; without one, the old rule applies.
    let dir = tree(&[
        ("pkg/vendor/vendor.go", "x"),
        ("vendor/modules.txt", "x"),
        ("nested/go.mod", "module example.com/m/nested\n\ngo 1.25\n"),
    ]);
    assert_eq!(zipped(dir.path()).unwrap(), sorted(&["vendor/modules.txt"]));
}

#[test]
fn nested_modules_are_left_out() {
    let dir = tree(&[
        ("go.mod", "module example.com/m\n"),
        ("a.go", "package m"),
        ("sub/go.mod", "module example.com/m/sub\n"),
        ("sub/s.go", "package sub"),
        ("sub/deeper/d.go", "package deeper"),
        ("upper/GO.MOD", "module whatever\n"),
        ("upper/u.go", "package upper"),
        ("mixed/Go.Mod", ""),
        ("mixed/x/y.txt", ""),
        ("subway/w.go", "package subway"),
        ("other/notgo.mod", ""),
    ]);
    assert_eq!(
        zipped(dir.path()).unwrap(),
        sorted(&["go.mod", "a.go", "subway/w.go", "other/notgo.mod"])
    );
}

#[test]
fn hg_archival_only_at_root() {
    let dir = tree(&[
        (".hg_archival.txt", "repo: x\n"),
        ("docs/.hg_archival.txt", "kept\n"),
        ("f.go", "package m"),
    ]);
    assert_eq!(
        zipped(dir.path()).unwrap(),
        sorted(&["docs/.hg_archival.txt", "f.go"])
    );
}

#[test]
fn vcs_dirs_and_empty_dirs_are_skipped() {
    let dir = tree(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/objects/aa/bb", "x"),
        (".hg/store", "x"),
        (".svn/entries", "x"),
        ("deep/.bzr/branch", "x"),
        ("empty/", ""),
        (".gitignore", "*.o\n"),
        ("x.go", "package m"),
    ]);
    assert_eq!(zipped(dir.path()).unwrap(), sorted(&[".gitignore", "x.go"]));
}

#[test]
fn symlinks_are_left_out() {
    let dir = tree(&[("real.go", "package m"), ("d/inner.go", "package d")]);
    std::os::unix::fs::symlink("real.go", dir.path().join("link.go")).unwrap();
    std::os::unix::fs::symlink("d", dir.path().join("dirlink")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", dir.path().join("dangling")).unwrap();
    assert_eq!(
        zipped(dir.path()).unwrap(),
        sorted(&["d/inner.go", "real.go"])
    );
}

#[test]
fn a_symlinked_go_mod_is_no_module_boundary() {
    // The go command's direct mode: only a regular go.mod starts a nested module.
    let dir = tree(&[("real.mod", "module x\n"), ("sub/s.go", "package sub")]);
    std::os::unix::fs::symlink("../real.mod", dir.path().join("sub/go.mod")).unwrap();
    assert_eq!(
        zipped(dir.path()).unwrap(),
        sorted(&["real.mod", "sub/s.go"])
    );
}

#[test]
fn a_symlink_still_takes_part_in_collisions() {
    let dir = tree(&[("readme", "x")]);
    std::os::unix::fs::symlink("readme", dir.path().join("README")).unwrap();
    let err = zipped(dir.path()).unwrap_err();
    assert!(matches!(err, ZipError::CaseCollision { .. }), "{err}");
}

#[test]
fn fifo_is_left_out() {
    let dir = tree(&[("a.go", "package m")]);
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(status, Ok(s) if s.success()) {
        return; // no mkfifo here: nothing to test
    }
    assert_eq!(zipped(dir.path()).unwrap(), sorted(&["a.go"]));
}

#[test]
fn case_collisions_of_files_and_parents() {
    let cases: &[&[(&str, &str)]] = &[
        &[("A/x", ""), ("a/y", "")],
        &[("File.go", ""), ("file.go", "")],
        &[("dir/Ü.txt", ""), ("dir/ü.txt", "")],
        &[("σ/a", ""), ("Σ/b", "")],
        &[("\u{212A}elvin", ""), ("kelvin", "")],
        &[("deep/Er/x", ""), ("deep/er/y", "")],
    ];
    for files in cases {
        let dir = tree(files);
        let err = zipped(dir.path()).unwrap_err();
        assert!(
            matches!(err, ZipError::CaseCollision { .. }),
            "{files:?}: {err}"
        );
        assert!(
            err.to_string()
                .contains("case-insensitive file name collision")
        );
    }
}

#[test]
fn collision_inside_omitted_area_is_harmless() {
    let dir = tree(&[
        ("go.mod", "module example.com/m\n\ngo 1.24\n"),
        ("vendor/x/A.go", ""),
        ("vendor/x/a.go", ""),
        ("sub/go.mod", ""),
        ("sub/B", ""),
        ("sub/b", ""),
    ]);
    assert_eq!(zipped(dir.path()).unwrap(), sorted(&["go.mod"]));
}

#[test]
fn root_go_mod_in_wrong_case() {
    for name in ["Go.mod", "GO.MOD", "go.MOD"] {
        let dir = tree(&[(name, "module example.com/m\n")]);
        let err = zipped(dir.path()).unwrap_err();
        assert!(matches!(err, ZipError::GoModCase { .. }), "{name}: {err}");
        assert!(
            err.to_string()
                .contains("go.mod files must have lowercase names")
        );
    }
}

fn sparse(dir: &Path, rel: &str, len: u64) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::File::create(&p).unwrap().set_len(len).unwrap();
}

#[test]
fn sizes_over_the_limits() {
    let dir = tree(&[]);
    sparse(dir.path(), "go.mod", MAX_GO_MOD + 1);
    assert!(matches!(
        zipped(dir.path()),
        Err(ZipError::GoModTooLarge { .. })
    ));

    let dir = tree(&[]);
    sparse(dir.path(), "LICENSE", MAX_LICENSE + 1);
    assert!(matches!(
        zipped(dir.path()),
        Err(ZipError::LicenseTooLarge { .. })
    ));

    // A LICENSE elsewhere, or a big nested go.mod, is only subject to the total.
    let dir = tree(&[("sub/go.mod", "")]);
    sparse(dir.path(), "sub/LICENSE", MAX_LICENSE + 1);
    assert_eq!(zipped(dir.path()).unwrap(), Vec::<String>::new());

    let dir = tree(&[]);
    sparse(dir.path(), "a.bin", MAX_ZIP_FILE / 2);
    sparse(dir.path(), "b.bin", MAX_ZIP_FILE / 2 + 1);
    let err = zipped(dir.path()).unwrap_err();
    assert!(matches!(err, ZipError::SourceTreeTooLarge), "{err}");

    // Exactly at the limit is fine, but we don't write 500 MiB here: check the vendored part is
    // not counted instead.
    let dir = tree(&[]);
    sparse(dir.path(), "vendor/x/huge.bin", MAX_ZIP_FILE + 1);
    sparse(dir.path(), "small.bin", 10);
    assert_eq!(zipped(dir.path()).unwrap(), sorted(&["small.bin"]));
}

#[test]
fn go_mod_at_exactly_the_limit_is_accepted_by_the_checks() {
    // Not written (16 MiB of zeros compress well, and it keeps the test honest about the bound).
    let dir = tree(&[]);
    sparse(dir.path(), "go.mod", MAX_GO_MOD);
    let mut out = Vec::new();
    let c = zip::create_from_dir(&mut out, MOD, VER, dir.path()).unwrap();
    assert_eq!(c.size, MAX_GO_MOD);
    assert!(out.len() < 1 << 20);
}

#[test]
fn bad_file_names() {
    for name in [
        "aux.go",
        "con.txt",
        "a:b",
        "x?.go",
        "quo\"te",
        "star*",
        "dot.",
        "back\\slash",
    ] {
        let dir = tree(&[(name, "")]);
        let err = zipped(dir.path()).unwrap_err();
        assert!(
            matches!(err, ZipError::InvalidFilePath { .. }),
            "{name}: {err}"
        );
    }
}

#[test]
fn bad_names_inside_omitted_areas_are_harmless() {
    let dir = tree(&[("vendor/x/aux.go", ""), ("n/go.mod", ""), ("n/con.txt", "")]);
    assert_eq!(zipped(dir.path()).unwrap(), Vec::<String>::new());
}

#[test]
fn create_is_deterministic() {
    let dir = tree(&[
        ("go.mod", "module example.com/m\n\ngo 1.22\n"),
        ("a.go", "package m\n"),
        ("sub/b.go", "package sub\n"),
        ("ünï côdé+@=.txt", "odd but legal\n"),
    ]);
    let mut one = Vec::new();
    let mut two = Vec::new();
    let c1 = zip::create_from_dir(&mut one, MOD, VER, dir.path()).unwrap();
    let c2 = zip::create_from_dir(&mut two, MOD, VER, dir.path()).unwrap();
    assert_eq!(one, two);
    assert_eq!(c1, c2);
    assert_eq!(c1.file_count(), 4);
}

#[test]
fn round_trip_hashes_agree() {
    let dir = tree(&[
        ("go.mod", "module example.com/m\n\ngo 1.22\n"),
        ("a.go", "package m\n"),
        ("LICENSE", "permissive\n"),
        ("sub/b.go", "package sub\n"),
        ("sub/deep/data.bin", "\u{0}\u{1}\u{2}"),
        ("ünï côdé+@=.txt", "odd but legal\n"),
        ("empty.txt", ""),
    ]);
    let out_dir = tempfile::tempdir().unwrap();
    let zip_path = out_dir.path().join("m.zip");
    let created =
        zip::create_from_dir(fs::File::create(&zip_path).unwrap(), MOD, VER, dir.path()).unwrap();
    let checked = zip::check_zip(&zip_path, MOD, VER).unwrap();
    assert_eq!(checked.h1, created.h1);
    assert_eq!(checked.files, created.file_count());
    assert_eq!(checked.size, created.size);
    assert_eq!(
        checked.go_mod.as_deref(),
        Some(&b"module example.com/m\n\ngo 1.22\n"[..])
    );
    assert_eq!(gomod::dirhash::hash_zip(&zip_path).unwrap(), created.h1);
    assert_eq!(
        gomod::dirhash::hash_dir(dir.path(), "example.com/m@v1.0.0").unwrap(),
        created.h1
    );
}

#[test]
fn create_from_a_list_with_an_inherited_license() {
    let sub = tree(&[
        ("go.mod", "module example.com/m\n"),
        ("m.go", "package m\n"),
    ]);
    let mut files: Vec<Box<dyn zip::File>> = zip::list_dir(sub.path())
        .unwrap()
        .into_iter()
        .map(|f| Box::new(f) as Box<dyn zip::File>)
        .collect();
    files.push(Box::new(zip::MemFile::new("LICENSE", "root license\n")));
    let mut out = Vec::new();
    let c = zip::create(&mut out, MOD, VER, files).unwrap();
    assert_eq!(c.files, ["go.mod", "m.go", "LICENSE"]);
}
