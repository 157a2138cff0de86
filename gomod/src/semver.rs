//! INTERIM SKELETON: signatures only, replaced by the real implementation.
use std::cmp::Ordering;

/// Reports whether `v` is a valid Go semantic version (`vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]`).
pub fn is_valid(v: &str) -> bool {
    v.starts_with('v')
}
/// The canonical form of `v` (missing `.0`s filled in, `+build` dropped), or "" if invalid.
pub fn canonical(v: &str) -> String {
    v.to_string()
}
/// Compares two versions by Go's rules; an invalid version sorts below every valid one.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
/// `vN` of a valid version, or "" if invalid.
pub fn major(v: &str) -> &str {
    v
}
/// The `-pre` part of a valid version, or "".
pub fn prerelease(_v: &str) -> &str {
    ""
}
/// The `+build` part of a valid version, or "".
pub fn build(_v: &str) -> &str {
    ""
}
