//! From `git archive` to a module zip, the way the go command's direct mode does it: archive the
//! commit with export-ignore/export-subst neutralised (see `cache.rs`) and eol conversions applied,
//! keep the module directory's entries in archive order, add the root LICENSE to a subdirectory
//! module that has none, and hand the list to `gomod::zip::create`.

use std::fs::File as FsFile;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use gomod::zip::{File, FileInfo, FileKind, MemFile};

/// One file inside the archive git wrote, read straight from its offset in that file.
pub struct ArchiveFile {
    rel: String,
    kind: FileKind,
    size: u64,
    compressed: u64,
    deflated: bool,
    offset: u64,
    archive: Arc<PathBuf>,
}

impl File for ArchiveFile {
    fn path(&self) -> &str {
        &self.rel
    }
    fn lstat(&self) -> io::Result<FileInfo> {
        Ok(FileInfo {
            kind: self.kind,
            size: self.size,
        })
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        let mut f = FsFile::open(self.archive.as_path())?;
        f.seek(SeekFrom::Start(self.offset))?;
        let raw = f.take(self.compressed);
        if self.deflated {
            Ok(Box::new(flate2::read::DeflateDecoder::new(raw)))
        } else {
            Ok(Box::new(raw))
        }
    }
}

/// A module file: from the archive, or the inherited LICENSE.
pub enum ModFile {
    Archive(ArchiveFile),
    Mem(MemFile),
}

impl File for ModFile {
    fn path(&self) -> &str {
        match self {
            Self::Archive(f) => f.path(),
            Self::Mem(f) => f.path(),
        }
    }
    fn lstat(&self) -> io::Result<FileInfo> {
        match self {
            Self::Archive(f) => f.lstat(),
            Self::Mem(f) => f.lstat(),
        }
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        match self {
            Self::Archive(f) => f.open(),
            Self::Mem(f) => f.open(),
        }
    }
}

/// Lists the files of module directory `subdir` ("" for the root) in a git-archive zip made with
/// `--prefix=prefix/`, in archive order.
pub fn list_archive(path: &Path, subdir: &str) -> Result<Vec<ArchiveFile>, String> {
    let archive_path = Arc::new(path.to_path_buf());
    let f = FsFile::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut zip =
        zip::ZipArchive::new(io::BufReader::new(f)).map_err(|e| format!("git archive: {e}"))?;
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| format!("git archive entry {i}: {e}"))?;
        let name = std::str::from_utf8(entry.name_raw())
            .map_err(|_| format!("git archive: file name {:?} is not UTF-8", entry.name_raw()))?;
        let Some(mut rel) = name.strip_prefix("prefix/") else {
            continue;
        };
        if !subdir.is_empty() {
            let Some(r) = rel.strip_prefix(subdir).and_then(|r| r.strip_prefix('/')) else {
                continue;
            };
            rel = r;
        }
        if rel.is_empty() || rel.ends_with('/') || entry.is_dir() {
            continue;
        }
        let kind = match entry.unix_mode().map(|m| m & 0o170000) {
            Some(0o120000) => FileKind::Symlink,
            _ => FileKind::Regular,
        };
        let deflated = match entry.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => return Err(format!("git archive: unexpected compression {other:?}")),
        };
        let offset = entry
            .data_start()
            .ok_or_else(|| format!("git archive: no data offset for {name}"))?;
        files.push(ArchiveFile {
            rel: rel.to_string(),
            kind,
            size: entry.size(),
            compressed: entry.compressed_size(),
            deflated,
            offset,
            archive: archive_path.clone(),
        });
    }
    Ok(files)
}

/// A writer that counts and hashes what passes through.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub struct Built {
    pub size: u64,
    pub sha256: [u8; 32],
}

/// Why the zip could not be built: the module's own content (fatal for this version) or i/o.
pub enum BuildError {
    Module(String),
    Io(String),
}

/// Builds the module zip at `dest` from the git archive at `archive` (blocking).
pub fn build(
    archive: &Path,
    subdir: &str,
    license: Option<Vec<u8>>,
    module: &str,
    version: &str,
    dest: &Path,
) -> Result<Built, BuildError> {
    let listed = list_archive(archive, subdir).map_err(BuildError::Io)?;
    let has_license = listed.iter().any(|f| f.rel == "LICENSE");
    let mut files: Vec<ModFile> = listed.into_iter().map(ModFile::Archive).collect();
    if !subdir.is_empty()
        && !has_license
        && let Some(data) = license
    {
        files.push(ModFile::Mem(MemFile::new("LICENSE", data)));
    }
    let out =
        FsFile::create(dest).map_err(|e| BuildError::Io(format!("{}: {e}", dest.display())))?;
    let mut w = Hashing {
        inner: BufWriter::new(out),
        sha: Sha256::new(),
        size: 0,
    };
    gomod::zip::create(&mut w, module, version, files).map_err(|e| match e {
        gomod::zip::ZipError::Io { .. } => BuildError::Io(e.to_string()),
        other => BuildError::Module(other.to_string()),
    })?;
    w.flush().map_err(|e| BuildError::Io(e.to_string()))?;
    Ok(Built {
        size: w.size,
        sha256: w.sha.finalize().into(),
    })
}
