//! Choosing "latest" from a version list, the way the go command's client does (see the
//! reference, "Choosing latest").

use std::cmp::Ordering;

use crate::{pseudo, semver};

/// Orders two valid versions by precedence, then by string (so `+incompatible` ties are stable).
fn newer(a: &str, b: &str) -> Ordering {
    semver::compare(a, b).then_with(|| a.cmp(b))
}

/// The highest release that is not retracted, else the highest non-retracted pre-release.
/// Invalid versions and pseudo-versions are ignored (they are never listed tags). `None` if
/// nothing qualifies. The result is returned as written in the input.
pub fn pick_latest<'a>(
    versions: impl IntoIterator<Item = &'a str>,
    is_retracted: impl Fn(&str) -> bool,
) -> Option<String> {
    let mut best_release: Option<&str> = None;
    let mut best_pre: Option<&str> = None;
    for v in versions {
        if !semver::is_valid(v) || pseudo::is_pseudo_version(v) || is_retracted(v) {
            continue;
        }
        let slot = if semver::is_prerelease(v) {
            &mut best_pre
        } else {
            &mut best_release
        };
        if slot.is_none_or(|b| newer(v, b) == Ordering::Greater) {
            *slot = Some(v);
        }
    }
    best_release.or(best_pre).map(str::to_string)
}

/// Like [`pick_latest`], but when no tagged version qualifies, falls back to the newest
/// non-retracted pseudo-version, "newest" meaning the latest commit timestamp, then the higher
/// version. This mirrors the client using `@latest` (the newest commit) when `list` has nothing
/// usable; it is what a proxy can answer for `@latest` from stored versions alone.
pub fn pick_latest_with_pseudo<'a>(
    versions: impl IntoIterator<Item = &'a str>,
    is_retracted: impl Fn(&str) -> bool,
) -> Option<String> {
    let versions: Vec<&str> = versions.into_iter().collect();
    if let Some(v) = pick_latest(versions.iter().copied(), &is_retracted) {
        return Some(v);
    }
    let mut best: Option<(String, &str)> = None;
    for v in versions {
        if is_retracted(v) {
            continue;
        }
        let Ok(time) = pseudo::pseudo_version_time(v) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some((bt, bv)) => time.cmp(bt).then_with(|| newer(v, bv)) == Ordering::Greater,
        };
        if better {
            best = Some((time, v));
        }
    }
    best.map(|(_, v)| v.to_string())
}

/// For the query `latest` (the go command's `filterVersions`): the version whose go.mod decides
/// whether `+incompatible` versions may answer, i.e. the highest allowed compatible version when
/// allowed `+incompatible` ones are listed too. If it has a go.mod of its own, its author went
/// module-aware and higher legacy majors are ignored (a compatible pre-release even beats an
/// incompatible release); if not, they count. `None`: nothing to decide.
pub fn incompatible_decider<'a>(
    versions: &[&'a str],
    allowed: impl Fn(&str) -> bool,
) -> Option<&'a str> {
    let allowed_tags = || {
        versions
            .iter()
            .copied()
            .filter(|v| semver::is_valid(v) && !pseudo::is_pseudo_version(v) && allowed(v))
    };
    allowed_tags().find(|v| v.ends_with("+incompatible"))?;
    allowed_tags()
        .filter(|v| !v.ends_with("+incompatible"))
        .max_by(|a, b| newer(a, b))
}

