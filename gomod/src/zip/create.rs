//! Building a module zip: filter, validate, then stream every kept file into a deterministic zip
//! while hashing it.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::filter::{NestedModules, Omitted, is_vendored, uses_go124_vendor_rules};
use super::fold::Collisions;
use super::{
    DirFile, File, FileKind, MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE, ZipError, check_module,
    is_clean, split,
};
use crate::dirhash::hash1;

/// What [`create`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The `h1:` hash of the zip's contents (what go.sum records).
    pub h1: String,
    /// Paths (relative to the module root) written, in zip order.
    pub files: Vec<String>,
    /// Sum of the uncompressed sizes written.
    pub size: u64,
    /// Paths left out silently, and why, in input order.
    pub omitted: Vec<(String, Omitted)>,
}

impl Created {
    /// Number of files in the zip.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

/// The go command's `checkFiles`: which files go in (with their declared sizes), which are
/// omitted, and the first fatal problem, if any.
struct Plan {
    keep: Vec<(usize, u64)>,
    omitted: Vec<(String, Omitted)>,
}

fn io_err(name: &str) -> impl FnOnce(io::Error) -> ZipError + '_ {
    move |source| ZipError::Io {
        name: name.to_string(),
        source,
    }
}

/// Reads at most `limit` bytes of a reader into memory (used for the root go.mod only).
fn read_bounded(r: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit).read_to_end(&mut out)?;
    Ok(out)
}

fn plan<F: File>(files: &[F]) -> Result<Plan, ZipError> {
    let mut first_err: Option<ZipError> = None;
    let record = |e: ZipError, first: &mut Option<ZipError>| {
        if first.is_none() {
            *first = Some(e);
        }
    };

    // Pass 1: where are the nested modules, and what does the root go.mod say?
    let mut nested = NestedModules::default();
    let mut root_go_mod: Option<Vec<u8>> = None;
    for f in files {
        let p = f.path();
        let (dir, base) = split(p);
        if !base.eq_ignore_ascii_case("go.mod") {
            continue;
        }
        let info = match f.lstat() {
            Ok(i) => i,
            Err(e) => {
                record(io_err(p)(e), &mut first_err);
                continue;
            }
        };
        if info.kind != FileKind::Regular {
            continue;
        }
        nested.note(p, true);
        if base == "go.mod" && dir.is_empty() {
            // A go.mod over the limit is refused below anyway; read no more than that.
            if let Ok(r) = f.open()
                && let Ok(data) = read_bounded(r, MAX_GO_MOD + 1)
            {
                root_go_mod = Some(data);
            }
        }
    }
    let go124 = uses_go124_vendor_rules(root_go_mod.as_deref());

    // Pass 2: the go command's checks, in its order.
    let mut collisions = Collisions::default();
    let mut remaining = MAX_ZIP_FILE;
    let mut too_large = false;
    let mut keep = Vec::new();
    let mut omitted = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let p = f.path();
        let name = p.to_string();
        if !is_clean(p) {
            record(ZipError::PathNotClean { name }, &mut first_err);
            continue;
        }
        if p.starts_with('/') {
            record(ZipError::PathNotRelative { name }, &mut first_err);
            continue;
        }
        if is_vendored(p, go124) {
            omitted.push((name, Omitted::Vendored));
            continue;
        }
        if nested.contains(p) {
            omitted.push((name, Omitted::InNestedModule));
            continue;
        }
        if p == ".hg_archival.txt" {
            omitted.push((name, Omitted::HgArchival));
            continue;
        }
        if let Err(reason) = crate::module::check_file_path(p) {
            record(
                ZipError::InvalidFilePath {
                    name,
                    reason: Box::new(reason),
                },
                &mut first_err,
            );
            continue;
        }
        if p.to_lowercase() == "go.mod" && p != "go.mod" {
            record(ZipError::GoModCase { name }, &mut first_err);
            continue;
        }
        let info = match f.lstat() {
            Ok(info) => info,
            Err(e) => {
                record(io_err(p)(e), &mut first_err);
                continue;
            }
        };
        if let Err(e) = collisions.check(p, p, info.kind == FileKind::Dir) {
            record(e, &mut first_err);
            continue;
        }
        match info.kind {
            FileKind::Regular => {}
            FileKind::Symlink => {
                omitted.push((name, Omitted::Symlink));
                continue;
            }
            FileKind::Dir | FileKind::Other => {
                omitted.push((name, Omitted::NotRegular));
                continue;
            }
        }
        if info.size <= remaining {
            remaining -= info.size;
        } else {
            too_large = true;
        }
        if p == "go.mod" && info.size > MAX_GO_MOD {
            record(ZipError::GoModTooLarge { name }, &mut first_err);
            continue;
        }
        if p == "LICENSE" && info.size > MAX_LICENSE {
            record(ZipError::LicenseTooLarge { name }, &mut first_err);
            continue;
        }
        keep.push((i, info.size));
    }
    if too_large {
        return Err(ZipError::SourceTreeTooLarge);
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(Plan { keep, omitted })
}

