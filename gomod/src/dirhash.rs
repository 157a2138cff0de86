//! The `h1:` directory hash the go command records in go.sum and the checksum database
//! (counterpart of `golang.org/x/mod/sumdb/dirhash`).
//!
//! Hash1 is a hash of *names and contents*, never of zip bytes: for each file, sorted by name as
//! byte strings, the line `hex(sha256(content))  name\n` is fed to an outer SHA-256, and the result
//! is `h1:` followed by the standard base64 of that digest.
//!
//! Everything here streams: file contents are read in fixed-size chunks, never whole.

use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Why a hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Hash1 cannot represent a name containing a newline.
    #[error("dirhash: filenames with newlines are not supported: {name:?}")]
    NewlineInName { name: String },
    /// A file name is not valid UTF-8 (Go names are strings; we require UTF-8 to compare them).
    #[error("dirhash: file name is not valid UTF-8: {name:?}")]
    NonUtf8Name { name: String },
    /// `hash_dir` was given something that is not a directory.
    #[error("dirhash: {path} is not a directory")]
    NotADirectory { path: PathBuf },
    /// Two zip entries have the same name. Go would hash the name twice with the last entry's
    /// content; we refuse instead, since such a zip is invalid as a module zip anyway.
    #[error("dirhash: duplicate entry {name:?} in zip")]
    DuplicateName { name: String },
    /// The zip could not be read.
    #[error("dirhash: reading zip: {0}")]
    Zip(#[from] ::zip::result::ZipError),
    /// Reading a file failed.
    #[error("dirhash: {name}: {source}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
}

/// The SHA-256 of everything `r` yields, read in chunks.
pub fn sha256_reader<R: Read>(mut r: R) -> io::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Hash1 from per-file SHA-256 digests computed elsewhere (for example while the file was being
/// written into a zip). Names are sorted bytewise here; the input order does not matter.
pub fn hash1<I: IntoIterator<Item = (String, [u8; 32])>>(files: I) -> Result<String, HashError> {
    let mut files: Vec<(String, [u8; 32])> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut outer = Sha256::new();
    for (name, digest) in &files {
        if name.contains('\n') {
            return Err(HashError::NewlineInName { name: name.clone() });
        }
        outer.update(hex::encode(digest).as_bytes());
        outer.update(b"  ");
        outer.update(name.as_bytes());
        outer.update(b"\n");
    }
    Ok(format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(outer.finalize())
    ))
}

/// The `/go.mod` hash of go.sum: Hash1 over the single file name `go.mod` (no `module@version/`
/// prefix).
pub fn hash_go_mod(data: &[u8]) -> String {
    let digest: [u8; 32] = Sha256::digest(data).into();
    // A fixed name without a newline cannot fail.
    hash1([("go.mod".to_string(), digest)]).unwrap_or_default()
}

/// Hash1 of a zip file, as `dirhash.HashZip`: every entry counts, directory entries included
/// (they hash as empty content), under its full name. Each entry is streamed.
///
/// This does not validate the zip as a module zip; use [`crate::zip::check_zip`] for that (it
/// computes the same hash in its streaming pass).
pub fn hash_zip(path: &Path) -> Result<String, HashError> {
    let f = fs::File::open(path).map_err(|source| HashError::Io {
        name: path.display().to_string(),
        source,
    })?;
    hash_zip_reader(io::BufReader::new(f))
}

/// [`hash_zip`] over any seekable reader (a zip held in memory: `io::Cursor::new(bytes)`).
pub fn hash_zip_reader<R: Read + Seek>(r: R) -> Result<String, HashError> {
    let mut archive = ::zip::ZipArchive::new(r)?;
    if archive.has_duplicate_names() {
        // The archive's name map hides all but one of the duplicates; report one of them.
        let mut seen = std::collections::HashSet::new();
        for raw in archive.file_names_raw() {
            if !seen.insert(raw.to_vec()) {
                return Err(HashError::DuplicateName {
                    name: String::from_utf8_lossy(raw).into_owned(),
                });
            }
        }
    }
    let mut sums = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index(i)?;
        let name = match std::str::from_utf8(entry.name_raw()) {
            Ok(n) => n.to_string(),
            Err(_) => {
                return Err(HashError::NonUtf8Name {
                    name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                });
            }
        };
        let digest = sha256_reader(entry).map_err(|source| HashError::Io {
            name: name.clone(),
            source,
        })?;
        sums.push((name, digest));
    }
    hash1(sums)
}

