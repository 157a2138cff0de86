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
            "module \"example.com/\\x6d\"\r\ngo 1.22.3\r\n",
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
        (b"module x\nrequire (\n\ty.com/z v1.0.0\n", 4),
        (b"module x\nrequire ( y.com/z v1.0.0 )\n", 2),
        (b"module x\nrequire (\n\t( nested\n)\n", 3),
        (b"module x\nrequire (\n) x\n", 3),
        (b"module (x)\n", 1),
        (b"module x\n\x01\n", 2),
    ];
    for &(src, line) in table {
        let got = parse_lax(src);
        let e = got.expect_err(&format!(
            "parse_lax({:?}) should fail",
            String::from_utf8_lossy(src)
        ));
        assert_eq!(
            e.line(),
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
        ("\"\\xff\"", Some("\u{fffd}")),
        ("\"\\x+f\"", None),
        ("\"\\u+123\"", None),
        ("\"\\'\"", None),
        ("`a\r\nb`", Some("a\nb")),
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

/// The go command's own verdicts on dependency go.mod files (each checked with `go list -m all`
/// over a static GOPROXY, Go 1.27): `Ok` where it parsed, else its message after
/// `parsing go.mod: `.
#[test]
fn require_module_and_ignore_lines_as_the_go_command_reads_them() {
    // Line 5 of a dependency's go.mod.
    let line5: &[(&str, Result<(), &str>)] = &[
        // Quoting: a bare word must not contain any quote; a backquoted string is refused too.
        (
            "require example.com/dep\"<script> v1.0.0",
            Err("go.mod:5: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "require 'a.com/x' v1.0.0",
            Err("go.mod:5: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "require `a.com/x` v1.0.0",
            Err("go.mod:5: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "require a`b.com/x v1.0.0",
            Err("go.mod:5: invalid quoted string: unquoted string cannot contain quote"),
        ),
        ("require \"a.com/x\" v1.0.0", Ok(())),
        ("require \"a.com/\\u00e9\" v1.0.0", Ok(())),
        ("require \"a.com/\\xff\" v1.0.0", Ok(())),
        ("require \"\" v1.0.0", Ok(())),
        (
            "require \"a.com/\\q\" v1.0.0",
            Err("go.mod:5: invalid quoted string: invalid syntax"),
        ),
        (
            "require \"a.com/\\x+f\" v1.0.0",
            Err("go.mod:5: invalid quoted string: invalid syntax"),
        ),
        (
            "require \"a.com/\\'\" v1.0.0",
            Err("go.mod:5: invalid quoted string: invalid syntax"),
        ),
        // The version: quoting first (the raw token is quoted in the message), then its form.
        (
            "require a.com/x v1.0.0'",
            Err(
                "go.mod:5: require a.com/x: version \"v1.0.0'\" invalid: unquoted string cannot contain quote",
            ),
        ),
        (
            "require a.com/x v1.0.0\"x\"",
            Err(
                "go.mod:5: require a.com/x: version \"v1.0.0\\\"x\\\"\" invalid: unquoted string cannot contain quote",
            ),
        ),
        (
            "require a.com/x `v1.0.0`",
            Err(
                "go.mod:5: require a.com/x: version \"`v1.0.0`\" invalid: unquoted string cannot contain quote",
            ),
        ),
        (
            "require a.com/x \"v1.\\q\"",
            Err("go.mod:5: require a.com/x: version \"\\\"v1.\\\\q\\\"\" invalid: invalid syntax"),
        ),
        ("require a.com/x \"v1.0.0\"", Ok(())),
        ("require a.com/x v1", Ok(())),
        ("require a.com/x v1.2", Ok(())),
        ("require a.com/x v1.0.0+meta", Ok(())),
        ("require a.com/x v1.0.0 // indirect", Ok(())),
        ("require a.com/é v1.0.0", Ok(())),
        (
            "require a.com/x master",
            Err(
                "go.mod:5: require a.com/x: version \"master\" invalid: must be of the form v1.2.3",
            ),
        ),
        (
            "require a.com/x \"\"",
            Err("go.mod:5: require a.com/x: version \"\" invalid: must be of the form v1.2.3"),
        ),
        (
            "require a.com/x v1.0.0-0123",
            Err(
                "go.mod:5: require a.com/x: version \"v1.0.0-0123\" invalid: must be of the form v1.2.3",
            ),
        ),
        (
            "require a.com/x [",
            Err("go.mod:5: require a.com/x: version \"[\" invalid: must be of the form v1.2.3"),
        ),
        ("require [ v1.0.0", Ok(())),
        // The major version suffix.
        (
            "require a.com/x/v2 v1.0.0",
            Err("go.mod:5: require a.com/x/v2: version \"v1.0.0\" invalid: should be v2, not v1"),
        ),
        (
            "require a.com/x v2.0.0",
            Err(
                "go.mod:5: require a.com/x: version \"v2.0.0\" invalid: should be v0 or v1, not v2",
            ),
        ),
        (
            "require a.com/x/v2 v0.0.0-20161208181325-20d25e280405",
            Err(
                "go.mod:5: require a.com/x/v2: version \"v0.0.0-20161208181325-20d25e280405\" invalid: should be v2, not v0",
            ),
        ),
        (
            "require gopkg.in/yaml.v2 v1.0.0",
            Err(
                "go.mod:5: require gopkg.in/yaml.v2: version \"v1.0.0\" invalid: should be v2, not v1",
            ),
        ),
        ("require a.com/x v2.0.0+incompatible", Ok(())),
        ("require a.com/x/v2 v2.0.0+incompatible", Ok(())),
        ("require gopkg.in/yaml.v2-unstable v2.0.0", Ok(())),
        ("require gopkg.in/yaml.v0 v0.1.0", Ok(())),
        (
            "require gopkg.in/check.v1 v0.0.0-20161208181325-20d25e280405",
            Ok(()),
        ),
        (
            "require a.com/x/v1 v1.0.0",
            Err("go.mod:5: invalid module path"),
        ),
        (
            "require a.com/x/v02 v2.0.0",
            Err("go.mod:5: invalid module path"),
        ),
        (
            "require a.com/x/v2.1 v2.0.0",
            Err("go.mod:5: invalid module path"),
        ),
        (
            "require gopkg.in/yaml v1.0.0",
            Err("go.mod:5: invalid module path"),
        ),
        // Shape.
        (
            "require a.com/x",
            Err("go.mod:5: usage: require module/path v1.2.3"),
        ),
        (
            "require a.com/x v1.0.0 extra",
            Err("go.mod:5: usage: require module/path v1.2.3"),
        ),
        (
            "require \"a.com/x\"y v1.0.0",
            Err("go.mod:5: usage: require module/path v1.2.3"),
        ),
        (
            "require ( a.com/x v1.0.0",
            Err("go.mod:5: usage: require module/path v1.2.3"),
        ),
        // ignore.
        ("ignore ./x", Ok(())),
        ("ignore \"./x\"", Ok(())),
        (
            "ignore `./x`",
            Err("go.mod:5: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "ignore 'x'",
            Err("go.mod:5: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "ignore",
            Err("go.mod:5: ignore directive expects exactly one argument"),
        ),
        (
            "ignore a b",
            Err("go.mod:5: ignore directive expects exactly one argument"),
        ),
        // What ParseLax skips, or drops silently.
        ("exclude 'x' v1.0.0", Ok(())),
        ("replace 'x' => y v1.0.0", Ok(())),
        ("toolchain 'x'", Ok(())),
        ("godebug 'x'", Ok(())),
        ("tool 'x'", Ok(())),
        ("frob 'x'", Ok(())),
        ("retract v1.0.0'", Ok(())),
        ("retract \"v1.\\q\"", Ok(())),
        ("retract master", Ok(())),
        // Lexical errors, with the go command's columns.
        (
            "require a.com/x v1.0.0 \u{a0}",
            Err("go.mod:5:24: unexpected input character '\\u00a0'"),
        ),
        (
            "require a.com/x v1.0.0 \x01",
            Err("go.mod:5:24: unexpected input character '\\x01'"),
        ),
        (
            "require a.com/x v1 /* x */",
            Err("go.mod:5:20: mod files must use // comments (not /* */ comments)"),
        ),
    ];
    for &(line, want) in line5 {
        let src = format!("module example.com/dep\n\ngo 1.21\n\n{line}\n");
        let got = parse_lax(src.as_bytes())
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_string), "{line:?}");
    }

    let files: &[(&str, Result<(), &str>)] = &[
        (
            "module example.com/dep'\n",
            Err("go.mod:1: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "module `example.com/dep`\n",
            Err("go.mod:1: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "module \"example.com/\\q\"\n",
            Err("go.mod:1: invalid quoted string: invalid syntax"),
        ),
        ("module \"example.com/dep\"\n", Ok(())),
        (
            "module example.com/dep\ngo \"1.21\"\n",
            Err("go.mod:2: invalid go version '\"1.21\"': must match format 1.23.0"),
        ),
        (
            "module example.com/dep\ngo [\n",
            Err("go.mod:2: invalid go version '[': must match format 1.23.0"),
        ),
        // Every directive error is reported, one a line, block members with their column.
        (
            "module example.com/dep\nrequire (\n\t'a.com/x' v1.0.0\n\ta.com/y master\n)\n",
            Err(
                "go.mod:3:2: invalid quoted string: unquoted string cannot contain quote\n\
                 go.mod:4:2: require a.com/y: version \"master\" invalid: must be of the form v1.2.3",
            ),
        ),
        (
            "module example.com/dep\nrequire 'a.com/x' v1.0.0\nignore 'y'\nrequire a.com/z/v2 v1.0.0\n",
            Err(
                "go.mod:2: invalid quoted string: unquoted string cannot contain quote\n\
                 go.mod:3: invalid quoted string: unquoted string cannot contain quote\n\
                 go.mod:4: require a.com/z/v2: version \"v1.0.0\" invalid: should be v2, not v1",
            ),
        ),
        (
            "module 'x'\nmodule example.com/dep\n",
            Err(
                "go.mod:1: invalid quoted string: unquoted string cannot contain quote\n\
                 go.mod:2: repeated module statement",
            ),
        ),
        (
            "module example.com/dep\n  require a.com/x master\n",
            Err(
                "go.mod:2:3: require a.com/x: version \"master\" invalid: must be of the form v1.2.3",
            ),
        ),
        (
            "module example.com/dep\nignore (\n\t'y'\n)\n",
            Err("go.mod:3:2: invalid quoted string: unquoted string cannot contain quote"),
        ),
        (
            "module example.com/dep\nrequire (\n\t\"a\" \"b\" \"c\"\n)\n",
            Err("go.mod:3:2: usage: require module/path v1.2.3"),
        ),
        // Blocks the lax parser skips, and a block opened on a line with more words.
        (
            "module example.com/dep\nrequire a.com/x (\n'q'\n)\n",
            Ok(()),
        ),
        ("module example.com/dep\nretract (\n'q'\n)\n", Ok(())),
        ("module example.com/dep\ngo (\n'q'\n)\n", Ok(())),
        // Syntax errors are reported alone, whatever else is wrong.
        (
            "module example.com/dep\nrequire 'x' v1.0.0\nrequire \"y\n",
            Err("go.mod:3:11: unexpected newline in string"),
        ),
        (
            "module example.com/dep\nrequire a.com/x \"v1",
            Err("go.mod:2:17: unexpected EOF in string"),
        ),
        (
            "module example.com/dep\nrequire (\n\ta.com/x v1.0.0\n",
            Err("go.mod:4: syntax error (unterminated block started at go.mod:2:1)"),
        ),
        (
            "module example.com/dep\nrequire (\n) x\n",
            Err("go.mod:3:4: syntax error (expected newline after closing paren)"),
        ),
        ("module example.com/dep\nrequire (\n) // c\n", Ok(())),
        (
            "module example.com/dep\n\u{0}\n",
            Err("go.mod:2: unexpected input character '\\x00'"),
        ),
        // A backslash escapes a newline inside a quoted string: the string runs on (and then
        // fails to unquote), and the lines after it keep their numbers.
        (
            "module example.com/dep\nreplace \"a\\\nb\" => c v1.0.0\n",
            Ok(()),
        ),
        (
            "module example.com/dep\nrequire \"a\\\nb\" v1.0.0\nrequire a.com/x master\n",
            Err("go.mod:2: invalid quoted string: invalid syntax\n\
                 go.mod:4: require a.com/x: version \"master\" invalid: must be of the form v1.2.3"),
        ),
    ];
    for &(src, want) in files {
        let got = parse_lax(src.as_bytes())
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_string), "{src:?}");
    }
    // Bytes that are not UTF-8 read as U+FFFD, which is printable: an unknown verb here, as
    // for the go command.
    assert!(parse_lax(b"module example.com/dep\n\xff\xfe\n// \xff\n").is_ok());
}
