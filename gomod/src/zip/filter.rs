//! The files the go command leaves out of a module zip without complaint, in the order it tests
//! them: vendored packages, files of nested modules, a root `.hg_archival.txt`, then (after the
//! name checks and the collision check, see `create`) symlinks and other irregular files.

use std::collections::HashSet;

use super::split;

/// Why a file was silently left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Omitted {
    Vendored,
    InNestedModule,
    HgArchival,
    Symlink,
    NotRegular,
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
