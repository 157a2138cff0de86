#![allow(clippy::unwrap_used, clippy::type_complexity)]
use super::*;

fn r(low: &str, high: &str, rationale: &str) -> Retraction {
    Retraction {
        low: low.into(),
        high: high.into(),
        rationale: rationale.into(),
    }
}

#[test]
fn module_and_go() {
    // (go.mod, module path, deprecation, go version)
    let table: &[(&str, Option<&str>, Option<&str>, Option<&str>)] = &[
        ("", None, None, None),
        ("module example.com/m\n", Some("example.com/m"), None, None),
        ("module example.com/m", Some("example.com/m"), None, None),
        (
            "module \"example.com/m\"\ngo 1.21\n",
            Some("example.com/m"),
            None,
            Some("1.21"),
        ),
        (
            "module `example.com/m`\r\ngo 1.22.3\r\n",
            Some("example.com/m"),
            None,
            Some("1.22.3"),
        ),
        (
            "  module   example.com/M/v2 // trailing\n",
            Some("example.com/M/v2"),
            None,
            None,
        ),
        (
            "module (\n\texample.com/m\n)\n",
            Some("example.com/m"),
            None,
            None,
        ),
        ("go 1.23rc1\nmodule x\n", Some("x"), None, Some("1.23rc1")),
        (
            "module x\ngo 1.21.0-custom\n",
            Some("x"),
            None,
            Some("1.21"),
        ),
        ("module x\ngo v1.21x\n", Some("x"), None, Some("1.21")),
        (
            "module x\ngo 1.99999999999999999999\n",
            Some("x"),
            None,
            Some("1.99999999999999999999"),
        ),
        (
            "// Deprecated: use y\nmodule x\n",
            Some("x"),
            Some("use y"),
            None,
        ),
        (
            "module x // Deprecated: use y\n",
            Some("x"),
            Some("use y"),
            None,
        ),
        (
            "// Deprecated:   spaces first\nmodule x\n",
            Some("x"),
            Some("spaces first"),
            None,
        ),
        ("// Deprecated: use y\n\nmodule x\n", Some("x"), None, None),
        (
            "// intro\n//\n// Deprecated: gone.\n// More text.\n//\n// After.\nmodule x\n",
            Some("x"),
            Some("gone.\nMore text."),
            None,
        ),
        ("// Not Deprecated: x\nmodule x\n", Some("x"), None, None),
        ("// Deprecated:\nmodule x\n", Some("x"), Some(""), None),
        (
            "module x\n\nrequire (\n\ty.com/z v1.0.0\n\t\"q.com/w\" v1.2.3 // indirect\n)\nreplace a => b v1.0.0\nexclude ( )\n",
            Some("x"),
            None,
            None,
        ),
        (
            "module x\ntool (\n\tgolang.org/x/tools/cmd/stringer\n)\ngodebug (\n\tdefault=go1.21\n)\ntoolchain go1.22.1\n",
            Some("x"),
            None,
            None,
        ),
        (
            "module x\nreplace (\n\ta/b => ../c\n\td/e v1.0.0 => f/g v1.1.0\n)\n",
            Some("x"),
            None,
            None,
        ),
        (
            "module x\nignore ./node_modules\nignore (\n\t\"./tmp\"\n)\n",
            Some("x"),
            None,
            None,
        ),
        (
            "module x\nfrobnicate ( weird stuff\n)\n(\n",
            Some("x"),
            None,
            None,
        ),
        ("module x\nrequire ()\nrequire ( )\n", Some("x"), None, None),
        (
            "module x\nunknown 1 2 3\nunknown (\n\t[ ] { } ,\n)\n",
            Some("x"),
            None,
            None,
        ),
    ];
    for &(src, path, dep, go) in table {
        let parsed = parse_lax(src.as_bytes());
        let f = parsed.unwrap_or_else(|e| panic!("parse_lax({src:?}): {e}"));
        assert_eq!(f.module_path(), path, "module path of {src:?}");
        assert_eq!(
            f.module.as_ref().and_then(|m| m.deprecated.as_deref()),
            dep,
            "deprecation in {src:?}"
        );
        assert_eq!(f.go.as_deref(), go, "go version in {src:?}");
    }
}

