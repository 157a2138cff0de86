#![allow(clippy::unwrap_used)]
use super::*;

/// (version, is a pseudo-version, base or None when refused, timestamp, rev)
#[allow(clippy::type_complexity)]
const TABLE: &[(&str, bool, Option<&str>, &str, &str)] = &[
    (
        "v0.0.0-20191109021931-daa7c04131f5",
        true,
        Some(""),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v2.0.0-20191109021931-daa7c04131f5",
        true,
        Some(""),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v1.2.4-0.20191109021931-daa7c04131f5",
        true,
        Some("v1.2.3"),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v1.2.10-0.20191109021931-daa7c04131f5",
        true,
        Some("v1.2.9"),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v1.3.0-0.20191109021931-daa7c04131f5",
        true,
        None,
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v1.2.3-pre.0.20191109021931-daa7c04131f5",
        true,
        Some("v1.2.3-pre"),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v1.2.3-rc.1.0.20191109021931-daa7c04131f5",
        true,
        Some("v1.2.3-rc.1"),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v2.1.1-0.20191109021931-daa7c04131f5+incompatible",
        true,
        Some("v2.1.0+incompatible"),
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v2.0.0-20191109021931-daa7c04131f5+incompatible",
        true,
        None,
        "20191109021931",
        "daa7c04131f5",
    ),
    (
        "v0.0.0-00010101000000-000000000000",
        true,
        Some(""),
        "00010101000000",
        "000000000000",
    ),
    (
        "v1.0.0-20191109021931-X",
        true,
        Some(""),
        "20191109021931",
        "X",
    ),
    ("v0.0.0-20191109021931", false, None, "", ""),
    ("v0.0.0-2019110902193-daa7c04131f5", false, None, "", ""),
    ("v0.0.0-201911090219311-daa7c04131f5", false, None, "", ""),
    ("v0.0.1-20191109021931-daa7c04131f5", false, None, "", ""),
    ("v0.1.0-20191109021931-daa7c04131f5", false, None, "", ""),
    ("v1.2.3-1.20191109021931-daa7c04131f5", false, None, "", ""),
    (
        "v1.2.3-pre.20191109021931-daa7c04131f5",
        false,
        None,
        "",
        "",
    ),
    ("v1.2.3-0.20191109021931-daa7c0413_f5", false, None, "", ""),
    ("v1.2.3-0.20191109021931-", false, None, "", ""),
    ("v1.2.3-0.2019110902193a-daa7c04131f5", false, None, "", ""),
    ("v1.2-0.20191109021931-daa7c04131f5", false, None, "", ""),
    ("v1.2.3", false, None, "", ""),
    ("v1.2.3-pre", false, None, "", ""),
    ("", false, None, "", ""),
    ("20191109021931-daa7c04131f5", false, None, "", ""),
    ("v0.0.0-20191109021931-daa7c04131f5+", false, None, "", ""),
    ("v01.0.0-20191109021931-daa7c04131f5", false, None, "", ""),
];

#[test]
fn recognising_and_taking_apart() {
    for &(v, is, base, time, rev) in TABLE {
        assert_eq!(is_pseudo_version(v), is, "is_pseudo_version({v:?})");
        assert_eq!(
            pseudo_version_base(v).ok().as_deref(),
            base,
            "pseudo_version_base({v:?})"
        );
        if is {
            assert_eq!(
                pseudo_version_time(v).as_deref(),
                Ok(time),
                "pseudo_version_time({v:?})"
            );
            assert_eq!(
                pseudo_version_rev(v).as_deref(),
                Ok(rev),
                "pseudo_version_rev({v:?})"
            );
        } else {
            let e = pseudo_version_rev(v).unwrap_err();
            assert_eq!(e.reason, PseudoReason::Syntax, "pseudo_version_rev({v:?})");
            assert!(
                pseudo_version_time(v).is_err(),
                "pseudo_version_time({v:?})"
            );
        }
    }
}

#[test]
fn error_messages() {
    let table = [
        (
            pseudo_version_rev("v1.2.3").unwrap_err(),
            r#"pseudo-version "v1.2.3" invalid: syntax error"#,
        ),
        (
            pseudo_version_base("v1.3.0-0.20191109021931-daa7c04131f5").unwrap_err(),
            r#"pseudo-version "v1.3.0-0.20191109021931-daa7c04131f5" invalid: version before v1.3.0 would have negative patch number"#,
        ),
        (
            pseudo_version_base("v2.0.0-20191109021931-daa7c04131f5+incompatible").unwrap_err(),
            r#"pseudo-version "v2.0.0-20191109021931-daa7c04131f5+incompatible" invalid: lacks base version, but has build metadata "+incompatible""#,
        ),
        (
            pseudo_version_time("v0.0.0-20191309021931-daa7c04131f5").unwrap_err(),
            r#"pseudo-version "v0.0.0-20191309021931-daa7c04131f5" invalid: malformed time "20191309021931""#,
        ),
    ];
    for (e, want) in table {
        assert_eq!(e.to_string(), want);
    }
}

