//! `check_zip` against well-formed and hostile zips.
#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use gomod::zip::{MAX_ZIP_FILE, ZipError, check_zip, check_zip_bytes};
use zip::write::SimpleFileOptions;

const MOD: &str = "example.com/m";
const VER: &str = "v1.0.0";
const P: &str = "example.com/m@v1.0.0/";

fn opts(method: zip::CompressionMethod) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(zip::DateTime::default())
}

/// A zip (seekable writer: sizes in the local headers, no data descriptors). A name ending in `/`
/// becomes a directory entry.
fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        if name.ends_with('/') {
            w.add_directory(*name, opts(zip::CompressionMethod::Stored))
                .unwrap();
        } else {
            w.start_file(*name, opts(zip::CompressionMethod::Deflated))
                .unwrap();
            w.write_all(data).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

fn check(bytes: &[u8]) -> Result<gomod::zip::CheckedZip, ZipError> {
    check_zip_bytes(bytes, MOD, VER)
}

fn replace_all(buf: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= buf.len() {
        if &buf[i..i + from.len()] == from {
            buf[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Offsets of (local header, central directory record) for every entry.
fn headers(b: &[u8]) -> Vec<(usize, usize)> {
    let eocd = (0..=b.len() - 22)
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .unwrap();
    let mut cd = u32_at(b, eocd + 16) as usize;
    let mut out = Vec::new();
    while b[cd..cd + 4] == [0x50, 0x4b, 0x01, 0x02] {
        let local = u32_at(b, cd + 42) as usize;
        out.push((local, cd));
        let le = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as usize;
        cd += 46 + le(cd + 28) + le(cd + 30) + le(cd + 32);
    }
    out
}

/// Rewrites the declared uncompressed size of entry `i`, in the local header and/or the central
/// directory.
fn set_size(b: &mut [u8], i: usize, size: u32, local: bool, central: bool) {
    let (l, c) = headers(b)[i];
    if local {
        b[l + 22..l + 26].copy_from_slice(&size.to_le_bytes());
    }
    if central {
        b[c + 24..c + 28].copy_from_slice(&size.to_le_bytes());
    }
}

fn set_crc(b: &mut [u8], i: usize, crc: u32) {
    let (l, c) = headers(b)[i];
    b[l + 14..l + 18].copy_from_slice(&crc.to_le_bytes());
    b[c + 16..c + 20].copy_from_slice(&crc.to_le_bytes());
}

fn good() -> Vec<u8> {
    build(&[
        (&format!("{P}go.mod"), b"module example.com/m\n"),
        (&format!("{P}a.go"), b"package m\n"),
        (&format!("{P}sub/b.go"), b"package sub\n"),
    ])
}

#[test]
fn accepts_a_good_zip() {
    let c = check(&good()).unwrap();
    assert_eq!(c.files, 3);
    assert_eq!(c.go_mod.as_deref(), Some(&b"module example.com/m\n"[..]));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.zip");
    std::fs::write(&p, good()).unwrap();
    assert_eq!(gomod::dirhash::hash_zip(&p).unwrap(), c.h1);
    assert_eq!(check_zip(&p, MOD, VER).unwrap(), c);
}

#[test]
fn directory_entries_are_allowed_and_hashed() {
    let with = build(&[
        (&format!("{P}sub/"), b""),
        (&format!("{P}sub/b.go"), b"package sub\n"),
    ]);
    let without = build(&[(&format!("{P}sub/b.go"), b"package sub\n")]);
    let a = check(&with).unwrap();
    let b = check(&without).unwrap();
    assert_eq!(a.files, 1);
    assert_ne!(a.h1, b.h1, "a directory entry changes the hash, as in Go");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.zip");
    std::fs::write(&p, &with).unwrap();
    assert_eq!(gomod::dirhash::hash_zip(&p).unwrap(), a.h1);
}

#[test]
fn zip_bomb_with_honest_size() {
    // 1 GiB of zeros, streamed into the writer; about 1 MiB compressed.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(
        format!("{P}zeros.bin"),
        opts(zip::CompressionMethod::Deflated).compression_level(Some(6)),
    )
    .unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        w.write_all(&chunk).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert!(bytes.len() < 8 << 20);
    let err = check(&bytes).unwrap_err();
    assert!(matches!(err, ZipError::ContentsTooLarge), "{err}");

    // The same stream, now claiming to be 1000 bytes everywhere: stops after 1001 bytes.
    let mut liar = bytes.clone();
    set_size(&mut liar, 0, 1000, true, true);
    let err = check(&liar).unwrap_err();
    assert!(
        matches!(err, ZipError::LargerThanDeclared { declared: 1000, .. }),
        "{err}"
    );
}

#[test]
fn declared_600_mib() {
    let mut b = good();
    set_size(&mut b, 1, 600 << 20, true, true);
    assert!(matches!(check(&b), Err(ZipError::ContentsTooLarge)));
}

#[test]
fn oversized_zip_file_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.zip");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(600 << 20).unwrap(); // sparse: no disk used, and not even a zip
    let err = check_zip(&p, MOD, VER).unwrap_err();
    assert!(
        matches!(err, ZipError::ZipFileTooLarge { size } if size == 600 << 20),
        "{err}"
    );
    assert_eq!(MAX_ZIP_FILE, 500 << 20);
}

#[test]
fn smaller_than_declared_and_bad_crc() {
    let mut b = build(&[(&format!("{P}a.txt"), b"hello, world\n")]);
    set_size(&mut b, 0, 20, true, true);
    assert!(matches!(
        check(&b),
        Err(ZipError::SmallerThanDeclared { .. })
    ));

    let mut b = build(&[(&format!("{P}a.txt"), b"hello, world\n")]);
    set_crc(&mut b, 0, 0xdead_beef);
    assert!(matches!(check(&b), Err(ZipError::ChecksumMismatch { .. })));
}

#[test]
fn central_directory_disagreeing_with_local_headers() {
    // Sizes differ between the two headers.
    let mut b = good();
    set_size(&mut b, 1, 3, true, false);
    assert!(
        matches!(check(&b), Err(ZipError::BadZip(_))),
        "{:?}",
        check(&b)
    );

    // The local header names another file.
    let mut b = good();
    let (l, _) = headers(&b)[1];
    let at = l + 30 + P.len();
    assert_eq!(&b[at..at + 4], b"a.go");
    b[at] = b'z';
    assert!(
        matches!(check(&b), Err(ZipError::BadZip(_))),
        "{:?}",
        check(&b)
    );
}

#[test]
fn duplicate_names() {
    let mut b = build(&[
        (&format!("{P}one.go"), b"package m\n"),
        (&format!("{P}two.go"), b"package m // 2\n"),
    ]);
    assert_eq!(replace_all(&mut b, b"/two.go", b"/one.go"), 2);
    let err = check(&b).unwrap_err();
    assert!(
        matches!(err, ZipError::MultipleEntries { ref entry, .. } if entry == &format!("{P}one.go")),
        "{err}"
    );
}

#[test]
fn name_problems() {
    type Case = (Vec<(String, &'static [u8])>, fn(&ZipError) -> bool);
    let cases: Vec<Case> = vec![
        (vec![(format!("{P}a/../../x"), b"")], |e| {
            matches!(e, ZipError::PathNotClean { .. })
        }),
        (vec![(format!("{P}a//x"), b"")], |e| {
            matches!(e, ZipError::PathNotClean { .. })
        }),
        (vec![(format!("{P}./x"), b"")], |e| {
            matches!(e, ZipError::PathNotClean { .. })
        }),
        (vec![("/etc/passwd".to_string(), b"")], |e| {
            matches!(e, ZipError::WrongPrefix { .. })
        }),
        (vec![(format!("/{P}x"), b"")], |e| {
            matches!(e, ZipError::WrongPrefix { .. })
        }),
        (vec![("example.com/m@v1.0.1/x".to_string(), b"")], |e| {
            matches!(e, ZipError::WrongPrefix { .. })
        }),
        (vec![("example.com/M@v1.0.0/x".to_string(), b"")], |e| {
            matches!(e, ZipError::WrongPrefix { .. })
        }),
        (vec![("example.com/m@v1.0.0".to_string(), b"")], |e| {
            matches!(e, ZipError::WrongPrefix { .. })
        }),
        (
            vec![(format!("{P}A/x"), b""), (format!("{P}a/y"), b"")],
            |e| matches!(e, ZipError::CaseCollision { .. }),
        ),
        (
            vec![(format!("{P}Read.me"), b""), (format!("{P}READ.ME"), b"")],
            |e| matches!(e, ZipError::CaseCollision { .. }),
        ),
        (
            vec![(format!("{P}f"), b""), (format!("{P}f/g"), b"")],
            |e| matches!(e, ZipError::FileAndDirectory { .. }),
        ),
        (vec![(format!("{P}sub/go.mod"), b"module x\n")], |e| {
            matches!(e, ZipError::GoModNotInRoot { .. })
        }),
        (vec![(format!("{P}sub/GO.MOD"), b"module x\n")], |e| {
            matches!(e, ZipError::GoModNotInRoot { .. })
        }),
        (vec![(format!("{P}Go.mod"), b"module x\n")], |e| {
            matches!(e, ZipError::GoModCase { .. })
        }),
    ];
    for (entries, want) in cases {
        let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let b = build(&refs);
        let err = check(&b).unwrap_err();
        assert!(want(&err), "{entries:?}: {err}");
    }
}

#[test]
fn messages_read_like_the_go_command() {
    let b = build(&[(&format!("{P}A/x"), b""), (&format!("{P}a/y"), b"")]);
    assert_eq!(
        check(&b).unwrap_err().to_string(),
        format!("\"{P}a/y\": case-insensitive file name collision: \"A\" and \"a\"")
    );
    let b = build(&[(&format!("{P}sub/go.mod"), b"")]);
    assert_eq!(
        check(&b).unwrap_err().to_string(),
        format!("\"{P}sub/go.mod\": go.mod file not in module root directory")
    );
}

#[test]
fn dot_dot_and_bad_file_names() {
    for rel in ["../x", "..", "aux.go", "a:b", "x?"] {
        let b = build(&[(&format!("{P}{rel}"), b"")]);
        let err = check(&b).unwrap_err();
        assert!(
            matches!(err, ZipError::InvalidFilePath { .. }),
            "{rel}: {err}"
        );
    }
}

#[test]
fn garbage_never_panics() {
    assert!(matches!(check(b""), Err(ZipError::BadZip(_))));
    assert!(matches!(check(b"PK\x05\x06"), Err(ZipError::BadZip(_))));
    let base = good();
    for cut in 0..base.len() {
        let _ = check(&base[..cut]);
    }
    // Deterministic byte flips at every position (a cheap stand-in for a fuzzer).
    for i in 0..base.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut b = base.clone();
            b[i] ^= x;
            let _ = check(&b);
        }
    }
}
