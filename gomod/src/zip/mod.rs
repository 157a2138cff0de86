//! Module zip files, as the go command makes and checks them (counterpart of
//! `golang.org/x/mod/zip`, with the file-list semantics of the go command's direct mode).
//!
//! * [`create`] / [`create_from_dir`] filter a file list (vendor, nested modules,
//!   `.hg_archival.txt`, symlinks and irregular files), validate it and write a deterministic,
//!   streamed zip, computing its `h1:` hash on the way.
//! * [`check_zip`] validates a zip someone else made, streaming, in bounded memory and time, and
//!   computes its `h1:` hash in the same pass.
//!
//! Split by concern: [`filter`] holds the omission rules (the `vendor/` rule reads the root go.mod
//! with [`crate::modfile::parse_lax`]), `fold` the case-insensitive collision checker, `create`
//! and `check` the two directions.

mod check;
mod create;
pub mod filter;
mod fold;

use std::fs;
use std::io::{self, Read};
use std::path::PathBuf;

pub use check::{CheckedZip, check_zip, check_zip_bytes, check_zip_reader};
pub use create::{Created, create, create_from_dir, list_dir};
pub use fold::str_to_fold;

use crate::dirhash::HashError;
use crate::module::InvalidPath;

/// Maximum size in bytes of a module zip file, and of the sum of its files' uncompressed sizes.
pub const MAX_ZIP_FILE: u64 = 500 << 20;
/// Maximum size in bytes of a module's root `go.mod`.
pub const MAX_GO_MOD: u64 = 16 << 20;
/// Maximum size in bytes of a module's root `LICENSE`.
pub const MAX_LICENSE: u64 = 16 << 20;

/// What a [`File`] is, as `lstat` would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file: the only kind that goes into a zip.
    Regular,
    /// A symbolic link: omitted (after the collision check).
    Symlink,
    /// A directory. Lists built by [`create_from_dir`] never hold one; a caller's list might.
    Dir,
    /// Anything else (device, fifo, socket, git submodule placeholder): omitted.
    Other,
}

/// Kind and size of a [`File`], as `lstat` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: FileKind,
    /// Declared size: the file must not yield more bytes than this when opened.
    pub size: u64,
}

/// One file of a module source tree (like Go's `zip.File`).
pub trait File {
    /// Path relative to the module root, with `/` separators.
    fn path(&self) -> &str;
    /// Kind and size, without following symlinks.
    fn lstat(&self) -> io::Result<FileInfo>;
    /// The file's contents. Called only for regular files that go into the zip.
    fn open(&self) -> io::Result<Box<dyn Read + '_>>;
}

impl<T: File + ?Sized> File for Box<T> {
    fn path(&self) -> &str {
        (**self).path()
    }
    fn lstat(&self) -> io::Result<FileInfo> {
        (**self).lstat()
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        (**self).open()
    }
}

impl<T: File + ?Sized> File for &T {
    fn path(&self) -> &str {
        (**self).path()
    }
    fn lstat(&self) -> io::Result<FileInfo> {
        (**self).lstat()
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        (**self).open()
    }
}

/// A file on disk, with the kind and size seen when it was listed.
#[derive(Debug, Clone)]
pub struct DirFile {
    /// Slash-separated path relative to the module root.
    pub rel: String,
    /// Where it is on disk.
    pub fs_path: PathBuf,
    pub info: FileInfo,
}

impl DirFile {
    /// Lstats `fs_path` now.
    pub fn new(rel: impl Into<String>, fs_path: impl Into<PathBuf>) -> io::Result<Self> {
        let fs_path = fs_path.into();
        let m = fs::symlink_metadata(&fs_path)?;
        let ft = m.file_type();
        let kind = if ft.is_file() {
            FileKind::Regular
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_dir() {
            FileKind::Dir
        } else {
            FileKind::Other
        };
        Ok(Self {
            rel: rel.into(),
            fs_path,
            info: FileInfo {
                kind,
                size: m.len(),
            },
        })
    }
}

impl File for DirFile {
    fn path(&self) -> &str {
        &self.rel
    }
    fn lstat(&self) -> io::Result<FileInfo> {
        Ok(self.info)
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(fs::File::open(&self.fs_path)?))
    }
}

/// A file held in memory (a blob read from git, a synthesized LICENSE, a test fixture).
#[derive(Debug, Clone)]
pub struct MemFile {
    pub rel: String,
    pub kind: FileKind,
    pub data: Vec<u8>,
}

impl MemFile {
    /// A regular file.
    pub fn new(rel: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            rel: rel.into(),
            kind: FileKind::Regular,
            data: data.into(),
        }
    }
}

impl File for MemFile {
    fn path(&self) -> &str {
        &self.rel
    }
    fn lstat(&self) -> io::Result<FileInfo> {
        Ok(FileInfo {
            kind: self.kind,
            size: self.data.len() as u64,
        })
    }
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self.data[..]))
    }
}