/// The listed version the query `latest` answers: the highest allowed release, else the highest
/// allowed pre-release, `+incompatible` ones only if `incompatible` (see
/// [`incompatible_decider`]). `None`: the go command turns to the default branch's head.
pub fn query_latest(
    versions: &[&str],
    allowed: impl Fn(&str) -> bool,
    incompatible: bool,
) -> Option<String> {
    pick_latest(versions.iter().copied(), |v| {
        !allowed(v) || (!incompatible && v.ends_with("+incompatible"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_query_table() {
        // (listed, disallowed, decider, decider has a go.mod, answer)
        #[allow(clippy::type_complexity)]
        let table: &[(&[&str], &[&str], Option<&str>, bool, Option<&str>)] = &[
            (&[], &[], None, false, None),
            (&["v1.0.0", "v1.1.0"], &[], None, false, Some("v1.1.0")),
            (
                &["v1.0.0", "v1.1.0"],
                &["v1.1.0"],
                None,
                false,
                Some("v1.0.0"),
            ),
            (&["v1.0.0"], &["v1.0.0"], None, false, None),
            (
                &["v0.1.0-rc.1", "v0.2.0-rc.1"],
                &[],
                None,
                false,
                Some("v0.2.0-rc.1"),
            ),
            // Legacy majors count while the compatible versions have no go.mod ...
            (
                &["v1.0.0", "v2.0.0+incompatible", "v3.0.0+incompatible"],
                &[],
                Some("v1.0.0"),
                false,
                Some("v3.0.0+incompatible"),
            ),
            // ... and not once the highest compatible one has, even a pre-release (which then
            // beats the incompatible release, and loses to a compatible one).
            (
                &["v1.0.0", "v1.1.0-rc.1", "v2.0.0+incompatible"],
                &[],
                Some("v1.1.0-rc.1"),
                true,
                Some("v1.0.0"),
            ),
            (
                &["v1.1.0-rc.1", "v2.0.0+incompatible"],
                &[],
                Some("v1.1.0-rc.1"),
                true,
                Some("v1.1.0-rc.1"),
            ),
            // The decider is the highest allowed compatible version.
            (
                &["v1.0.0", "v1.1.0", "v2.0.0+incompatible"],
                &["v1.1.0"],
                Some("v1.0.0"),
                true,
                Some("v1.0.0"),
            ),
            // Only legacy majors: nothing to decide, they count.
            (
                &["v2.0.0+incompatible", "v2.1.0+incompatible"],
                &[],
                None,
                false,
                Some("v2.1.0+incompatible"),
            ),
            // Disallowed incompatible versions raise no question.
            (
                &["v1.0.0", "v2.0.0+incompatible"],
                &["v2.0.0+incompatible"],
                None,
                false,
                Some("v1.0.0"),
            ),
        ];
        for &(listed, disallowed, decider, has_go_mod, want) in table {
            let allowed = |v: &str| !disallowed.contains(&v);
            let got_decider = incompatible_decider(listed, allowed);
            assert_eq!(got_decider, decider, "{listed:?}");
            let incompatible = got_decider.is_none() || !has_go_mod;
            assert_eq!(
                query_latest(listed, allowed, incompatible).as_deref(),
                want,
                "{listed:?} without {disallowed:?}"
            );
        }
    }

    const P1: &str = "v0.0.0-20200101000000-aaaaaaaaaaaa";
    const P2: &str = "v1.2.4-0.20210101000000-bbbbbbbbbbbb";
    const P3: &str = "v0.0.0-20220101000000-cccccccccccc";

    #[test]
    fn latest_table() {
        // (versions, retracted, pick_latest, pick_latest_with_pseudo)
        #[allow(clippy::type_complexity)]
        let table: &[(&[&str], &[&str], Option<&str>, Option<&str>)] = &[
            (&[], &[], None, None),
            (&["v1.0.0"], &[], Some("v1.0.0"), Some("v1.0.0")),
            (
                &["v1.0.0", "v1.10.0", "v1.9.0"],
                &[],
                Some("v1.10.0"),
                Some("v1.10.0"),
            ),
            (
                &["v1.0.0", "v2.0.0-rc.1"],
                &[],
                Some("v1.0.0"),
                Some("v1.0.0"),
            ),
            (
                &["v2.0.0-rc.1", "v2.0.0-beta"],
                &[],
                Some("v2.0.0-rc.1"),
                Some("v2.0.0-rc.1"),
            ),
            (
                &["v1.0.0", "v1.1.0"],
                &["v1.1.0"],
                Some("v1.0.0"),
                Some("v1.0.0"),
            ),
            (
                &["v1.0.0", "v1.1.0-rc.1"],
                &["v1.0.0"],
                Some("v1.1.0-rc.1"),
                Some("v1.1.0-rc.1"),
            ),
            (&["v1.0.0"], &["v1.0.0"], None, None),
            (&["v1.0.0", P2], &[], Some("v1.0.0"), Some("v1.0.0")),
            (&[P1, P2, P3], &[], None, Some(P3)),
            (&[P1, P2, P3], &[P3], None, Some(P2)),
            (&[P1, "garbage", ""], &[], None, Some(P1)),
            (
                &["v1.2.3", "v1.2.3+incompatible"],
                &[],
                Some("v1.2.3+incompatible"),
                Some("v1.2.3+incompatible"),
            ),
            (
                &["v2.0.0+incompatible", "v1.5.0"],
                &[],
                Some("v2.0.0+incompatible"),
                Some("v2.0.0+incompatible"),
            ),
            (&["v1", "v1.0.0"], &[], Some("v1.0.0"), Some("v1.0.0")),
            (&["1.0.0", "latest", "master"], &[], None, None),
        ];
        for &(versions, retracted, want, want_pseudo) in table {
            let is_retracted = |v: &str| retracted.contains(&v);
            assert_eq!(
                pick_latest(versions.iter().copied(), is_retracted).as_deref(),
                want,
                "pick_latest({versions:?}, retracted {retracted:?})"
            );
            assert_eq!(
                pick_latest_with_pseudo(versions.iter().copied(), is_retracted).as_deref(),
                want_pseudo,
                "pick_latest_with_pseudo({versions:?}, retracted {retracted:?})"
            );
            // The input order never matters.
            let mut reversed = versions.to_vec();
            reversed.reverse();
            assert_eq!(
                pick_latest(reversed.iter().copied(), is_retracted).as_deref(),
                want,
                "order of {versions:?}"
            );
        }
    }
}
