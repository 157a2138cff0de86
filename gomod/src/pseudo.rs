//! Pseudo-versions, after `golang.org/x/mod/module/pseudo.go`.
//!
//! A pseudo-version names an untagged commit. It comes in three shapes, each optionally followed
//! by `+incompatible`:
//! 1. `vX.0.0-yyyymmddhhmmss-rev`: no base tag;
//! 2. `vX.Y.(Z+1)-0.yyyymmddhhmmss-rev`: based on the release `vX.Y.Z`;
//! 3. `vX.Y.Z-pre.0.yyyymmddhhmmss-rev`: based on the pre-release `vX.Y.Z-pre`.
//!
//! The time is the commit time in UTC; `rev` is the 12-hex-digit short commit hash.

use std::fmt;

use crate::module::go_quote;
use crate::semver;

/// Why a string is not a usable pseudo-version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PseudoReason {
    #[error("syntax error")]
    Syntax,
    #[error("malformed time {}", go_quote(.0))]
    MalformedTime(String),
    /// Shape 1 with `+incompatible`: there is no base to attach the metadata to.
    #[error("lacks base version, but has build metadata {}", go_quote(.0))]
    BuildWithoutBase(String),
    /// Shape 2 with patch 0: `vX.Y.0-0.…` has no release before it.
    #[error("version before {0} would have negative patch number")]
    NegativePatch(String),
}

/// A refused pseudo-version; reads like the go command's `pseudo-version "…" invalid: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPseudoVersion {
    pub version: String,
    pub reason: PseudoReason,
}

impl fmt::Display for InvalidPseudoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pseudo-version {} invalid: {}",
            go_quote(&self.version),
            self.reason
        )
    }
}

impl std::error::Error for InvalidPseudoVersion {}

/// The revision of [`zero_pseudo_version`].
const ZERO_REV: &str = "000000000000";
/// Go's zero `time.Time` (January 1, year 1, UTC) as a pseudo-version timestamp.
const ZERO_TIME: &str = "00010101000000";

/// The pieces of a pseudo-version: (base, 14-digit timestamp, rev, build).
struct Pieces<'a> {
    /// `vX.0.0`, `vX.Y.(Z+1)-0` or `vX.Y.Z-pre.0`.
    base: &'a str,
    time: &'a str,
    rev: &'a str,
    build: &'a str,
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits a pseudo-version into its pieces, or `None` if it is not one.
fn pieces(v: &str) -> Option<Pieces<'_>> {
    if v.matches('-').count() < 2 || !semver::is_valid(v) {
        return None;
    }
    let build = semver::build(v);
    let core = &v[..v.len() - build.len()];
    let (rest, rev) = core.rsplit_once('-')?;
    if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_alphanumeric()) || rest.len() < 14 {
        return None;
    }
    let (head, time) = rest.split_at(rest.len() - 14);
    if !is_digits(time) {
        return None;
    }
    // head is "vX.0.0-" (shape 1) or "vX.Y.Z-" followed by "0." or "….0." (shapes 2 and 3).
    if let Some(base) = head.strip_suffix('-') {
        let nums = base.strip_prefix('v')?;
        let major = nums.strip_suffix(".0.0")?;
        return is_digits(major).then_some(Pieces {
            base,
            time,
            rev,
            build,
        });
    }
    let base = head.strip_suffix('.')?;
    let (release, pre) = base.split_once('-')?;
    let mut nums = release.strip_prefix('v')?.split('.');
    let three =
        nums.by_ref().take(3).filter(|n| is_digits(n)).count() == 3 && nums.next().is_none();
    let zero = pre == "0" || pre.ends_with(".0");
    (three && zero).then_some(Pieces {
        base,
        time,
        rev,
        build,
    })
}

/// `module.IsPseudoVersion`: whether `v` has the shape of a pseudo-version.
pub fn is_pseudo_version(v: &str) -> bool {
    pieces(v).is_some()
}

fn parse(v: &str) -> Result<Pieces<'_>, InvalidPseudoVersion> {
    pieces(v).ok_or_else(|| InvalidPseudoVersion {
        version: v.to_string(),
        reason: PseudoReason::Syntax,
    })
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59Z since the Unix epoch.
const MIN_UNIX: i64 = -62_135_596_800;
const MAX_UNIX: i64 = 253_402_300_799;

