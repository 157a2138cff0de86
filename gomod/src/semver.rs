//! Go's semantic versions, as `golang.org/x/mod/semver` defines them.
//!
//! A version is `vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]`: the leading `v` is required, numbers
//! have no leading zeros, and the shorthands `v1` and `v1.2` are valid (meaning `v1.0.0` and
//! `v1.2.0`) but not canonical. Pre-release and build suffixes need the full three numbers.
//!
//! Every function takes any string: an invalid version is not an error but a value (`""` from the
//! accessors, `false` from [`is_valid`], lowest in [`compare`]), exactly as in Go.

use std::cmp::Ordering;

/// The pieces of a valid version, as slices of the input (suffixes keep their `-`/`+`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    /// `-pre` including the dash, or "".
    prerelease: &'a str,
    /// `+build` including the plus, or "".
    build: &'a str,
    /// Whether minor/patch were omitted (`v1`, `v1.2`).
    short: bool,
}

/// Splits a leading run of ASCII digits that forms a number without leading zeros.
pub(crate) fn take_num(s: &str) -> Option<(&str, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 || (end > 1 && s.as_bytes()[0] == b'0') {
        return None;
    }
    Some(s.split_at(end))
}

/// Checks a dot-separated identifier list (without its leading `-`/`+`).
fn idents_ok(s: &str, prerelease: bool) -> bool {
    s.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !(prerelease
                && id.len() > 1
                && id.bytes().all(|b| b.is_ascii_digit())
                && id.starts_with('0'))
    })
}

fn parse(v: &str) -> Option<Parsed<'_>> {
    let rest = v.strip_prefix('v')?;
    let (major, rest) = take_num(rest)?;
    let mut p = Parsed {
        major,
        minor: "0",
        patch: "0",
        prerelease: "",
        build: "",
        short: true,
    };
    if rest.is_empty() {
        return Some(p);
    }
    let (minor, rest) = take_num(rest.strip_prefix('.')?)?;
    p.minor = minor;
    if rest.is_empty() {
        return Some(p);
    }
    let (patch, mut rest) = take_num(rest.strip_prefix('.')?)?;
    p.patch = patch;
    p.short = false;
    if rest.starts_with('-') {
        let end = rest.find('+').unwrap_or(rest.len());
        let (pre, after) = rest.split_at(end);
        if !idents_ok(&pre[1..], true) {
            return None;
        }
        p.prerelease = pre;
        rest = after;
    }
    if rest.starts_with('+') {
        if !idents_ok(&rest[1..], false) {
            return None;
        }
        p.build = rest;
        rest = "";
    }
    rest.is_empty().then_some(p)
}

/// Reports whether `v` is a valid Go semantic version.
pub fn is_valid(v: &str) -> bool {
    parse(v).is_some()
}

/// The canonical form of `v` (missing `.0`s filled in, `+build` dropped), or "" if invalid.
pub fn canonical(v: &str) -> String {
    match parse(v) {
        None => String::new(),
        Some(p) if p.short => format!("v{}.{}.{}", p.major, p.minor, p.patch),
        Some(p) => v[..v.len() - p.build.len()].to_string(),
    }
}

