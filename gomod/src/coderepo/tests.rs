#![allow(clippy::unwrap_used)]
use super::*;

fn layout(module: &str, root: &str) -> Layout {
    Layout::new(module, root, "").unwrap()
}

#[test]
fn layouts() {
    let cases = [
        ("example.com/r", "example.com/r", "", "", ""),
        ("example.com/r/sub", "example.com/r", "sub", "", ""),
        ("example.com/r/v2", "example.com/r", "", "/v2", "v2"),
        ("example.com/r/sub/v3", "example.com/r", "sub", "/v3", "v3"),
        ("example.com/r/v2", "example.com/r/v2", "", "/v2", "v2"),
        ("gopkg.in/yaml.v2", "gopkg.in/yaml.v2", "", ".v2", "v2"),
    ];
    for (module, root, dir, major, pmajor) in cases {
        let l = layout(module, root);
        assert_eq!(
            (
                l.code_dir.as_str(),
                l.path_major.as_str(),
                l.pseudo_major.as_str()
            ),
            (dir, major, pmajor),
            "{module} in {root}"
        );
    }
    assert!(Layout::new("example.com/other", "example.com/r", "").is_err());
    assert_eq!(
        Layout::new("example.com/r", "example.com/r", "go")
            .unwrap()
            .code_dir,
        "go"
    );
}

#[test]
fn revisions() {
    let sub = layout("example.com/r/sub", "example.com/r");
    let cases = [
        ("v1.2.3", "sub/v1.2.3"),
        ("v2.0.0+incompatible", "sub/v2.0.0"),
        ("v1.2.4-0.20240304050607-0123456789ab", "0123456789ab"),
        ("main", "main"),
        ("abcdef1", "abcdef1"),
    ];
    for (rev, want) in cases {
        assert_eq!(sub.rev_to_rev(rev), want, "{rev}");
    }
}

#[test]
fn listing() {
    struct Case {
        module: &'static str,
        tags: &'static [&'static str],
        with_go_mod: &'static [&'static str],
        want: &'static [&'static str],
    }
    let cases = [
        Case {
            module: "example.com/r",
            tags: &[
                "v1.0.0",
                "v1.1",
                "v1.2.0+meta",
                "sub/v0.1.0",
                "v0.0.0-20240101000000-0123456789ab",
                "junk",
                "v1.0.1-rc.1",
            ],
            with_go_mod: &[],
            want: &["v1.0.0", "v1.0.1-rc.1"],
        },
        Case {
            module: "example.com/r/sub",
            tags: &[
                "v1.0.0",
                "sub/v0.1.0",
                "sub/v0.2.0",
                "subx/v1.0.0",
                "sub/v2.0.0",
            ],
            with_go_mod: &["sub/v0.2.0"],
            want: &["v0.1.0", "v0.2.0"],
        },
        Case {
            // The reference's verified example.
            module: "example.com/b",
            tags: &[
                "v1.0.0",
                "v2.0.0",
                "v2.1.0",
                "v3.0.0",
                "v4.0.0",
                "v4.0.1-rc.1",
            ],
            with_go_mod: &["v3.0.0", "v4.0.0", "v4.0.1-rc.1"],
            want: &["v1.0.0", "v2.0.0+incompatible", "v2.1.0+incompatible"],
        },
        Case {
            module: "example.com/b",
            tags: &["v1.0.0", "v2.0.0"],
            with_go_mod: &["v1.0.0"],
            want: &["v1.0.0"],
        },
        Case {
            module: "example.com/b",
            tags: &["v2.0.0", "v3.0.0"],
            with_go_mod: &[],
            want: &["v2.0.0+incompatible", "v3.0.0+incompatible"],
        },
        Case {
            module: "example.com/b/v2",
            tags: &["v1.0.0", "v2.0.0", "v2.1.0", "v3.0.0"],
            with_go_mod: &[],
            want: &["v2.0.0", "v2.1.0"],
        },
        Case {
            module: "gopkg.in/x.v2-unstable",
            tags: &["v2.0.0"],
            with_go_mod: &[],
            want: &[],
        },
    ];
    for c in cases {
        let root = match c.module {
            "example.com/r/sub" => "example.com/r",
            "example.com/b/v2" => "example.com/b",
            m => m,
        };
        let l = layout(c.module, root);
        let (list, inc) = tag_versions(&l, c.tags.iter().copied());
        let prefix = l.tag_prefix();
        let got = append_incompatible(list, &inc, |v| {
            c.with_go_mod.contains(&format!("{prefix}{v}").as_str())
        });
        assert_eq!(got, c.want, "{} {:?}", c.module, c.tags);
    }
}

