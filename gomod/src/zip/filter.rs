//! The files the go command leaves out of a module zip without complaint, in the order it tests
//! them: vendored packages, files of nested modules, a root `.hg_archival.txt`, then (after the
//! name checks and the collision check, see `create`) symlinks and other irregular files.

use std::collections::HashSet;

use super::split;
use crate::modfile;

/// Why a file was silently left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Omitted {
    Vendored,
    InNestedModule,
    HgArchival,
    Symlink,
    NotRegular,
}

/// Whether the vendoring rules of Go 1.24 and later apply to a module with this root go.mod: the
/// go command reads it with `modfile.ParseLax` ([`modfile::parse_lax`]) and compares the language
/// version of its `go` line with 1.24. No go.mod, one that does not parse, or no `go` line: the
/// old rules.
pub fn uses_go124_vendor_rules(go_mod: Option<&[u8]>) -> bool {
    go_mod
        .and_then(|data| modfile::parse_lax(data).ok())
        .is_some_and(|f| f.go_at_least(1, 24))
}

/// `isVendoredPackage`. `go124` selects the rules of modules whose go.mod says `go 1.24` or later:
/// they also drop `vendor/modules.txt`, and measure `/vendor/` from where it was found. Older (or
/// unknown) modules keep Go's historical rule, which measured from byte offset 8 of the path.
pub fn is_vendored(name: &str, go124: bool) -> bool {
    if go124 && name == "vendor/modules.txt" {
        return true;
    }
    let start = if let Some(rest) = name.strip_prefix("vendor/") {
        name.len() - rest.len()
    } else if let Some(j) = name.find("/vendor/") {
        if go124 {
            j + "/vendor/".len()
        } else {
            "/vendor/".len()
        }
    } else {
        return false;
    };
    // `start` never exceeds the length: "/vendor/" occurs at or after offset 0.
    name.get(start..).is_some_and(|tail| tail.contains('/'))
}

/// The directories (as `dir/`, with the trailing slash) holding a regular file named `go.mod` in
/// any case, excluding the module root. Built from (path, is_regular) pairs.
#[derive(Debug, Default)]
pub struct NestedModules {
    dirs: HashSet<String>,
}

impl NestedModules {
    /// Records `path` if it is a regular `go.mod` (any case) below the root.
    pub fn note(&mut self, path: &str, is_regular: bool) {
        let (dir, base) = split(path);
        if is_regular && !dir.is_empty() && base.eq_ignore_ascii_case("go.mod") {
            self.dirs.insert(dir.to_string());
        }
    }

    /// Whether some ancestor directory of `path` (not the root) holds a go.mod. A nested go.mod
    /// is itself inside its own directory, so it is omitted too.
    pub fn contains(&self, path: &str) -> bool {
        let mut p = path;
        loop {
            let (dir, _) = split(p);
            if dir.is_empty() {
                return false;
            }
            if self.dirs.contains(dir) {
                return true;
            }
            p = &dir[..dir.len() - 1];
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn vendor_table() {
        // (path, kept under go < 1.24 or unknown, kept under go >= 1.24)
        let rows = [
            ("vendor/modules.txt", true, false),
            ("vendor/lib.go", true, true),
            ("vendor/golang.org/x/y.go", false, false),
            ("pkg/vendor/vendor.go", false, true),
            ("pkg/vendor/inner/thing.go", false, false),
            ("deep/er/vendor/v.go", false, true),
            ("deep/er/vendor/x/v.go", false, false),
            ("vendored/a/b.go", true, true),
            ("notvendor/a/b.go", true, true),
            ("a/vendor", true, true),
            ("main.go", true, true),
        ];
        for (p, old_kept, new_kept) in rows {
            assert_eq!(!is_vendored(p, false), old_kept, "old rule, {p}");
            assert_eq!(!is_vendored(p, true), new_kept, "new rule, {p}");
        }
    }

    #[test]
    fn vendor_rule_switch() {
        // (root go.mod, new rules apply)
        let rows: &[(&[u8], bool)] = &[
            (b"module m\n\ngo 1.24\n", true),
            (b"module m\ngo 1.24.1\n", true),
            (b"module m\ngo 1.25rc2 // comment\n", true),
            (b"module m\n  go   1.24.0  \n", true),
            (b"module m\ngo 2.0\n", true),
            (b"module m\ngo 1.100\n", true),
            (b"module m\ngo 1.24-beta\n", true),
            (b"module m\ngo v1.24beta\n", true),
            (b"go 1.24\n", true),
            // Bytes that are not UTF-8 are no parse error for the go command.
            (b"module m\ngo 1.24\n\xff\n", true),
            (b"module m\ngo 1.23\n", false),
            (b"module m\ngo 1.23.4\n", false),
            (b"module m\n", false),
            (b"module m\n// go 1.24\n", false),
            (b"module m\ngopher 1.30\n", false),
            // Not a valid go line: the whole file fails to parse.
            (b"module m\ngo\n", false),
            (b"module m\ngo 1.24 1.25\n", false),
            (b"module m\ngo 1.x\n", false),
            (b"module m\ngo v1.24\n", false),
            (b"module m\ngo 1.21\ngo 1.24\n", false),
            // A parse error elsewhere in the file: the old rules, whatever the go line says.
            (b"module m\ngo 1.24\nrequire example.com/x bad\n", false),
            (b"module m\ngo 1.24\n/* block comment */\n", false),
            (b"module m\ngo 1.24\nrequire (\n", false),
            (b"module m\nmodule n\ngo 1.24\n", false),
        ];
        for (go_mod, want) in rows {
            assert_eq!(
                uses_go124_vendor_rules(Some(go_mod)),
                *want,
                "{:?}",
                String::from_utf8_lossy(go_mod)
            );
        }
        assert!(!uses_go124_vendor_rules(None));
    }

    #[test]
    fn nested_modules() {
        let mut n = NestedModules::default();
        n.note("go.mod", true);
        n.note("sub/GO.MOD", true);
        n.note("link/go.mod", false);
        assert!(!n.contains("main.go"));
        assert!(!n.contains("go.mod"));
        assert!(n.contains("sub/GO.MOD"));
        assert!(n.contains("sub/x/y.go"));
        assert!(!n.contains("subway/y.go"));
        assert!(!n.contains("link/z.go"));
    }
}
