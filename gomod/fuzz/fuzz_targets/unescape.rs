//! `unescape_path`/`unescape_version` never panic, and escaping then unescaping gives back any
//! valid path or version.
#![no_main]

use gomod::module;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(p) = module::unescape_path(s) {
        assert_eq!(module::escape_path(&p).as_deref(), Ok(s), "re-escaping {p:?}");
    }
    if let Ok(v) = module::unescape_version(s) {
        // Escaped input has no uppercase, so unescaping then escaping gives it back when the
        // version may be escaped at all (no `!` and ASCII).
        if let Ok(e) = module::escape_version(&v) {
            assert_eq!(e, s, "re-escaping {v:?}");
        }
    }
    if let Ok(e) = module::escape_path(s) {
        assert_eq!(module::unescape_path(&e).as_deref(), Ok(s), "round trip of path {s:?}");
    }
    if let Ok(e) = module::escape_version(s) {
        assert_eq!(module::unescape_version(&e).as_deref(), Ok(s), "round trip of version {s:?}");
    }
});