/// Creates the module zip of `path@version` from `files` (paths relative to the module root, in
/// the order they should appear: the go command uses git tree order, with an inherited root
/// LICENSE last), writing it to `w`.
///
/// Same input, same bytes: no directory entries, deflate level 5, DOS time 1980-01-01, mode 0644,
/// entries named `path@version/rel`. A file whose first 64 KiB do not compress (random data,
/// images, archives) is stored instead of deflated: deflating it would cost time and save
/// nothing, and the `h1:` hash, which covers contents only, is the same. Each file is streamed
/// through a SHA-256 into the writer, so the returned `h1:` costs no second read. Nothing is
/// written if validation fails; an I/O error while writing leaves a partial zip in `w`.
pub fn create<W: Write, F: File>(
    w: W,
    path: &str,
    version: &str,
    files: Vec<F>,
) -> Result<Created, ZipError> {
    check_module(path, version)?;
    let Plan { keep, omitted } = plan(&files)?;

    let prefix = format!("{path}@{version}/");
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(5))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let stored = opts
        .compression_method(zip::CompressionMethod::Stored)
        .compression_level(None);
    let mut zw = zip::ZipWriter::new_stream(w);
    let mut sums = Vec::with_capacity(keep.len());
    let mut names = Vec::with_capacity(keep.len());
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for (i, declared) in keep {
        let Some(f) = files.get(i) else { continue };
        let rel = f.path();
        let name = format!("{prefix}{rel}");
        let reader = f.open().map_err(io_err(rel))?;
        let mut limited = reader.take(declared.saturating_add(1));
        // The first buffer decides how the file is kept; it is written like any other.
        let first = fill(&mut limited, &mut buf).map_err(io_err(rel))?;
        let method = if incompressible(&buf[..first]) {
            stored
        } else {
            opts
        };
        zw.start_file(name.as_str(), method)?;
        let mut hasher = Sha256::new();
        let mut n = 0u64;
        let mut pending = first;
        loop {
            let k = if pending > 0 {
                std::mem::take(&mut pending)
            } else {
                match limited.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io_err(rel)(e)),
                }
            };
            n += k as u64;
            if n > declared {
                return Err(ZipError::LargerThanDeclared {
                    name: rel.to_string(),
                    declared,
                });
            }
            hasher.update(&buf[..k]);
            zw.write_all(&buf[..k]).map_err(io_err(rel))?;
        }
        total += n;
        sums.push((name, hasher.finalize().into()));
        names.push(rel.to_string());
    }
    let mut inner = zw.finish()?.into_inner();
    inner.flush().map_err(io_err(""))?;
    Ok(Created {
        h1: hash1(sums)?,
        files: names,
        size: total,
        omitted,
    })
}

/// Reads until `buf` is full or the input ends; how many bytes were read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Whether a file starting with `sample` is not worth deflating: a full sample that the
/// fastest deflate level cannot shrink by 3 %. Short files are always deflated (as the go
/// command's are).
fn incompressible(sample: &[u8]) -> bool {
    const WHOLE_SAMPLE: usize = 64 * 1024;
    if sample.len() < WHOLE_SAMPLE {
        return false;
    }
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    match d.write_all(sample).and_then(|()| d.finish()) {
        Ok(out) => out.len() * 100 >= sample.len() * 97,
        Err(_) => false,
    }
}

/// Lists every file under `dir` the way a VCS export would hand them to [`create`]: all
/// non-directories (symlinks included, not followed), skipping `.bzr`, `.git`, `.hg` and `.svn`
/// directories at any depth, in lexical order within each directory.
///
/// Unlike x/mod's `CreateFromDir`, nested modules and vendored files are not pruned while
/// walking; they are dropped by the same rules as for a git file list, so the result matches what
/// the go command's direct mode (git archive + `Create`) produces for the same tree. The two
/// differ only for exotic trees: a *symlinked* `sub/go.mod` is a module boundary for
/// `CreateFromDir` but not for the go command, and symlinks take part in the collision check.
pub fn list_dir(dir: &Path) -> Result<Vec<DirFile>, ZipError> {
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<DirFile>) -> Result<(), ZipError> {
    let shown = if rel.is_empty() { "." } else { rel };
    let mut entries = fs::read_dir(dir)
        .and_then(|rd| rd.collect::<Result<Vec<_>, _>>())
        .map_err(io_err(shown))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let os_name = e.file_name();
        let Some(name) = os_name.to_str() else {
            return Err(ZipError::NonUtf8Name {
                name: format!("{rel}/{}", os_name.to_string_lossy()),
            });
        };
        let child = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let ft = e.file_type().map_err(io_err(&child))?;
        if ft.is_dir() {
            if matches!(name, ".bzr" | ".git" | ".hg" | ".svn") {
                continue;
            }
            walk(&e.path(), &child, out)?;
        } else {
            let f = DirFile::new(child.clone(), e.path()).map_err(io_err(&child))?;
            out.push(f);
        }
    }
    Ok(())
}

