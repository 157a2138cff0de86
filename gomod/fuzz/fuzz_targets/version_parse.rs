//! The semver, pseudo-version and Version functions never panic; canonical is idempotent and
//! compare is antisymmetric and consistent with canonical forms.
#![no_main]

use gomod::{module, pseudo, semver, version::Version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (a, b) = s.split_once('\n').unwrap_or((s, "v1.0.0"));
    for v in [a, b] {
        let c = semver::canonical(v);
        assert_eq!(semver::is_valid(v), !c.is_empty(), "validity of {v:?}");
        assert_eq!(semver::canonical(&c), c, "canonical idempotent on {v:?}");
        let cv = module::canonical_version(v);
        assert_eq!(module::canonical_version(&cv), cv, "canonical_version idempotent on {v:?}");
        if semver::is_valid(v) {
            assert!(semver::compare(v, &c).is_eq(), "{v:?} equals its canonical form");
            assert_eq!(Version::parse(&cv).map(|x| x.to_string()).ok(), Some(cv.clone()), "{cv:?} parses");
        }
        let _ = (semver::major(v), semver::major_minor(v), semver::prerelease(v), semver::build(v));
        let _ = (pseudo::is_pseudo_version(v), pseudo::pseudo_version_base(v), pseudo::pseudo_version_time(v));
        let _ = (pseudo::pseudo_version_rev(v), pseudo::is_zero_pseudo_version(v));
        let _ = module::check_path_major(v, "/v2");
        let _ = module::escape_version(v);
        let p = pseudo::pseudo_version("", v, i64::from(data.len() as u32) * 1_000_003, "abcdefabcdef");
        assert!(pseudo::is_pseudo_version(&p), "pseudo_version on {v:?} gave {p:?}");
    }
    assert_eq!(semver::compare(a, b), semver::compare(b, a).reverse(), "antisymmetry of {a:?} {b:?}");
    let _ = semver::max(a, b);
});