#[test]
fn go_mod_questions_ask_the_top_of_each_major() {
    let list = vec!["v1.0.0".to_string(), "v1.2.0".to_string()];
    let inc: Vec<String> = ["v2.0.0", "v2.1.0", "v3.0.0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        go_mod_questions(&list, &inc),
        ["v1.2.0", "v2.1.0", "v3.0.0"]
    );
}

#[test]
fn tags_to_versions() {
    let root = layout("example.com/r", "example.com/r");
    let sub = layout("example.com/r/sub", "example.com/r");
    let v2 = layout("example.com/r/v2", "example.com/r");
    let retracted = |v: &str| v == "v1.3.0";
    let none = |_: &str| false;
    let cases: [(&Layout, &str, bool, (&str, bool)); 10] = [
        (&root, "v1.2.3", false, ("v1.2.3", true)),
        (&root, "v1.2.3+meta", false, ("v1.2.3", false)),
        (&root, "v1.2", false, ("", false)),
        (&root, "v1.3.0", false, ("", false)),
        (&root, "v2.0.0", false, ("", false)),
        (&root, "v2.0.0", true, ("v2.0.0+incompatible", true)),
        (&sub, "sub/v0.1.0", false, ("v0.1.0", true)),
        (&sub, "v0.1.0", false, ("", false)),
        (&v2, "v2.0.1", false, ("v2.0.1", true)),
        (
            &root,
            "v0.0.0-20240101000000-0123456789ab",
            false,
            ("", false),
        ),
    ];
    for (l, tag, inc, (want, canon)) in cases {
        let is_retracted: &dyn Fn(&str) -> bool = if l.code_dir.is_empty() {
            &retracted
        } else {
            &none
        };
        let got = tag_to_version(l, tag, is_retracted, inc);
        assert_eq!((got.0.as_str(), got.1), (want, canon), "{} {tag}", l.module);
    }
}

#[test]
fn recent_tags() {
    let tags = [
        "v1.0.0",
        "v1.3.0",
        "v1.2.0",
        "v1.10",
        "sub/v9.0.0",
        "v2.0.0",
        "v1.4.0+meta",
    ];
    let not_retracted = |v: &str| semver::major(v) == "v1" && v != "v1.4.0+meta";
    assert_eq!(
        recent_tag(tags.iter().copied(), "", &not_retracted).as_deref(),
        Some("v1.3.0")
    );
    let any = |_: &str| true;
    assert_eq!(
        recent_tag(tags.iter().copied(), "sub/", &any).as_deref(),
        Some("sub/v9.0.0")
    );
    assert_eq!(recent_tag(tags.iter().copied(), "x/", &any), None);
}

#[test]
fn finding_go_mod() {
    let gm = |p: &str| Some(format!("module {p}\n").into_bytes());
    let root = layout("example.com/r", "example.com/r");
    let sub = layout("example.com/r/sub", "example.com/r");
    let v2 = layout("example.com/r/v2", "example.com/r");
    assert_eq!(find_dir(&root, "v1.0.0", None, None).unwrap().dir, "");
    assert_eq!(
        find_dir(&root, "v1.0.0", gm("example.com/r"), None)
            .unwrap()
            .dir,
        ""
    );
    assert!(
        find_dir(&root, "v1.0.0", gm("example.com/r/v3"), None)
            .unwrap_err()
            .contains("post-v1")
    );
    assert!(
        find_dir(&sub, "v1.0.0", None, None)
            .unwrap_err()
            .contains("missing")
    );
    assert_eq!(
        find_dir(&sub, "v1.0.0", gm("example.com/r/sub"), None)
            .unwrap()
            .dir,
        "sub"
    );
    // Forks are served: only the major suffix is compared.
    assert_eq!(
        find_dir(&sub, "v1.0.0", gm("fork.example/x"), None)
            .unwrap()
            .dir,
        "sub"
    );
    assert_eq!(
        find_dir(&v2, "v2.0.0", None, gm("example.com/r/v2"))
            .unwrap()
            .dir,
        "v2"
    );
    assert_eq!(
        find_dir(&v2, "v2.0.0", gm("example.com/r/v2"), None)
            .unwrap()
            .dir,
        ""
    );
    assert!(
        find_dir(
            &v2,
            "v2.0.0",
            gm("example.com/r/v2"),
            gm("example.com/r/v2")
        )
        .is_err()
    );
    assert!(find_dir(&v2, "v2.0.0", gm("example.com/r"), None).is_err());
    assert!(
        find_dir(&v2, "v2.0.0", None, None)
            .unwrap_err()
            .contains("missing")
    );
}
