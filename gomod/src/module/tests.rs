#![allow(clippy::unwrap_used)]
use super::*;

const Y: bool = true;
const N: bool = false;

/// (path, valid module path, valid import path, valid file path)
const PATHS: &[(&str, bool, bool, bool)] = &[
    ("", N, N, N),
    ("example.com", Y, Y, Y),
    ("example.com/m", Y, Y, Y),
    ("example.com/m/sub/pkg", Y, Y, Y),
    ("a.b", Y, Y, Y),
    ("x", N, Y, Y),
    ("localhost/m", N, Y, Y),
    ("github.com/Azure/azure-sdk-for-go", Y, Y, Y),
    ("GitHub.com/x/y", N, Y, Y),
    ("git-hub.com/x", Y, Y, Y),
    ("-example.com/x", N, N, Y),
    ("example.com/-x", Y, Y, Y),
    ("-", N, N, Y),
    ("a.-b/c", Y, Y, Y),
    ("exa_mple.com/x", N, Y, Y),
    ("exa~mple.com/x", N, Y, Y),
    ("example.com:8080/x", N, N, N),
    ("/example.com/x", N, N, N),
    ("example.com/", N, N, N),
    ("example.com//x", N, N, N),
    ("example.com/./x", N, N, N),
    ("example.com/../x", N, N, N),
    ("example.com/...", N, N, N),
    ("..", N, N, N),
    (".", N, N, N),
    ("example.com/.hidden", N, Y, Y),
    (".example.com/x", N, Y, Y),
    ("example.com/x.", N, N, N),
    ("example.com/x..y", Y, Y, Y),
    ("example.com/x.y.z", Y, Y, Y),
    ("example.com/a_b~c-d.e", Y, Y, Y),
    ("example.com/a+b", N, Y, Y),
    ("example.com/a b", N, N, Y),
    ("example.com/a@b", N, N, Y),
    ("example.com/a!b", N, N, Y),
    ("example.com/a#$%&()b", N, N, Y),
    ("example.com/a,=[]^{}b", N, N, Y),
    ("example.com/a\"b", N, N, N),
    ("example.com/a'b", N, N, N),
    ("example.com/a*b", N, N, N),
    ("example.com/a<b", N, N, N),
    ("example.com/a>b", N, N, N),
    ("example.com/a?b", N, N, N),
    ("example.com/a`b", N, N, N),
    ("example.com/a|b", N, N, N),
    ("example.com/a\\b", N, N, N),
    ("example.com/a:b", N, N, N),
    ("example.com/a;b", N, N, N),
    ("example.com/a\0b", N, N, N),
    ("example.com/a\tb", N, N, N),
    ("example.com/a\nb", N, N, N),
    ("example.com/é", N, N, Y),
    ("example.com/日本語", N, N, Y),
    ("example.com/Ωmega", N, N, Y),
    // U+2160 ROMAN NUMERAL ONE is a number (Nl), not a letter; U+0301 is a combining mark.
    ("example.com/\u{2160}", N, N, N),
    ("example.com/e\u{301}", N, N, N),
    ("example.com/\u{0660}", N, N, N),
    ("example.com/\u{200b}", N, N, N),
    ("example.com/😀", N, N, N),
    ("éxample.com/x", N, N, Y),
    ("example.com/con", N, N, N),
    ("example.com/CON", N, N, N),
    ("example.com/Con.go", N, N, N),
    ("example.com/aux.x.y", N, N, N),
    ("example.com/nul", N, N, N),
    ("example.com/prn", N, N, N),
    ("example.com/com1", N, N, N),
    ("example.com/COM9.txt", N, N, N),
    ("example.com/lpt5", N, N, N),
    ("example.com/com0", Y, Y, Y),
    ("example.com/com10", Y, Y, Y),
    ("example.com/lpt", Y, Y, Y),
    ("example.com/console", Y, Y, Y),
    ("example.com/xcon", Y, Y, Y),
    ("example.com/con_", Y, Y, Y),
    ("con.com/x", N, N, N),
    ("example.com/PROGRA~1", N, N, Y),
    ("example.com/progra~12.txt", N, N, Y),
    ("example.com/x~1.y", N, N, Y),
    ("example.com/x.y~1", Y, Y, Y),
    ("example.com/foo~bar", Y, Y, Y),
    ("example.com/foo~", Y, Y, Y),
    ("example.com/~", Y, Y, Y),
    ("example.com/~1", N, N, Y),
    ("example.com/a~1~b", Y, Y, Y),
    ("example.com/a~b~1", N, N, Y),
    ("example.com/v2", Y, Y, Y),
    ("example.com/m/v2", Y, Y, Y),
    ("example.com/m/v10", Y, Y, Y),
    ("example.com/m/v0", N, Y, Y),
    ("example.com/m/v1", N, Y, Y),
    ("example.com/m/v01", N, Y, Y),
    ("example.com/m/v2.0", N, Y, Y),
    ("example.com/m/v2.", N, N, N),
    ("example.com/m/v", Y, Y, Y),
    ("example.com/m/V2", Y, Y, Y),
    ("example.com/m/vv2", Y, Y, Y),
    ("example.com/m/x2", Y, Y, Y),
    ("example.com/m/v2/sub", Y, Y, Y),
    ("example.com/m/v1/sub", Y, Y, Y),
    ("example.com/v1", N, Y, Y),
    ("gopkg.in/yaml.v2", Y, Y, Y),
    ("gopkg.in/yaml.v0", Y, Y, Y),
    ("gopkg.in/yaml.v02", N, Y, Y),
    ("gopkg.in/yaml.v2-unstable", Y, Y, Y),
    ("gopkg.in/user/pkg.v3", Y, Y, Y),
    ("gopkg.in/yaml", N, Y, Y),
    ("gopkg.in/yaml.v2/sub", N, Y, Y),
    ("gopkg.in/yaml/v2", N, Y, Y),
    ("gopkg.in/v2", N, Y, Y),
    ("gopkg.in", Y, Y, Y),
    // Faithful to Go: the digits after `.v` may be missing when `-unstable` follows.
    ("gopkg.in/yaml.v-unstable", Y, Y, Y),
    ("x.y/a/b/c/d/e/f/g", Y, Y, Y),
];