/// [`create`] over every file under `dir` (see [`list_dir`]).
pub fn create_from_dir<W: Write>(
    w: W,
    path: &str,
    version: &str,
    dir: &Path,
) -> Result<Created, ZipError> {
    check_module(path, version)?;
    let files = list_dir(dir)?;
    create(w, path, version, files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zip::MemFile;

    fn names(files: Vec<MemFile>) -> Result<Vec<String>, ZipError> {
        let mut out = Vec::new();
        create(&mut out, "example.com/m", "v1.0.0", files).map(|c| c.files)
    }

    #[test]
    fn keeps_input_order_and_omits_quietly() {
        let files = vec![
            MemFile::new("z.go", "package m"),
            MemFile::new("go.mod", "module example.com/m\n\ngo 1.22\n"),
            MemFile::new(".hg_archival.txt", "x"),
            MemFile::new("sub/.hg_archival.txt", "kept"),
            MemFile::new("a.go", "package m"),
        ];
        assert_eq!(
            names(files).unwrap(),
            ["z.go", "go.mod", "sub/.hg_archival.txt", "a.go"]
        );
    }

    #[test]
    fn size_error_wins_over_name_errors() {
        struct Huge;
        impl File for Huge {
            fn path(&self) -> &str {
                "huge.bin"
            }
            fn lstat(&self) -> io::Result<super::super::FileInfo> {
                Ok(super::super::FileInfo {
                    kind: FileKind::Regular,
                    size: MAX_ZIP_FILE + 1,
                })
            }
            fn open(&self) -> io::Result<Box<dyn Read + '_>> {
                Ok(Box::new(io::empty()))
            }
        }
        let files: Vec<Box<dyn File>> = vec![Box::new(MemFile::new("a/../b", "")), Box::new(Huge)];
        let mut out = Vec::new();
        let err = create(&mut out, "example.com/m", "v1.0.0", files).unwrap_err();
        assert!(matches!(err, ZipError::SourceTreeTooLarge), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn a_file_that_grows_is_refused() {
        struct Liar;
        impl File for Liar {
            fn path(&self) -> &str {
                "liar.txt"
            }
            fn lstat(&self) -> io::Result<super::super::FileInfo> {
                Ok(super::super::FileInfo {
                    kind: FileKind::Regular,
                    size: 3,
                })
            }
            fn open(&self) -> io::Result<Box<dyn Read + '_>> {
                Ok(Box::new(&b"four"[..]))
            }
        }
        let mut out = Vec::new();
        let err = create(&mut out, "example.com/m", "v1.0.0", vec![Liar]).unwrap_err();
        assert!(matches!(
            err,
            ZipError::LargerThanDeclared { declared: 3, .. }
        ));
    }

    #[test]
    fn incompressible_files_are_stored_and_hash_the_same() {
        // xorshift: bytes no deflate can shrink, the same on every run.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..200 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let text = "package m // some text that compresses well\n".repeat(5000);
        let cases: &[(&str, Vec<u8>, zip::CompressionMethod)] = &[
            ("noise.bin", noise.clone(), zip::CompressionMethod::Stored),
            (
                "text.go",
                text.clone().into_bytes(),
                zip::CompressionMethod::Deflated,
            ),
            // Short files are deflated whatever they hold.
            (
                "short.bin",
                noise[..1000].to_vec(),
                zip::CompressionMethod::Deflated,
            ),
            ("empty.go", Vec::new(), zip::CompressionMethod::Deflated),
        ];
        let files: Vec<MemFile> = cases
            .iter()
            .map(|(n, d, _)| MemFile::new(*n, d.clone()))
            .collect();
        let mut out = Vec::new();
        let created = create(&mut out, "example.com/m", "v1.0.0", files).expect("create");
        let mut again = Vec::new();
        let files: Vec<MemFile> = cases
            .iter()
            .map(|(n, d, _)| MemFile::new(*n, d.clone()))
            .collect();
        create(&mut again, "example.com/m", "v1.0.0", files).expect("again");
        assert_eq!(out, again, "same input, same bytes");
        let mut archive = zip::ZipArchive::new(io::Cursor::new(out)).expect("read back");
        for (name, data, method) in cases {
            let mut f = archive
                .by_name(&format!("example.com/m@v1.0.0/{name}"))
                .expect(name);
            assert_eq!(f.compression(), *method, "{name}");
            let mut got = Vec::new();
            f.read_to_end(&mut got).expect("read");
            assert_eq!(&got, data, "{name}");
        }
        // The h1: of the contents, however they were kept.
        let sums: Vec<(String, [u8; 32])> = cases
            .iter()
            .map(|(n, d, _)| {
                (
                    format!("example.com/m@v1.0.0/{n}"),
                    Sha256::digest(d).into(),
                )
            })
            .collect();
        assert_eq!(created.h1, hash1(sums).expect("h1"));
    }
}
