//! [`Version`]: a canonical module version, the only kind that may appear in `.info`, `.mod` and
//! `.zip` requests, go.mod, go.sum and zip prefixes.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::module::{canonical_version, go_quote};
use crate::{pseudo, semver};

/// Why a string is not a canonical module version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionReason {
    #[error("not a semantic version")]
    NotSemver,
    /// Valid semver, but a shorthand or with build metadata other than `+incompatible`.
    #[error("not a canonical version (canonical form is {0})")]
    NotCanonical(String),
}

/// A string refused by [`Version::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidVersion {
    pub version: String,
    pub reason: VersionReason,
}

impl fmt::Display for InvalidVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version {} invalid: {}",
            go_quote(&self.version),
            self.reason
        )
    }
}

impl std::error::Error for InvalidVersion {}

/// A canonical module version: valid Go semver with major, minor and patch, an optional
/// pre-release, and no build metadata except `+incompatible`. Examples: `v1.2.3`,
/// `v0.0.0-20200101000000-abcdefabcdef`, `v2.0.0+incompatible`.
///
/// Ordered by Go's version precedence, ties (only `vX.Y.Z` against `vX.Y.Z+incompatible`)
/// broken by string order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    pub fn parse(s: &str) -> Result<Self, InvalidVersion> {
        let err = |reason| InvalidVersion {
            version: s.to_string(),
            reason,
        };
        if !semver::is_valid(s) {
            return Err(err(VersionReason::NotSemver));
        }
        let canonical = canonical_version(s);
        if canonical != s {
            return Err(err(VersionReason::NotCanonical(canonical)));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a pseudo-version (names a commit rather than a tag).
    pub fn is_pseudo(&self) -> bool {
        pseudo::is_pseudo_version(&self.0)
    }

    /// Whether this carries `+incompatible` (a v2+ tag of a module without a major suffix).
    pub fn is_incompatible(&self) -> bool {
        self.0.ends_with("+incompatible")
    }

    /// Whether this has a pre-release suffix (pseudo-versions do).
    pub fn is_prerelease(&self) -> bool {
        semver::is_prerelease(&self.0)
    }

    /// `vN`.
    pub fn major(&self) -> &str {
        semver::major(&self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Version {
    type Err = InvalidVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Version {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        semver::compare(&self.0, &other.0).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_accepts_only_canonical() {
        let table: &[(&str, Option<VersionReason>)] = &[
            ("v1.2.3", None),
            ("v0.0.0", None),
            ("v1.2.3-pre.1", None),
            ("v2.0.0+incompatible", None),
            ("v2.0.0-rc.1+incompatible", None),
            ("v0.0.0-20200101000000-abcdefabcdef", None),
            ("v1", Some(VersionReason::NotCanonical("v1.0.0".into()))),
            ("v1.2", Some(VersionReason::NotCanonical("v1.2.0".into()))),
            (
                "v1.2.3+meta",
                Some(VersionReason::NotCanonical("v1.2.3".into())),
            ),
            (
                "v2.0.0+incompatible.x",
                Some(VersionReason::NotCanonical("v2.0.0".into())),
            ),
            ("v2+incompatible", Some(VersionReason::NotSemver)),
            ("1.2.3", Some(VersionReason::NotSemver)),
            ("", Some(VersionReason::NotSemver)),
            ("latest", Some(VersionReason::NotSemver)),
            ("v1.2.3\n", Some(VersionReason::NotSemver)),
            ("v1.02.3", Some(VersionReason::NotSemver)),
        ];
        for (s, want) in table {
            let got = Version::parse(s);
            assert_eq!(
                got.as_ref().err().map(|e| e.reason.clone()),
                *want,
                "Version::parse({s:?})"
            );
            if let Ok(v) = got {
                assert_eq!(v.to_string(), *s, "Display round trip of {s:?}");
                assert_eq!(v.as_str(), *s);
                assert_eq!(s.parse::<Version>().unwrap(), v);
            }
        }
        assert_eq!(
            Version::parse("v1").unwrap_err().to_string(),
            r#"version "v1" invalid: not a canonical version (canonical form is v1.0.0)"#
        );
    }

    #[test]
    fn predicates() {
        let table = [
            ("v1.2.3", false, false, false, "v1"),
            ("v1.2.3-rc.1", false, false, true, "v1"),
            ("v2.0.0+incompatible", false, true, false, "v2"),
            (
                "v0.0.0-20200101000000-abcdefabcdef",
                true,
                false,
                true,
                "v0",
            ),
            (
                "v2.3.1-0.20200101000000-abcdefabcdef+incompatible",
                true,
                true,
                true,
                "v2",
            ),
        ];
        for (s, pseudo, incompatible, pre, major) in table {
            let v = Version::parse(s).unwrap();
            assert_eq!(v.is_pseudo(), pseudo, "is_pseudo({s:?})");
            assert_eq!(v.is_incompatible(), incompatible, "is_incompatible({s:?})");
            assert_eq!(v.is_prerelease(), pre, "is_prerelease({s:?})");
            assert_eq!(v.major(), major, "major({s:?})");
        }
    }

    #[test]
    fn ordering_follows_table_position() {
        let order = [
            "v0.0.0-20190101000000-aaaaaaaaaaaa",
            "v0.0.0-20200101000000-aaaaaaaaaaaa",
            "v0.1.0",
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-beta",
            "v1.0.0",
            "v1.0.1-0.20200101000000-aaaaaaaaaaaa",
            "v1.0.1",
            "v1.10.0",
            "v2.0.0",
            "v2.0.0+incompatible",
            "v10.0.0",
        ];
        let vs: Vec<Version> = order.iter().map(|s| Version::parse(s).unwrap()).collect();
        for (i, a) in vs.iter().enumerate() {
            for (j, b) in vs.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "cmp({a}, {b})");
            }
        }
        let mut shuffled = vs.clone();
        shuffled.reverse();
        shuffled.sort();
        assert_eq!(shuffled, vs);
    }
}