#[test]
fn path_checks_by_kind() {
    for &(p, module, import, file) in PATHS {
        assert_eq!(
            check_path(p).is_ok(),
            module,
            "check_path({p:?}) = {:?}",
            check_path(p)
        );
        assert_eq!(
            check_import_path(p).is_ok(),
            import,
            "check_import_path({p:?}) = {:?}",
            check_import_path(p)
        );
        assert_eq!(
            check_file_path(p).is_ok(),
            file,
            "check_file_path({p:?}) = {:?}",
            check_file_path(p)
        );
        assert_eq!(
            ModulePath::parse(p).is_ok(),
            module,
            "ModulePath::parse({p:?})"
        );
        assert_eq!(p.parse::<ModulePath>().is_ok(), module, "FromStr({p:?})");
    }
}

#[test]
fn error_messages_read_like_go() {
    let table: &[(Result<(), InvalidPath>, &str)] = &[
        (check_path(""), r#"malformed module path "": empty string"#),
        (
            check_path("x"),
            r#"malformed module path "x": missing dot in first path element"#,
        ),
        (
            check_path("-x.com"),
            r#"malformed module path "-x.com": leading dash"#,
        ),
        (
            check_path("a.com//b"),
            r#"malformed module path "a.com//b": double slash"#,
        ),
        (
            check_path("a.com/"),
            r#"malformed module path "a.com/": trailing slash"#,
        ),
        (
            check_path("/a.com"),
            r#"malformed module path "/a.com": empty path element"#,
        ),
        (
            check_path("a.com/.."),
            r#"malformed module path "a.com/..": invalid path element "..""#,
        ),
        (
            check_path("a.com/.x"),
            r#"malformed module path "a.com/.x": leading dot in path element"#,
        ),
        (
            check_path("a.com/x."),
            r#"malformed module path "a.com/x.": trailing dot in path element"#,
        ),
        (
            check_path("a.com/a+b"),
            r#"malformed module path "a.com/a+b": invalid char '+'"#,
        ),
        (
            check_path("a.com/a'b"),
            r#"malformed module path "a.com/a'b": invalid char '\''"#,
        ),
        (
            check_path("a.com/a\0b"),
            r#"malformed module path "a.com/a\x00b": invalid char '\x00'"#,
        ),
        (
            check_path("a.com/a\u{200b}"),
            r#"malformed module path "a.com/a\u200b": invalid char '\u200b'"#,
        ),
        (
            check_path("a.com/é"),
            r#"malformed module path "a.com/é": invalid char 'é'"#,
        ),
        (
            check_path("a.com/Aux.go"),
            r#"malformed module path "a.com/Aux.go": "Aux" disallowed as path element component on Windows"#,
        ),
        (
            check_path("a.com/x~1"),
            r#"malformed module path "a.com/x~1": trailing tilde and digits in path element"#,
        ),
        (
            check_path("A.com/x"),
            r#"malformed module path "A.com/x": invalid char 'A' in first path element"#,
        ),
        (
            check_path("a.com/m/v1"),
            r#"malformed module path "a.com/m/v1": invalid version"#,
        ),
        (
            check_import_path("a\"b"),
            r#"malformed import path "a\"b": invalid char '"'"#,
        ),
        (
            check_file_path("a\\b"),
            r#"malformed file path "a\\b": invalid char '\\'"#,
        ),
        (
            check_file_path("a/\n"),
            r#"malformed file path "a/\n": invalid char '\n'"#,
        ),
        (
            check("a.com/m/v2", "v1.0.0"),
            "a.com/m/v2@v1.0.0: invalid version: should be v2, not v1",
        ),
        (
            check("a.com/m", "v2.0.0"),
            "a.com/m@v2.0.0: invalid version: should be v0 or v1, not v2",
        ),
        (
            check("a.com/m", "master"),
            "a.com/m@master: invalid version: not a semantic version",
        ),
        (
            check("gopkg.in/yaml.v3", "v2.1.0"),
            "gopkg.in/yaml.v3@v2.1.0: invalid version: should be v3, not v2",
        ),
        (
            escape_version("a/b").map(drop),
            r#"version "a/b" invalid: disallowed version string"#,
        ),
        (
            unescape_path("A.com").map(drop),
            r#"invalid escaped module path "A.com""#,
        ),
        (
            unescape_path("x").map(drop),
            r#"invalid escaped module path "x": malformed module path "x": missing dot in first path element"#,
        ),
        (
            unescape_version("v1!").map(drop),
            r#"invalid escaped version "v1!""#,
        ),
        (
            unescape_version("!c!o!n").map(drop),
            r#"invalid escaped version "CON": "CON" disallowed as path element component on Windows"#,
        ),
    ];
    for (got, want) in table {
        let err = got.as_ref().expect_err(want);
        assert_eq!(err.to_string(), *want);
    }
}

/// (unescaped path, escaped form)
const ESCAPES: &[(&str, &str)] = &[
    ("example.com/m", "example.com/m"),
    (
        "github.com/Azure/azure-sdk-for-go",
        "github.com/!azure/azure-sdk-for-go",
    ),
    (
        "github.com/GoogleCloudPlatform/x",
        "github.com/!google!cloud!platform/x",
    ),
    ("example.com/ABC/v2", "example.com/!a!b!c/v2"),
    ("example.com/Z", "example.com/!z"),
    ("gopkg.in/Yaml.v2", "gopkg.in/!yaml.v2"),
];

#[test]
fn path_escaping_round_trips() {
    for &(path, esc) in ESCAPES {
        assert_eq!(
            escape_path(path).as_deref(),
            Ok(esc),
            "escape_path({path:?})"
        );
        assert_eq!(
            unescape_path(esc).as_deref(),
            Ok(path),
            "unescape_path({esc:?})"
        );
        let m = ModulePath::parse(path).unwrap();
        assert_eq!(m.escaped(), esc, "ModulePath({path:?}).escaped()");
        assert_eq!(
            ModulePath::from_escaped(esc),
            Ok(m.clone()),
            "from_escaped({esc:?})"
        );
        assert_eq!(m.to_string(), path, "Display of {path:?}");
        assert_eq!(m.as_str(), path);
        assert_eq!(m.as_ref(), path);
    }
    for &(p, module, _, _) in PATHS {
        if module {
            let esc = escape_path(p).unwrap();
            assert!(
                !esc.bytes().any(|b| b.is_ascii_uppercase()),
                "escape_path({p:?}) = {esc:?} has uppercase"
            );
            assert_eq!(unescape_path(&esc).as_deref(), Ok(p), "round trip of {p:?}");
        } else {
            assert!(escape_path(p).is_err(), "escape_path({p:?}) should fail");
        }
    }
}

#[test]
fn bad_escapes_are_refused() {
    let table = [
        "example.com/Azure",
        "example.com/!Azure",
        "example.com/!",
        "example.com/!!a",
        "example.com/!1",
        "example.com/!-",
        "example.com/é",
        "example.com/!é",
        "",
        "!",
        "!example.com",
        "example.com/m/v1",
    ];
    for esc in table {
        assert!(
            unescape_path(esc).is_err(),
            "unescape_path({esc:?}) = {:?}",
            unescape_path(esc)
        );
        assert!(
            ModulePath::from_escaped(esc).is_err(),
            "from_escaped({esc:?})"
        );
    }
}

#[test]
fn version_escaping() {
    // (version or query, escaped form, or None if it can't be escaped)
    let table: &[(&str, Option<&str>)] = &[
        ("v1.0.0", Some("v1.0.0")),
        ("v1.0.0-RC1", Some("v1.0.0-!r!c1")),
        ("v2.0.0+incompatible", Some("v2.0.0+incompatible")),
        ("master", Some("master")),
        ("Feature-X", Some("!feature-!x")),
        ("abcdef0123", Some("abcdef0123")),
        ("latest", Some("latest")),
        ("", None),
        (".", None),
        ("..", None),
        ("x.", None),
        (".x", Some(".x")),
        ("feature/x", None),
        ("a:b", None),
        ("a*b", None),
        ("a!b", None),
        ("con", None),
        ("Aux.x", None),
        ("PROGRA~1", Some("!p!r!o!g!r!a~1")),
        ("vé", None),
        ("a b", Some("a b")),
        ("a\0", None),
    ];
    for &(v, want) in table {
        let got = escape_version(v);
        assert_eq!(got.as_deref().ok(), want, "escape_version({v:?}) = {got:?}");
        if let Some(esc) = want {
            assert_eq!(
                unescape_version(esc).as_deref(),
                Ok(v),
                "unescape_version({esc:?})"
            );
        }
    }
    for esc in [
        "V1.0.0",
        "v1.0.0-!",
        "v1!0",
        "!!",
        "v1.0.0-!R",
        "a/b",
        "",
        "v1.é",
        "con",
    ] {
        assert!(
            unescape_version(esc).is_err(),
            "unescape_version({esc:?}) = {:?}",
            unescape_version(esc)
        );
    }
}

#[test]
fn split_path_version_table() {
    let table: &[(&str, Option<(&str, &str)>)] = &[
        ("example.com/m", Some(("example.com/m", ""))),
        ("example.com/m/v2", Some(("example.com/m", "/v2"))),
        ("example.com/m/v123", Some(("example.com/m", "/v123"))),
        ("example.com/v2", Some(("example.com", "/v2"))),
        ("example.com/m/v0", None),
        ("example.com/m/v1", None),
        ("example.com/m/v02", None),
        ("example.com/m/v2.1", None),
        ("example.com/m/v2/x", Some(("example.com/m/v2/x", ""))),
        ("example.com/m/v", Some(("example.com/m/v", ""))),
        ("example.com/mv2", Some(("example.com/mv2", ""))),
        ("v2", Some(("v2", ""))),
        ("/v2", Some(("", "/v2"))),
        ("x/v2", Some(("x", "/v2"))),
        ("", Some(("", ""))),
        ("gopkg.in/yaml.v2", Some(("gopkg.in/yaml", ".v2"))),
        ("gopkg.in/yaml.v0", Some(("gopkg.in/yaml", ".v0"))),
        ("gopkg.in/yaml.v1", Some(("gopkg.in/yaml", ".v1"))),
        ("gopkg.in/yaml.v10", Some(("gopkg.in/yaml", ".v10"))),
        ("gopkg.in/yaml.v01", None),
        (
            "gopkg.in/yaml.v2-unstable",
            Some(("gopkg.in/yaml", ".v2-unstable")),
        ),
        ("gopkg.in/yaml.v0-unstable", None),
        ("gopkg.in/yaml", None),
        ("gopkg.in/yaml/v2", None),
        ("gopkg.in/yaml.v2/sub", None),
        ("gopkg.in/yaml.v", None),
        ("gopkg.in/", None),
    ];
    for &(p, want) in table {
        assert_eq!(split_path_version(p), want, "split_path_version({p:?})");
        if let Some((prefix, major)) = want {
            assert_eq!(format!("{prefix}{major}"), p, "pieces of {p:?} rejoin");
            if check_path(p).is_ok() {
                assert_eq!(
                    ModulePath::parse(p).unwrap().split_major(),
                    (prefix, major),
                    "split_major({p:?})"
                );
            }
        }
    }
}

#[test]
fn major_prefix_and_check() {
    let prefixes: &[(&str, Option<&str>)] = &[
        ("", Some("")),
        ("/v2", Some("v2")),
        ("/v10", Some("v10")),
        (".v1", Some("v1")),
        (".v0", Some("v0")),
        (".v3-unstable", Some("v3")),
        (".v-unstable", None),
        ("/v2-unstable", None),
        ("v2", None),
        ("/v02", None),
        ("/v2.0", None),
        ("/x", None),
        ("/", Some("")),
    ];
    for &(pm, want) in prefixes {
        assert_eq!(path_major_prefix(pm), want, "path_major_prefix({pm:?})");
    }

    // (path, version, accepted by check)
    let table: &[(&str, &str, bool)] = &[
        ("example.com/m", "v0.1.0", Y),
        ("example.com/m", "v1.9.9", Y),
        ("example.com/m", "v1", Y),
        ("example.com/m", "v2.0.0", N),
        ("example.com/m", "v2.0.0+incompatible", Y),
        ("example.com/m", "v2.0.0+other", N),
        ("example.com/m", "v0.0.0-20200101000000-abcdefabcdef", Y),
        ("example.com/m", "1.0.0", N),
        ("example.com/m", "", N),
        ("example.com/m/v2", "v2.0.0", Y),
        ("example.com/m/v2", "v2.5.1-pre", Y),
        ("example.com/m/v2", "v2.0.0+incompatible", Y),
        ("example.com/m/v2", "v3.0.0", N),
        ("example.com/m/v2", "v1.0.0", N),
        ("example.com/m/v2", "v0.0.0-20200101000000-abcdefabcdef", N),
        ("example.com/m/v3", "v3.0.0-20200101000000-abcdefabcdef", Y),
        ("gopkg.in/yaml.v2", "v2.4.0", Y),
        ("gopkg.in/yaml.v2", "v1.0.0", N),
        ("gopkg.in/yaml.v1", "v1.0.0", Y),
        ("gopkg.in/yaml.v1", "v0.0.0-20150101000000-abcdefabcdef", Y),
        ("gopkg.in/yaml.v1", "v0.1.0", N),
        ("gopkg.in/yaml.v0", "v0.1.0", Y),
        ("gopkg.in/yaml.v2-unstable", "v2.0.0", Y),
        (
            "gopkg.in/yaml.v1-unstable",
            "v0.0.0-20150101000000-abcdefabcdef",
            Y,
        ),
        ("example.com/m/v1", "v1.0.0", N),
        ("bad", "v1.0.0", N),
    ];
    for &(p, v, ok) in table {
        assert_eq!(
            check(p, v).is_ok(),
            ok,
            "check({p:?}, {v:?}) = {:?}",
            check(p, v)
        );
    }
    assert_eq!(
        check_path_major("v2.0.0", "v3").map_err(|e| e.to_string()),
        Err(r#"version "v2.0.0" invalid: should be v3, not v2"#.to_string())
    );
}

#[test]
fn canonical_version_keeps_incompatible() {
    let table = [
        ("v1", "v1.0.0"),
        ("v1.2.3", "v1.2.3"),
        ("v1.2.3+meta", "v1.2.3"),
        ("v2.0.0+incompatible", "v2.0.0+incompatible"),
        ("v2+incompatible", ""),
        ("v2.1.0-pre+incompatible", "v2.1.0-pre+incompatible"),
        ("v2.0.0+incompatible.1", "v2.0.0"),
        ("bad+incompatible", ""),
        ("", ""),
    ];
    for (v, want) in table {
        assert_eq!(canonical_version(v), want, "canonical_version({v:?})");
        assert_eq!(
            canonical_version(want),
            want,
            "canonical_version is idempotent on {want:?}"
        );
    }
}

#[test]
fn go_quoting() {
    let table = [
        ("", r#""""#),
        ("abc", r#""abc""#),
        ("a\"b", r#""a\"b""#),
        ("a'b", r#""a'b""#),
        ("\x07\x08\x0c\n\r\t\x0b", r#""\a\b\f\n\r\t\v""#),
        ("\x7f\x01", r#""\x7f\x01""#),
        ("日本", r#""日本""#),
        ("\u{feff}", r#""\ufeff""#),
        ("\u{e0001}", r#""\U000e0001""#),
        ("a b", r#""a b""#),
        ("\u{a0}", r#""\u00a0""#),
    ];
    for (s, want) in table {
        assert_eq!(go_quote(s), want, "go_quote({s:?})");
    }
    assert_eq!(go_quote_char('\''), r"'\''");
    assert_eq!(go_quote_char('"'), "'\"'");
}

#[test]
fn adversarial_inputs() {
    let long_elem = "a".repeat(100_000);
    let long = format!("example.com/{long_elem}");
    assert!(check_path(&long).is_ok());
    assert_eq!(unescape_path(&escape_path(&long).unwrap()).unwrap(), long);
    let deep = format!("example.com{}", "/x".repeat(50_000));
    assert!(check_path(&deep).is_ok());
    let slashes = "/".repeat(10_000);
    assert!(check_path(&slashes).is_err());
    assert!(check_file_path(&slashes).is_err());
    let bangs = "!".repeat(10_001);
    assert!(unescape_path(&bangs).is_err());
    assert!(unescape_version(&bangs).is_err());
}
