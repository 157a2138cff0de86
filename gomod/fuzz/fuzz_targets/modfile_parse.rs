//! `parse_lax` and `module_path` never panic on any bytes.
#![no_main]

use gomod::modfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = modfile::parse_lax(data) {
        for r in &f.retract {
            let _ = f.is_retracted(&r.low);
        }
        let _ = f.go_at_least(1, 24);
    }
    let _ = modfile::module_path(data);
});