/// Formats Unix seconds as UTC `yyyymmddhhmmss` (Go's `20060102150405`). Times outside the years
/// 1 to 9999 are clamped to that range, so the result is always 14 digits.
pub fn format_timestamp(unix_secs: i64) -> String {
    let t = unix_secs.clamp(MIN_UNIX, MAX_UNIX);
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}{mo:02}{d:02}{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Adds one to a decimal string (`9` → `10`).
fn inc_decimal(n: &str) -> String {
    let mut digits: Vec<u8> = n.bytes().collect();
    let mut i = digits.len();
    while i > 0 && digits[i - 1] == b'9' {
        digits[i - 1] = b'0';
        i -= 1;
    }
    if i == 0 {
        digits.insert(0, b'1');
    } else {
        digits[i - 1] += 1;
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// Subtracts one from a decimal string without leading zeros (`10` → `9`); `None` for `0`.
fn dec_decimal(n: &str) -> Option<String> {
    let mut digits: Vec<u8> = n.bytes().collect();
    let mut i = digits.len();
    while i > 0 && digits[i - 1] == b'0' {
        digits[i - 1] = b'9';
        i -= 1;
    }
    if i == 0 {
        return None;
    }
    digits[i - 1] -= 1;
    if digits.len() > 1 && digits[0] == b'0' {
        digits.remove(0);
    }
    String::from_utf8(digits).ok()
}

/// `module.PseudoVersion`: the pseudo-version for commit `rev` (already shortened to 12 hex
/// digits by the caller) made at `unix_time_secs`, based on the tag `older` ("" or invalid for
/// none, then `major`, default `v0`, gives shape 1). A `+incompatible` on `older` is carried over
/// to shapes 2 and 3.
pub fn pseudo_version(major: &str, older: &str, unix_time_secs: i64, rev: &str) -> String {
    let major = if major.is_empty() { "v0" } else { major };
    let segment = format!("{}-{rev}", format_timestamp(unix_time_secs));
    let build = semver::build(older);
    let older = semver::canonical(older);
    if older.is_empty() {
        return format!("{major}.0.0-{segment}");
    }
    if !semver::prerelease(&older).is_empty() {
        return format!("{older}.0.{segment}{build}");
    }
    let (head, patch) = older.rsplit_once('.').unwrap_or((&older, "0"));
    format!("{head}.{}-0.{segment}{build}", inc_decimal(patch))
}

/// `module.ZeroPseudoVersion`: the pseudo-version used when nothing better is known,
/// `vX.0.0-00010101000000-000000000000`.
pub fn zero_pseudo_version(major: &str) -> String {
    let major = if major.is_empty() { "v0" } else { major };
    format!("{major}.0.0-{ZERO_TIME}-{ZERO_REV}")
}

/// `module.IsZeroPseudoVersion`: whether `v` is [`zero_pseudo_version`] of its own major.
pub fn is_zero_pseudo_version(v: &str) -> bool {
    let major = semver::major(v);
    !major.is_empty() && v == zero_pseudo_version(major)
}

/// `module.PseudoVersionBase`: the version the pseudo-version builds on: "" for shape 1,
/// `vX.Y.Z` for shape 2, `vX.Y.Z-pre` for shape 3 (with `+incompatible` kept).
pub fn pseudo_version_base(v: &str) -> Result<String, InvalidPseudoVersion> {
    let p = parse(v)?;
    let err = |reason| InvalidPseudoVersion {
        version: v.to_string(),
        reason,
    };
    let pre = semver::prerelease(p.base);
    if pre.is_empty() {
        if !p.build.is_empty() {
            return Err(err(PseudoReason::BuildWithoutBase(p.build.to_string())));
        }
        return Ok(String::new());
    }
    if pre == "-0" {
        let release = &p.base[..p.base.len() - 2];
        let (head, patch) = release
            .rsplit_once('.')
            .ok_or_else(|| err(PseudoReason::Syntax))?;
        let patch = dec_decimal(patch)
            .ok_or_else(|| err(PseudoReason::NegativePatch(release.to_string())))?;
        return Ok(format!("{head}.{patch}{}", p.build));
    }
    let base = p
        .base
        .strip_suffix(".0")
        .ok_or_else(|| err(PseudoReason::Syntax))?;
    Ok(format!("{base}{}", p.build))
}

fn leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

/// `module.PseudoVersionTime`: the 14-digit UTC timestamp, checked to be a real date and time.
pub fn pseudo_version_time(v: &str) -> Result<String, InvalidPseudoVersion> {
    let p = parse(v)?;
    let num = |r: std::ops::Range<usize>| {
        p.time
            .get(r)
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4),
        num(4..6),
        num(6..8),
        num(8..10),
        num(10..12),
        num(12..14),
    );
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => 0,
    };
    if d == 0 || d > days_in_month || h > 23 || mi > 59 || s > 59 {
        return Err(InvalidPseudoVersion {
            version: v.to_string(),
            reason: PseudoReason::MalformedTime(p.time.to_string()),
        });
    }
    Ok(p.time.to_string())
}

/// `module.PseudoVersionRev`: the revision (short commit hash) at the end.
pub fn pseudo_version_rev(v: &str) -> Result<String, InvalidPseudoVersion> {
    Ok(parse(v)?.rev.to_string())
}

#[cfg(test)]
mod tests;
