//! Checking a module zip someone else made, in bounded memory and time.
//!
//! Order of work, cheapest refusal first:
//! 1. module path and version, then the zip's own size (before parsing anything);
//! 2. the central directory: duplicates, local headers that disagree with it or overlap;
//! 3. every name and declared size (no decompression yet): prefix, cleanliness, file-path rules,
//!    case-insensitive and file/directory collisions, go.mod placement, size limits;
//! 4. one streaming pass over the contents, decompressing each entry ourselves (stored or deflate,
//!    like Go's reader) through a limit of declared size + 1, checking the CRC-32 and hashing.
//!
//! A zip bomb with honest sizes dies in step 3; one that lies about its size stops after
//! declared + 1 bytes of output in step 4.

use std::fs;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::fold::Collisions;
use super::{MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE, ZipError, check_module, is_clean, split};
use crate::dirhash::hash1;

/// What [`check_zip`] found in a valid module zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedZip {
    /// `h1:` hash over every entry (directory entries included, as `dirhash.HashZip` does).
    pub h1: String,
    /// Number of file entries (directory entries not counted).
    pub files: usize,
    /// Sum of the uncompressed sizes of the file entries.
    pub size: u64,
    /// The root `go.mod`, if the zip has one (at most [`MAX_GO_MOD`] bytes).
    pub go_mod: Option<Vec<u8>>,
}

/// Checks the module zip at `file` for `path@version`. See the module docs for what is checked.
pub fn check_zip(file: &Path, path: &str, version: &str) -> Result<CheckedZip, ZipError> {
    check_module(path, version)?;
    let f = fs::File::open(file).map_err(|source| ZipError::Io {
        name: file.display().to_string(),
        source,
    })?;
    let len = f
        .metadata()
        .map_err(|source| ZipError::Io {
            name: file.display().to_string(),
            source,
        })?
        .len();
    if len > MAX_ZIP_FILE {
        return Err(ZipError::ZipFileTooLarge { size: len });
    }
    check_zip_reader(io::BufReader::new(f), path, version)
}

/// [`check_zip`] over bytes in memory (handy for fuzzing).
pub fn check_zip_bytes(data: &[u8], path: &str, version: &str) -> Result<CheckedZip, ZipError> {
    check_zip_reader(Cursor::new(data), path, version)
}

fn zip_err(e: zip::result::ZipError) -> ZipError {
    ZipError::BadZip(e.to_string())
}