/// Compares two numbers written without leading zeros (any length).
pub(crate) fn cmp_num(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_num(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Compares two pre-release suffixes (with their leading `-`, or ""): no suffix sorts highest;
/// identifiers compare numerically when both are numbers, numbers sort below words, words compare
/// in ASCII order, and a shorter list that is a prefix of a longer one sorts first.
fn cmp_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let mut xs = a[1..].split('.');
    let mut ys = b[1..].split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (is_num(x), is_num(y)) {
                    (true, true) => cmp_num(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Compares two versions by Go's rules. Build metadata is ignored; a pre-release sorts below its
/// release; an invalid version sorts below every valid one, and two invalid versions are equal.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_parsed(parse(a), parse(b))
}

fn compare_parsed(a: Option<Parsed<'_>>, b: Option<Parsed<'_>>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_num(x.major, y.major)
            .then_with(|| cmp_num(x.minor, y.minor))
            .then_with(|| cmp_num(x.patch, y.patch))
            .then_with(|| cmp_prerelease(x.prerelease, y.prerelease)),
    }
}

/// The greater of two versions, both canonicalised first (Go's `semver.Max`): ties and two
/// invalid inputs give the canonical form of `b` (so "" when both are invalid).
pub fn max(a: &str, b: &str) -> String {
    let (a, b) = (canonical(a), canonical(b));
    if compare(&a, &b) == Ordering::Greater {
        a
    } else {
        b
    }
}

/// Sorts versions ascending by [`compare`], breaking ties (equal versions such as `v1` and
/// `v1.0.0`, or invalid ones) by plain string order so the result is deterministic.
pub fn sort(list: &mut [String]) {
    // Each version parsed once, not once per comparison, its numbers as integers when they fit:
    // lists run to thousands of versions.
    let order = {
        let keys: Vec<(Option<Parsed<'_>>, Option<[u64; 3]>)> = list
            .iter()
            .map(|v| {
                let parsed = parse(v);
                let nums = parsed.and_then(|p| {
                    Some([
                        p.major.parse().ok()?,
                        p.minor.parse().ok()?,
                        p.patch.parse().ok()?,
                    ])
                });
                (parsed, nums)
            })
            .collect();
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_unstable_by(|&i, &j| {
            let by_version = match (&keys[i], &keys[j]) {
                ((Some(x), Some(a)), (Some(y), Some(b))) => a
                    .cmp(b)
                    .then_with(|| cmp_prerelease(x.prerelease, y.prerelease)),
                ((x, _), (y, _)) => compare_parsed(*x, *y),
            };
            by_version.then_with(|| list[i].cmp(&list[j]))
        });
        order
    };
    let mut old: Vec<Option<String>> = list.iter_mut().map(|v| Some(std::mem::take(v))).collect();
    for (slot, i) in list.iter_mut().zip(order) {
        *slot = old[i].take().unwrap_or_default();
    }
}

/// `vN` of a valid version, or "" if invalid.
pub fn major(v: &str) -> &str {
    match parse(v) {
        Some(p) => &v[..1 + p.major.len()],
        None => "",
    }
}

/// `vN.M` of a valid version (`v1` gives `v1.0`), or "" if invalid.
pub fn major_minor(v: &str) -> String {
    match parse(v) {
        Some(p) => format!("v{}.{}", p.major, p.minor),
        None => String::new(),
    }
}

/// The `-pre` part of a valid version (with its dash), or "".
pub fn prerelease(v: &str) -> &str {
    parse(v).map_or("", |p| p.prerelease)
}

/// The `+build` part of a valid version (with its plus), or "".
pub fn build(v: &str) -> &str {
    parse(v).map_or("", |p| p.build)
}

/// Whether `v` is a valid version with a pre-release suffix.
pub fn is_prerelease(v: &str) -> bool {
    !prerelease(v).is_empty()
}

/// Whether `v` is a valid version without a pre-release suffix (build metadata allowed).
pub fn is_release(v: &str) -> bool {
    parse(v).is_some_and(|p| p.prerelease.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// (input, canonical form or "" if invalid)
    const CASES: &[(&str, &str)] = &[
        ("", ""),
        ("v", ""),
        ("1.2.3", ""),
        ("V1.2.3", ""),
        (" v1.2.3", ""),
        ("v1.2.3 ", ""),
        ("v0", "v0.0.0"),
        ("v3", "v3.0.0"),
        ("v01", ""),
        ("v1.", ""),
        ("v1.4", "v1.4.0"),
        ("v1.04", ""),
        ("v1.4.", ""),
        ("v1.4.0", "v1.4.0"),
        ("v1.4.00", ""),
        ("v1.4.7", "v1.4.7"),
        ("v10.20.30", "v10.20.30"),
        ("v1.2.3.4", ""),
        ("v1.2-pre", ""),
        ("v1-pre", ""),
        ("v1+meta", ""),
        ("v1.2+meta", ""),
        ("v1.2.3-", ""),
        ("v1.2.3+", ""),
        ("v1.2.3-+x", ""),
        ("v1.2.3-alpha", "v1.2.3-alpha"),
        ("v1.2.3-alpha.", ""),
        ("v1.2.3-.alpha", ""),
        ("v1.2.3-alpha..1", ""),
        ("v1.2.3-alpha.1", "v1.2.3-alpha.1"),
        ("v1.2.3-alpha.01", ""),
        ("v1.2.3-alpha.0", "v1.2.3-alpha.0"),
        ("v1.2.3-0", "v1.2.3-0"),
        ("v1.2.3-00", ""),
        ("v1.2.3-0a", "v1.2.3-0a"),
        ("v1.2.3-01a", "v1.2.3-01a"),
        ("v1.2.3--", "v1.2.3--"),
        ("v1.2.3-x-y-z", "v1.2.3-x-y-z"),
        ("v1.2.3-RC1", "v1.2.3-RC1"),
        ("v1.2.3-rc_1", ""),
        ("v1.2.3-rc/1", ""),
        ("v1.2.3-é", ""),
        ("v1.2.3+build", "v1.2.3"),
        ("v1.2.3+build.01", "v1.2.3"),
        ("v1.2.3+build..1", ""),
        ("v1.2.3+incompatible", "v1.2.3"),
        ("v1.2.3-pre+meta", "v1.2.3-pre"),
        ("v1.2.3+meta-pre", "v1.2.3"),
        ("v1.2.3+meta+meta", ""),
        ("v1.2.3-pre+meta+x", ""),
        ("v1.2.3\0", ""),
        ("v1.2.3\n", ""),
        (
            "v99999999999999999999999.0.0",
            "v99999999999999999999999.0.0",
        ),
        ("v１.2.3", ""),
    ];

    #[test]
    fn validity_and_canonical_form() {
        for &(v, want) in CASES {
            assert_eq!(is_valid(v), !want.is_empty(), "is_valid({v:?})");
            assert_eq!(canonical(v), want, "canonical({v:?})");
            if !want.is_empty() {
                assert_eq!(canonical(want), want, "canonical is idempotent for {v:?}");
                assert_eq!(
                    compare(v, want),
                    Ordering::Equal,
                    "compare({v:?}, canonical)"
                );
            }
        }
    }

    #[test]
    fn accessors() {
        // (input, major, major_minor, prerelease, build)
        let table: &[(&str, &str, &str, &str, &str)] = &[
            ("v1", "v1", "v1.0", "", ""),
            ("v1.2", "v1", "v1.2", "", ""),
            ("v2.3.4", "v2", "v2.3", "", ""),
            (
                "v0.0.0-20200101000000-abcdefabcdef",
                "v0",
                "v0.0",
                "-20200101000000-abcdefabcdef",
                "",
            ),
            ("v1.2.3-rc.1+meta.2", "v1", "v1.2", "-rc.1", "+meta.2"),
            ("v2.0.0+incompatible", "v2", "v2.0", "", "+incompatible"),
            ("v12.345.6", "v12", "v12.345", "", ""),
            ("bad", "", "", "", ""),
            ("v1.2-pre", "", "", "", ""),
            ("", "", "", "", ""),
        ];
        for &(v, maj, mm, pre, b) in table {
            assert_eq!(major(v), maj, "major({v:?})");
            assert_eq!(major_minor(v), mm, "major_minor({v:?})");
            assert_eq!(prerelease(v), pre, "prerelease({v:?})");
            assert_eq!(build(v), b, "build({v:?})");
            assert_eq!(is_prerelease(v), !pre.is_empty(), "is_prerelease({v:?})");
            assert_eq!(
                is_release(v),
                is_valid(v) && pre.is_empty(),
                "is_release({v:?})"
            );
        }
    }

    /// Each row sorts strictly above the previous one; versions on the same row are equal.
    const ORDER: &[&[&str]] = &[
        &["", "bad", "v1.2-x"],
        &["v0.0.0-0"],
        &["v0.0.0-0.0"],
        &["v0.0.0-1"],
        &["v0.0.0-2"],
        &["v0.0.0-10"],
        &["v0.0.0-10.0"],
        &["v0.0.0--"],
        &["v0.0.0-A"],
        &["v0.0.0-Z"],
        &["v0.0.0-a"],
        &["v0.0.0-a.0"],
        &["v0.0.0-a.1"],
        &["v0.0.0-a.2"],
        &["v0.0.0-a.10"],
        &["v0.0.0-a.a"],
        &["v0.0.0-alpha"],
        &["v0.0.0-b"],
        &["v0", "v0.0", "v0.0.0", "v0.0.0+build", "v0.0.0+other"],
        &["v0.0.1"],
        &["v0.1.0"],
        &["v0.9.0"],
        &["v0.10.0"],
        &["v1.0.0-rc.1"],
        &["v1", "v1.0.0", "v1.0.0+incompatible"],
        &["v1.2.0"],
        &["v1.2.3-0.20200101000000-abcdefabcdef"],
        &["v1.2.3-pre"],
        &["v1.2.3"],
        &["v1.10.0"],
        &["v2.0.0+incompatible"],
        &["v10.0.0"],
        &["v99999999999999999999.0.0"],
        &["v100000000000000000000.0.0"],
    ];

    #[test]
    fn ordering_follows_table_position() {
        let flat: Vec<(usize, &str)> = ORDER
            .iter()
            .enumerate()
            .flat_map(|(i, row)| row.iter().map(move |v| (i, *v)))
            .collect();
        for &(i, a) in &flat {
            for &(j, b) in &flat {
                assert_eq!(compare(a, b), i.cmp(&j), "compare({a:?}, {b:?})");
            }
        }
    }

    #[test]
    fn sort_orders_by_version_then_string() {
        let mut got: Vec<String> = [
            "v1.0.0",
            "v1",
            "v0.9.0",
            "x",
            "v1.0.0+b",
            "",
            "v1.0.0-rc",
            "v1.0.0+a",
            "v1.10.0",
            "v1.9.0",
            // Past u64: compared as digit strings.
            "v99999999999999999999.0.0",
            "v18446744073709551616.0.0",
            "v2.0.0-beta.11",
            "v2.0.0-beta.2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sort(&mut got);
        let want = [
            "",
            "x",
            "v0.9.0",
            "v1.0.0-rc",
            "v1",
            "v1.0.0",
            "v1.0.0+a",
            "v1.0.0+b",
            "v1.9.0",
            "v1.10.0",
            "v2.0.0-beta.2",
            "v2.0.0-beta.11",
            "v18446744073709551616.0.0",
            "v99999999999999999999.0.0",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn max_canonicalises() {
        let table = [
            ("v1", "v1.0.0-rc", "v1.0.0"),
            ("v1.0.0-rc", "v1", "v1.0.0"),
            ("v1.2.3+x", "v1.2.3", "v1.2.3"),
            ("bad", "v0.1", "v0.1.0"),
            ("v0.1", "bad", "v0.1.0"),
            ("bad", "worse", ""),
        ];
        for (a, b, want) in table {
            assert_eq!(max(a, b), want, "max({a:?}, {b:?})");
        }
    }

    #[test]
    fn long_inputs_do_not_panic() {
        let long = format!("v1.2.3-{}", "a.".repeat(10_000) + "a");
        assert!(is_valid(&long));
        assert_eq!(canonical(&long), long);
        let bad = "v".repeat(100_000);
        assert!(!is_valid(&bad));
    }
}