#[test]
fn malformed_files_are_errors() {
    // (go.mod, line of the error)
    let table: &[(&[u8], usize)] = &[
        (b"module x\nmodule y\n", 2),
        (b"module\n", 1),
        (b"module a b\n", 1),
        (b"module \"unterminated\n", 1),
        (b"module \"bad\\q\"\n", 1),
        (b"module x\ngo\n", 2),
        (b"module x\ngo 1.21 1.22\n", 2),
        (b"module x\ngo 1\n", 2),
        (b"module x\ngo 1.021\n", 2),
        (b"module x\ngo 0.9\n", 2),
        (b"module x\ngo 1.21\ngo 1.22\n", 3),
        (b"module x\n/* c */\n", 2),
        (b"module x /* c */\n", 1),
        (b"module x\nrequire y\n", 2),
        (b"module x\nrequire y.com/z master\n", 2),
        (b"module x\nrequire (\n\ty.com/z\n)\n", 3),
        (b"module x\nignore\n", 2),
        (b"module x\nrequire (\n\ty.com/z v1.0.0\n", 2),
        (b"module x\nrequire ( y.com/z v1.0.0 )\n", 2),
        (b"module x\nrequire (\n\t( nested\n)\n", 3),
        (b"module x\nrequire (\n) x\n", 3),
        (b"module (x)\n", 1),
        (b"module x\n\x01\n", 2),
        (b"module x\n\xff\xfe\n", 2),
    ];
    for &(src, line) in table {
        let got = parse_lax(src);
        let e = got.expect_err(&format!(
            "parse_lax({:?}) should fail",
            String::from_utf8_lossy(src)
        ));
        assert_eq!(
            e.line,
            line,
            "error line for {:?}: {e}",
            String::from_utf8_lossy(src)
        );
    }
}

#[test]
fn retractions() {
    let src = "\
module example.com/m

go 1.21

// Published too early.
retract v1.0.0

retract [v1.1.0, v1.2.9] // Broken build.

// Unrelated free-standing comment.

retract v1.3

// Block comment.
retract (
\t// First member.
\tv2.0.0+incompatible
\t[v0.1.0, v0.2.0]

\t// Second paragraph
\t//
\t// continues.

\t\"v0.3.0\" // same line
\tnot-a-version
\t[v0.4.0, nope]
\t[v0.5.0 v0.6.0]
\t[v0.7.0, v0.8.0] extra
)

retract (
\tv0.9.0
)
";
    let f = parse_lax(src.as_bytes()).unwrap();
    let want = vec![
        r("v1.0.0", "v1.0.0", "Published too early."),
        r("v1.1.0", "v1.2.9", "Broken build."),
        r("v1.3.0", "v1.3.0", ""),
        r(
            "v2.0.0+incompatible",
            "v2.0.0+incompatible",
            "First member.",
        ),
        r("v0.1.0", "v0.2.0", "Block comment."),
        r(
            "v0.3.0",
            "v0.3.0",
            "Second paragraph\n\ncontinues.\nsame line",
        ),
        r("v0.7.0", "v0.8.0", "Block comment."),
        r("v0.9.0", "v0.9.0", ""),
    ];
    assert_eq!(f.retract, want);

    // (version, retraction rationale or None if not retracted)
    let table: &[(&str, Option<&str>)] = &[
        ("v1.0.0", Some("Published too early.")),
        ("v1.0.1", None),
        ("v1.1.0", Some("Broken build.")),
        ("v1.2.0-rc.1", Some("Broken build.")),
        ("v1.2.9", Some("Broken build.")),
        ("v1.2.9+meta", Some("Broken build.")),
        ("v1.2.10", None),
        ("v1.1.0-pre", None),
        ("v1.3.0", Some("")),
        ("v1.3", Some("")),
        ("v2.0.0+incompatible", Some("First member.")),
        ("v2.0.0", Some("First member.")),
        ("v0.1.5", Some("Block comment.")),
        ("v0.3.0", Some("Second paragraph\n\ncontinues.\nsame line")),
        ("v0.5.0", None),
        ("v0.7.5", Some("Block comment.")),
        ("not-a-version", None),
        ("", None),
    ];
    for &(v, want) in table {
        assert_eq!(
            f.retraction_rationale(v),
            want,
            "retraction_rationale({v:?})"
        );
        assert_eq!(f.is_retracted(v), want.is_some(), "is_retracted({v:?})");
    }
    assert_eq!(f.retract[1].to_string(), "[v1.1.0, v1.2.9]");
    assert_eq!(f.retract[0].to_string(), "v1.0.0");
}

