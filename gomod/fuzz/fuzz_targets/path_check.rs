//! The path checks never panic; whatever `check_path` accepts escapes and unescapes back, and is
//! also a valid import path and file path.
#![no_main]

use gomod::module;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let module_ok = module::check_path(s).is_ok();
    let import_ok = module::check_import_path(s).is_ok();
    let _ = module::check_file_path(s);
    let _ = module::split_path_version(s);
    let _ = module::check(s, "v1.0.0");
    let _ = module::match_prefix_patterns(s, "example.com/a/b");
    let _ = module::match_prefix_patterns("*.example.com,x/*/y", s);
    if let Some((glob, name)) = s.split_once('\n') {
        let _ = module::path_match(glob, name);
    }
    if module_ok {
        let e = module::escape_path(s).expect("a valid path escapes");
        assert_eq!(module::unescape_path(&e).as_deref(), Ok(s), "round trip of {s:?}");
        let m = module::ModulePath::parse(s).expect("valid path parses");
        let (prefix, major) = m.split_major();
        assert_eq!(format!("{prefix}{major}"), s);
        // Go quirk: `gopkg.in/x.v-unstable` passes CheckPath but has no major (Go's
        // PathMajorPrefix panics on it); that is the only suffix without one.
        if major != ".v-unstable" {
            assert!(module::path_major_prefix(major).is_some(), "major suffix {major:?} of {s:?}");
        }
        assert!(import_ok, "module path {s:?} is an import path");
        assert!(module::check_file_path(s).is_ok(), "module path {s:?} is a file path");
    }
});