/// Why a module zip cannot be created or was refused. Messages follow the go command's; `name` is
/// the offending path as the go command reports it (relative to the module root when creating,
/// the full entry name when checking a zip).
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("version {version:?} is not canonical (should be {canonical:?})")]
    NonCanonicalVersion { version: String, canonical: String },
    /// `module.Check(path, version)` failed.
    #[error(transparent)]
    InvalidModule(Box<InvalidPath>),
    #[error("{name:?}: file path is not clean")]
    PathNotClean { name: String },
    #[error("{name:?}: file path is not relative")]
    PathNotRelative { name: String },
    /// `module.CheckFilePath` failed.
    #[error("{name:?}: {reason}")]
    InvalidFilePath {
        name: String,
        reason: Box<InvalidPath>,
    },
    #[error("{name:?}: path does not have prefix {prefix:?}")]
    WrongPrefix { name: String, prefix: String },
    #[error("{name:?}: go.mod files must have lowercase names")]
    GoModCase { name: String },
    #[error("{name:?}: go.mod file not in module root directory")]
    GoModNotInRoot { name: String },
    #[error("{name:?}: case-insensitive file name collision: {first:?} and {second:?}")]
    CaseCollision {
        name: String,
        first: String,
        second: String,
    },
    #[error("{name:?}: entry {entry:?} is both a file and a directory")]
    FileAndDirectory { name: String, entry: String },
    #[error("{name:?}: multiple entries for file {entry:?}")]
    MultipleEntries { name: String, entry: String },
    #[error("{name:?}: go.mod file too large (max size is {MAX_GO_MOD} bytes)")]
    GoModTooLarge { name: String },
    #[error("{name:?}: LICENSE file too large (max size is {MAX_LICENSE} bytes)")]
    LicenseTooLarge { name: String },
    /// The files to zip add up to more than [`MAX_ZIP_FILE`].
    #[error("module source tree too large (max size is {MAX_ZIP_FILE} bytes)")]
    SourceTreeTooLarge,
    /// The zip file itself is larger than [`MAX_ZIP_FILE`].
    #[error("module zip file is too large ({size} bytes; limit is {MAX_ZIP_FILE} bytes)")]
    ZipFileTooLarge { size: u64 },
    /// The declared uncompressed sizes add up to more than [`MAX_ZIP_FILE`].
    #[error(
        "total uncompressed size of module contents too large (max size is {MAX_ZIP_FILE} bytes)"
    )]
    ContentsTooLarge,
    /// A file yielded more bytes than its declared (lstat or zip header) size.
    #[error("{name:?}: file is larger than declared size ({declared} bytes)")]
    LargerThanDeclared { name: String, declared: u64 },
    /// A zip entry yielded fewer bytes than its declared size.
    #[error("{name:?}: file is smaller than declared size ({declared} bytes)")]
    SmallerThanDeclared { name: String, declared: u64 },
    #[error("{name:?}: CRC-32 mismatch")]
    ChecksumMismatch { name: String },
    #[error("{name:?}: directory entry has content")]
    DirectoryWithContent { name: String },
    #[error("{name:?}: unsupported compression method {method}")]
    UnsupportedCompression { name: String, method: String },
    #[error("{name:?}: encrypted entries are not supported")]
    Encrypted { name: String },
    #[error("{name:?}: file name is not valid UTF-8")]
    NonUtf8Name { name: String },
    /// The archive is not a readable zip, or its local headers disagree with its central directory.
    #[error("invalid zip file: {0}")]
    BadZip(String),
    #[error("{name:?}: {source}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Hash(Box<HashError>),
}

impl From<::zip::result::ZipError> for ZipError {
    fn from(e: ::zip::result::ZipError) -> Self {
        match e {
            ::zip::result::ZipError::Io(source) => ZipError::Io {
                name: String::new(),
                source,
            },
            other => ZipError::BadZip(other.to_string()),
        }
    }
}

/// `path.Split`: (`dir/` with its trailing slash, base).
pub(crate) fn split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p),
    }
}

/// Whether `path.Clean(p) == p` (Go's lexical cleaning, for slash paths).
pub(crate) fn is_clean(p: &str) -> bool {
    if p.is_empty() {
        return false;
    }
    if p == "/" || p == "." {
        return true;
    }
    if p.ends_with('/') {
        return false;
    }
    let rooted = p.starts_with('/');
    let body = if rooted { &p[1..] } else { p };
    let mut seen_real = false;
    for elem in body.split('/') {
        match elem {
            "" | "." => return false,
            ".." => {
                // Clean keeps leading `..` of a relative path, and drops `..` right after the root.
                if rooted || seen_real {
                    return false;
                }
            }
            _ => seen_real = true,
        }
    }
    true
}

/// `path.Dir` for a clean relative path: "." when there is no slash.
pub(crate) fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(i) => &p[..i],
        None => ".",
    }
}

/// `version != module.CanonicalVersion(version)`, then `module.Check(path, version)`.
pub(crate) fn check_module(path: &str, version: &str) -> Result<(), ZipError> {
    let canonical = crate::module::canonical_version(version);
    if canonical != version {
        return Err(ZipError::NonCanonicalVersion {
            version: version.to_string(),
            canonical,
        });
    }
    crate::module::check(path, version)?;
    Ok(())
}

// Boxed so `Result<_, ZipError>` stays small on the hot path.
impl From<InvalidPath> for ZipError {
    fn from(e: InvalidPath) -> Self {
        Self::InvalidModule(Box::new(e))
    }
}

impl From<HashError> for ZipError {
    fn from(e: HashError) -> Self {
        Self::Hash(Box::new(e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn clean_paths() {
        for p in [
            "a",
            "a/b",
            "a.b/c",
            ".",
            "/",
            "/a",
            "..",
            "../a",
            "../../a/b",
            "a..b",
        ] {
            assert!(is_clean(p), "{p} should be clean");
        }
        for p in [
            "", "a/", "a//b", "./a", "a/.", "a/./b", "a/..", "a/../b", "/..", "/../a", "//a",
        ] {
            assert!(!is_clean(p), "{p} should not be clean");
        }
    }

    #[test]
    fn split_and_parent() {
        assert_eq!(split("a/b/c"), ("a/b/", "c"));
        assert_eq!(split("c"), ("", "c"));
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("c"), ".");
    }
}
