//! `check_zip_bytes` never panics on any bytes, and whatever it accepts hashes the same under
//! `dirhash::hash_zip_reader` (the plain `dirhash.HashZip` counterpart, which reads the archive
//! through the zip crate rather than our own streaming pass).
#![no_main]

use std::io::Cursor;

use gomod::{dirhash, zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(checked) = zip::check_zip_bytes(data, "example.com/m", "v1.0.0") else {
        return;
    };
    let hashed = dirhash::hash_zip_reader(Cursor::new(data))
        .unwrap_or_else(|e| panic!("check_zip accepted a zip hash_zip cannot read: {e}"));
    assert_eq!(checked.h1, hashed, "check_zip and hash_zip disagree");
    assert!(checked.size <= zip::MAX_ZIP_FILE);
    if let Some(go_mod) = &checked.go_mod {
        assert!(go_mod.len() as u64 <= zip::MAX_GO_MOD);
    }
});