#[test]
fn go_versions() {
    // (go line, at least 1.24, at least 1.21)
    let table = [
        ("1.24", true, true),
        ("1.24.0", true, true),
        ("1.24rc1", true, true),
        ("1.24.3", true, true),
        ("1.25", true, true),
        ("1.100", true, true),
        ("2.0", true, true),
        ("1.23", false, true),
        ("1.23.99", false, true),
        ("1.21", false, true),
        ("1.20", false, false),
        ("1.9", false, false),
        ("1", false, false),
        ("", false, false),
        ("go1.24", false, false),
        ("1.024", false, false),
        ("1.24.", false, false),
        ("1.24rc", false, false),
        ("1.24RC1", false, false),
        ("1.24 ", false, false),
        // GoVersionRE takes numbers of any length, and gover compares them as decimal strings.
        ("99999999999.0", true, true),
        ("1.99999999999999999999999", true, true),
        ("1.20000000000000000000000rc1", true, true),
    ];
    for (g, ge24, ge21) in table {
        assert_eq!(go_version_ge(g, 1, 24), ge24, "go_version_ge({g:?}, 1, 24)");
        assert_eq!(go_version_ge(g, 1, 21), ge21, "go_version_ge({g:?}, 1, 21)");
    }
    let f = parse_lax(b"module x\ngo 1.24\n").unwrap();
    assert!(f.go_at_least(1, 24));
    assert!(!parse_lax(b"module x\n").unwrap().go_at_least(1, 0));
}

#[test]
fn quick_module_path_scan() {
    let table: &[(&[u8], Option<&str>)] = &[
        (b"module example.com/m\n", Some("example.com/m")),
        (
            b"// comment\n\n  module   example.com/m  // c\ngo 1.21\n",
            Some("example.com/m"),
        ),
        (b"module \"example.com/q\"\n", Some("example.com/q")),
        (b"module `example.com/r`\n", Some("example.com/r")),
        (b"module \"bad\n", None),
        (b"module\nmodule x.com/y\n", Some("x.com/y")),
        (b"modulex.com/y\nmodule z.com\n", Some("z.com")),
        (b"go 1.21\n", None),
        (b"", None),
        (b"\xff\nmodule a.com\n", Some("a.com")),
        (b"module (\n\ta.com\n)\n", Some("(")),
    ];
    for &(src, want) in table {
        assert_eq!(
            module_path(src).as_deref(),
            want,
            "module_path({:?})",
            String::from_utf8_lossy(src)
        );
    }
}

#[test]
fn unquoting() {
    let table: &[(&str, Option<&str>)] = &[
        ("\"abc\"", Some("abc")),
        ("\"a\\\"b\"", Some("a\"b")),
        ("\"\\t\\n\\\\\"", Some("\t\n\\")),
        ("\"\\x41\\101\\u00e9\\U0001F600\"", Some("AAé😀")),
        ("\"\\xc3\\xa9\"", Some("é")),
        ("\"\\xff\"", None),
        ("\"\\q\"", None),
        ("\"\\x4\"", None),
        ("\"\\400\"", None),
        ("\"\\ud800\"", None),
        ("\"a\"b\"", None),
        ("\"abc", None),
        ("`raw\\n`", Some("raw\\n")),
        ("`a`b`", None),
        ("abc", None),
    ];
    for &(q, want) in table {
        assert_eq!(unquote(q).as_deref(), want, "unquote({q:?})");
    }
}

#[test]
fn adversarial_inputs_do_not_panic() {
    let inputs: Vec<Vec<u8>> = vec![
        b"(".to_vec(),
        b")".to_vec(),
        b"retract [".to_vec(),
        b"retract [v1.0.0,".to_vec(),
        b"retract ]".to_vec(),
        b"\"".to_vec(),
        b"`".to_vec(),
        b"module \"\\".to_vec(),
        b"//".to_vec(),
        b"/".to_vec(),
        b"a/*".to_vec(),
        "module é\u{301}\n".as_bytes().to_vec(),
        vec![0; 100],
        "retract (\n".repeat(1000).into_bytes(),
        "x ".repeat(100_000).into_bytes(),
        format!("module {}\n", "a".repeat(1_000_000)).into_bytes(),
    ];
    for src in inputs {
        let _ = parse_lax(&src);
        let _ = module_path(&src);
    }
}