#[test]
fn timestamps_are_checked() {
    let table = [
        ("20200229235959", true),
        ("20190229000000", false),
        ("19000229000000", false),
        ("20000229000000", true),
        ("20200431000000", false),
        ("20201231235959", true),
        ("20201232000000", false),
        ("20201300000000", false),
        ("20200001000000", false),
        ("20200100000000", false),
        ("20200101240000", false),
        ("20200101006000", false),
        ("20200101000060", false),
        ("00000101000000", true),
    ];
    for (t, ok) in table {
        let v = format!("v0.0.0-{t}-abcdefabcdef");
        assert_eq!(
            pseudo_version_time(&v).is_ok(),
            ok,
            "pseudo_version_time({v:?})"
        );
    }
}

#[test]
fn formatting_unix_time() {
    let table = [
        (0, "19700101000000"),
        (1_675_397_106, "20230203040506"),
        (951_782_400, "20000229000000"),
        (-1, "19691231235959"),
        (1_573_265_971, "20191109021931"),
        (4_102_444_800, "21000101000000"),
        (MIN_UNIX, "00010101000000"),
        (MAX_UNIX, "99991231235959"),
        (i64::MIN, "00010101000000"),
        (i64::MAX, "99991231235959"),
    ];
    for (t, want) in table {
        assert_eq!(format_timestamp(t), want, "format_timestamp({t})");
    }
}

#[test]
fn building_pseudo_versions() {
    let t = 1_675_397_106; // 2023-02-03T04:05:06Z
    let rev = "f415ecd9f065";
    let table = [
        ("", "", "v0.0.0-20230203040506-f415ecd9f065"),
        ("v2", "", "v2.0.0-20230203040506-f415ecd9f065"),
        ("v1", "not-a-version", "v1.0.0-20230203040506-f415ecd9f065"),
        ("", "v1.0.0", "v1.0.1-0.20230203040506-f415ecd9f065"),
        ("", "v1.2", "v1.2.1-0.20230203040506-f415ecd9f065"),
        ("", "v1.0.9", "v1.0.10-0.20230203040506-f415ecd9f065"),
        ("", "v1.0.99", "v1.0.100-0.20230203040506-f415ecd9f065"),
        (
            "",
            "v1.0.0-rc.1",
            "v1.0.0-rc.1.0.20230203040506-f415ecd9f065",
        ),
        (
            "",
            "v1.3.0+meta",
            "v1.3.1-0.20230203040506-f415ecd9f065+meta",
        ),
        (
            "",
            "v2.1.0+incompatible",
            "v2.1.1-0.20230203040506-f415ecd9f065+incompatible",
        ),
        (
            "",
            "v2.1.0-pre+incompatible",
            "v2.1.0-pre.0.20230203040506-f415ecd9f065+incompatible",
        ),
    ];
    for (major, older, want) in table {
        let got = pseudo_version(major, older, t, rev);
        assert_eq!(got, want, "pseudo_version({major:?}, {older:?})");
        assert!(is_pseudo_version(&got), "{got:?} is recognised");
        assert_eq!(pseudo_version_rev(&got).unwrap(), rev);
        assert_eq!(pseudo_version_time(&got).unwrap(), "20230203040506");
        if semver::is_valid(older) && semver::build(older).is_empty() {
            assert_eq!(
                pseudo_version_base(&got).unwrap(),
                semver::canonical(older),
                "base of {got:?}"
            );
        }
    }
}

#[test]
fn decimals() {
    for (n, inc) in [
        ("0", "1"),
        ("9", "10"),
        ("19", "20"),
        ("99", "100"),
        ("123", "124"),
    ] {
        assert_eq!(inc_decimal(n), inc, "inc_decimal({n:?})");
        assert_eq!(dec_decimal(inc).as_deref(), Some(n), "dec_decimal({inc:?})");
    }
    assert_eq!(dec_decimal("0"), None);
    assert_eq!(dec_decimal("1000").as_deref(), Some("999"));
}

#[test]
fn zero_pseudo_versions() {
    assert_eq!(
        zero_pseudo_version(""),
        "v0.0.0-00010101000000-000000000000"
    );
    assert_eq!(
        zero_pseudo_version("v2"),
        "v2.0.0-00010101000000-000000000000"
    );
    assert!(is_zero_pseudo_version("v0.0.0-00010101000000-000000000000"));
    assert!(is_zero_pseudo_version("v3.0.0-00010101000000-000000000000"));
    assert!(!is_zero_pseudo_version(
        "v0.0.0-00010101000000-000000000001"
    ));
    assert!(!is_zero_pseudo_version(
        "v0.0.0-00010101000000-000000000000+incompatible"
    ));
    assert!(!is_zero_pseudo_version(""));
}