/// [`check_zip`] over any seekable reader.
pub fn check_zip_reader<R: Read + Seek>(
    mut r: R,
    path: &str,
    version: &str,
) -> Result<CheckedZip, ZipError> {
    check_module(path, version)?;
    let io_whole = |source| ZipError::Io {
        name: String::new(),
        source,
    };
    let len = r.seek(SeekFrom::End(0)).map_err(io_whole)?;
    if len > MAX_ZIP_FILE {
        return Err(ZipError::ZipFileTooLarge { size: len });
    }
    r.seek(SeekFrom::Start(0)).map_err(io_whole)?;

    let mut archive = zip::ZipArchive::new(r).map_err(zip_err)?;
    if archive.has_duplicate_names() {
        let start = archive.central_directory_start();
        let mut r = archive.into_inner();
        let entry = find_duplicate(&mut r, start).unwrap_or_default();
        return Err(ZipError::MultipleEntries {
            name: entry.clone(),
            entry,
        });
    }
    archive.validate_header_consistency().map_err(zip_err)?;

    // Names and declared sizes.
    let prefix = format!("{path}@{version}/");
    let mut collisions = Collisions::default();
    let mut first_err: Option<ZipError> = None;
    let mut too_large = false;
    let mut total = 0u64;
    let mut names: Vec<String> = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index_data(i).map_err(zip_err)?;
        let Ok(name) = std::str::from_utf8(entry.name_raw()) else {
            return Err(ZipError::NonUtf8Name {
                name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
            });
        };
        let name = name.to_string();
        names.push(name.clone());
        if first_err.is_some() {
            // Keep collecting names only; one error is enough to report.
            continue;
        }
        let Some(rel) = name.strip_prefix(prefix.as_str()) else {
            first_err = Some(ZipError::WrongPrefix {
                name,
                prefix: prefix.clone(),
            });
            continue;
        };
        if rel.is_empty() {
            continue;
        }
        let (rel, is_dir) = match rel.strip_suffix('/') {
            Some(d) => (d, true),
            None => (rel, false),
        };
        if !is_clean(rel) {
            first_err = Some(ZipError::PathNotClean { name });
            continue;
        }
        if let Err(reason) = crate::module::check_file_path(rel) {
            first_err = Some(ZipError::InvalidFilePath {
                name,
                reason: Box::new(reason),
            });
            continue;
        }
        if let Err(e) = collisions.check(&name, rel, is_dir) {
            first_err = Some(e);
            continue;
        }
        if is_dir {
            continue;
        }
        let (_, base) = split(rel);
        if base.eq_ignore_ascii_case("go.mod") {
            if base != rel {
                first_err = Some(ZipError::GoModNotInRoot { name });
                continue;
            }
            if rel != "go.mod" {
                first_err = Some(ZipError::GoModCase { name });
                continue;
            }
        }
        let size = entry.size();
        if size <= MAX_ZIP_FILE - total {
            total += size;
        } else {
            too_large = true;
        }
        if rel == "go.mod" && size > MAX_GO_MOD {
            first_err = Some(ZipError::GoModTooLarge { name });
            continue;
        }
        if rel == "LICENSE" && size > MAX_LICENSE {
            first_err = Some(ZipError::LicenseTooLarge { name });
            continue;
        }
    }
    if too_large {
        return Err(ZipError::ContentsTooLarge);
    }
    if let Some(e) = first_err {
        return Err(e);
    }

    // Contents, streamed.
    let root_go_mod = format!("{prefix}go.mod");
    let mut sums = Vec::with_capacity(names.len());
    let mut files = 0usize;
    let mut size = 0u64;
    let mut go_mod = None;
    let mut buf = vec![0u8; 64 * 1024];
    for (i, name) in names.into_iter().enumerate() {
        let mut entry = archive.by_index_raw(i).map_err(zip_err)?;
        let declared = entry.size();
        let want_crc = entry.crc32();
        let is_dir = name.ends_with('/');
        if entry.encrypted() {
            return Err(ZipError::Encrypted { name });
        }
        if is_dir && (entry.compressed_size() != 0 || entry.flags().is_using_data_descriptor()) {
            // Go's reader refuses to open such an entry, so HashZip fails on it.
            return Err(ZipError::DirectoryWithContent { name });
        }
        let method = entry.compression();
        let raw: &mut dyn Read = &mut entry;
        let mut decoder: Box<dyn Read + '_> = match method {
            zip::CompressionMethod::Stored => Box::new(raw),
            zip::CompressionMethod::Deflated => Box::new(flate2::read::DeflateDecoder::new(raw)),
            other => {
                return Err(ZipError::UnsupportedCompression {
                    name,
                    method: format!("{other:?}"),
                });
            }
        };
        let keep_bytes = name == root_go_mod;
        let mut kept = Vec::new();
        let mut hasher = Sha256::new();
        let mut crc = crc32fast::Hasher::new();
        let mut n = 0u64;
        let mut limited = (&mut decoder).take(declared.saturating_add(1));
        loop {
            let k = match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(ZipError::Io { name, source }),
            };
            n += k as u64;
            if n > declared {
                return Err(ZipError::LargerThanDeclared { name, declared });
            }
            let chunk = &buf[..k];
            hasher.update(chunk);
            crc.update(chunk);
            if keep_bytes {
                kept.extend_from_slice(chunk);
            }
        }
        if n < declared {
            return Err(ZipError::SmallerThanDeclared { name, declared });
        }
        if crc.finalize() != want_crc {
            return Err(ZipError::ChecksumMismatch { name });
        }
        if keep_bytes {
            go_mod = Some(kept);
        }
        if !is_dir && name != prefix {
            files += 1;
            size += n;
        }
        sums.push((name, hasher.finalize().into()));
    }
    Ok(CheckedZip {
        h1: hash1(sums)?,
        files,
        size,
        go_mod,
    })
}

/// Walks the central directory records from `start` and returns the first name seen twice.
/// Only used to name the culprit once the zip crate has said there is a duplicate.
fn find_duplicate<R: Read + Seek>(r: &mut R, start: u64) -> Option<String> {
    let mut r = io::BufReader::new(r);
    r.seek(SeekFrom::Start(start)).ok()?;
    let mut seen = std::collections::HashSet::new();
    let mut fixed = [0u8; 46];
    loop {
        r.read_exact(&mut fixed).ok()?;
        if fixed[..4] != [0x50, 0x4b, 0x01, 0x02] {
            return None;
        }
        let le = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (le(28), le(30), le(32));
        let mut name = vec![0u8; name_len];
        r.read_exact(&mut name).ok()?;
        r.seek_relative((extra_len + comment_len) as i64).ok()?;
        if !seen.insert(name.clone()) {
            return Some(String::from_utf8_lossy(&name).into_owned());
        }
    }
}