/// Hash1 of a directory tree, as `dirhash.HashDir`: every non-directory under `dir` (symlinks are
/// followed when opened, as Go's `os.Open` does), named `prefix/rel/path` with `/` separators.
pub fn hash_dir(dir: &Path, prefix: &str) -> Result<String, HashError> {
    let meta = fs::metadata(dir).map_err(|source| HashError::Io {
        name: dir.display().to_string(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(HashError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    let mut sums = Vec::with_capacity(files.len());
    for (rel, full) in files {
        let name = join_prefix(prefix, &rel);
        let f = fs::File::open(&full).map_err(|source| HashError::Io {
            name: name.clone(),
            source,
        })?;
        let digest = sha256_reader(f).map_err(|source| HashError::Io {
            name: name.clone(),
            source,
        })?;
        sums.push((name, digest));
    }
    hash1(sums)
}

fn join_prefix(prefix: &str, rel: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// Collects (slash-separated relative name, filesystem path) of every non-directory under `dir`.
fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), HashError> {
    let io_err = |source| HashError::Io {
        name: dir.display().to_string(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(io_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let os_name = e.file_name();
        let Some(name) = os_name.to_str() else {
            return Err(HashError::NonUtf8Name {
                name: os_name.to_string_lossy().into_owned(),
            });
        };
        let child_rel = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let ft = e.file_type().map_err(|source| HashError::Io {
            name: child_rel.clone(),
            source,
        })?;
        if ft.is_dir() {
            walk(&e.path(), &child_rel, out)?;
        } else {
            out.push((child_rel, e.path()));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn digest(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    #[test]
    fn hash1_is_order_independent() {
        let a = hash1([
            ("m@v1.0.0/b".to_string(), digest(b"bee")),
            ("m@v1.0.0/a".to_string(), digest(b"ay")),
        ])
        .unwrap();
        let b = hash1([
            ("m@v1.0.0/a".to_string(), digest(b"ay")),
            ("m@v1.0.0/b".to_string(), digest(b"bee")),
        ])
        .unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with("h1:"));
    }

    #[test]
    fn hash1_matches_hand_computed_lines() {
        let d = digest(b"hello\n");
        let lines = format!("{}  x/y.txt\n", hex::encode(d));
        let want = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(lines.as_bytes()))
        );
        assert_eq!(hash1([("x/y.txt".to_string(), d)]).unwrap(), want);
    }

    #[test]
    fn hash1_sorts_bytewise_not_by_unicode_case() {
        // 'Z' (0x5a) sorts before 'a' (0x61), and "a/b" before "a.b"? No: '/' is 0x2f, '.' is 0x2e.
        let names = ["a/b", "a.b", "Z", "é"];
        let h = hash1(names.iter().map(|n| (n.to_string(), digest(n.as_bytes())))).unwrap();
        let mut sorted: Vec<&str> = names.to_vec();
        sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(sorted, ["Z", "a.b", "a/b", "é"]);
        let mut lines = String::new();
        for n in sorted {
            lines.push_str(&format!("{}  {n}\n", hex::encode(digest(n.as_bytes()))));
        }
        let want = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(lines.as_bytes()))
        );
        assert_eq!(h, want);
    }

    #[test]
    fn hash1_rejects_newline() {
        let err = hash1([("bad\nname".to_string(), [0u8; 32])]).unwrap_err();
        assert!(matches!(err, HashError::NewlineInName { .. }));
    }

    #[test]
    fn go_mod_hash_uses_bare_name() {
        let data = b"module example.org/tiny\n";
        let want = hash1([("go.mod".to_string(), digest(data))]).unwrap();
        assert_eq!(hash_go_mod(data), want);
        assert_ne!(
            hash_go_mod(data),
            hash_go_mod(b"module example.org/other\n")
        );
    }

    #[test]
    fn empty_set_hashes_empty_input() {
        let want = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b""))
        );
        assert_eq!(hash1(Vec::new()).unwrap(), want);
    }

    #[test]
    fn hash_dir_names_and_prefix() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sub/deeper")).unwrap();
        fs::write(dir.path().join("top.go"), b"package top\n").unwrap();
        fs::write(dir.path().join("sub/deeper/leaf.txt"), b"leaf").unwrap();
        let got = hash_dir(dir.path(), "ex.org/q@v0.1.0").unwrap();
        let want = hash1([
            (
                "ex.org/q@v0.1.0/top.go".to_string(),
                digest(b"package top\n"),
            ),
            (
                "ex.org/q@v0.1.0/sub/deeper/leaf.txt".to_string(),
                digest(b"leaf"),
            ),
        ])
        .unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn hash_dir_refuses_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("plain");
        fs::write(&f, b"x").unwrap();
        assert!(matches!(
            hash_dir(&f, "p"),
            Err(HashError::NotADirectory { .. })
        ));
    }
}
