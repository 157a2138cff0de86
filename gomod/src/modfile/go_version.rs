//! The `go` line's language version, as the go command compares it (`gover`).

use crate::semver;

/// Splits a `go` line version `1.N[.P][rcK|betaK…]` (Go's `GoVersionRE`) into its (major, minor)
/// digit strings. Numbers of any length are accepted, as the regular expression does.
pub(super) fn go_lang(v: &str) -> Option<(&str, &str)> {
    let num = semver::take_num;
    let (major, rest) = num(v)?;
    if major == "0" {
        return None;
    }
    let (minor, mut rest) = num(rest.strip_prefix('.')?)?;
    if let Some(r) = rest.strip_prefix('.') {
        rest = num(r)?.1;
    }
    if !rest.is_empty() {
        let letters = rest.bytes().take_while(|b| b.is_ascii_lowercase()).count();
        let tail = &rest[letters..];
        if letters == 0 || tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some((major, minor))
}

/// Whether a `go` line version (as in [`ModFile::go`], e.g. `1.24`, `1.24.1`, `1.24rc1`) names
/// language version `major.minor` or later. Only the language version counts, as in the go
/// command's `version.Lang`: `1.24rc1` and `1.24.0` are both 1.24. A malformed version is false.
///
/// The zip rules ask this (through [`crate::zip::filter::uses_go124_vendor_rules`]) for the
/// `vendor/` handling of Go 1.24; a go.mod that fails [`parse_lax`] or has no `go` line counts
/// as older.
pub fn go_version_ge(go_line: &str, major: u32, minor: u32) -> bool {
    go_lang(go_line).is_some_and(|(ma, mi)| {
        // Go's `gover.cmpInt`: decimal strings of any length.
        semver::cmp_num(ma, &major.to_string())
            .then_with(|| semver::cmp_num(mi, &minor.to_string()))
            .is_ge()
    })
}
