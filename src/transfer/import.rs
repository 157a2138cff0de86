//! `agora import`: loads a GOPROXY tree (or a tar of one) into the store. Every zip is checked
//! by the module library as a fetched one is, and must match the tree's `.ziphash` when there is
//! one; a version already stored must be the same zip, and is left as it is.
//!
//! Only regular files are read, each within the go command's own limits: a symbolic link in the
//! tree (or a link entry in the tarball) is refused, never followed, so an import cannot be made
//! to read, and echo in its report, a file from elsewhere on the machine. A tarball is held to
//! those limits by the bytes it actually unpacks, not by what its headers declare.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::intake::{Candidate, Intake, Origin};
use crate::store::{AdminStore, AuditEntry};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    pub already_stored: usize,
    /// `module@version: reason` of each version refused.
    pub failed: Vec<String>,
}

/// One version found in a tree.
#[derive(Debug, Clone)]
struct Found {
    module: ModulePath,
    version: Version,
    zip: PathBuf,
}

/// The intake an import stores through: no rules, no hook, no checksum database (an import is
/// an administrator's deliberate act, and its zips are checked against their `.ziphash`).
pub fn intake(stores: &crate::store::Stores) -> Intake {
    Intake::new(
        stores.versions.clone(),
        stores.blobs.clone(),
        std::sync::Arc::new(crate::policy::LiveRules::fixed(
            crate::policy::Rules::default(),
        )),
    )
}

/// Imports `source`, a directory or a `.tar` / `.tar.gz` / `.tgz` file.
pub async fn import(
    intake: &Intake,
    admin: &dyn AdminStore,
    source: &Path,
    actor: &str,
) -> anyhow::Result<ImportReport> {
    let unpacked = if source.is_file() && super::is_tarball(source) {
        let dir = tempfile::tempdir().context("temporary directory")?;
        let (src, dst) = (source.to_path_buf(), dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || unpack(&src, &dst)).await??;
        Some(dir)
    } else {
        None
    };
    let root = unpacked.as_ref().map(|d| d.path()).unwrap_or(source);
    let meta = std::fs::metadata(root).with_context(|| format!("{}", root.display()))?;
    if !meta.is_dir() {
        anyhow::bail!(
            "{}: not a directory, .tar, .tar.gz or .tgz",
            source.display()
        );
    }
    let root_buf = root.to_path_buf();
    let (found, mut failed) = tokio::task::spawn_blocking(move || scan(&root_buf)).await??;

    let mut report = ImportReport::default();
    let bar = super::progress(found.len() as u64, "import");
    for f in &found {
        let name = format!("{}@{}", f.module, f.version);
        bar.set_message(name.clone());
        match import_one(intake, admin, f, actor).await {
            Ok(true) => report.imported += 1,
            Ok(false) => report.already_stored += 1,
            Err(e) => failed.push(format!("{name}: {e:#}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    report.failed = failed;
    drop(unpacked);
    Ok(report)
}

async fn import_one(
    intake: &Intake,
    admin: &dyn AdminStore,
    f: &Found,
    actor: &str,
) -> anyhow::Result<bool> {
    let base = f.zip.with_extension("");
    let read = |ext: &str, limit: u64| {
        read_regular(&PathBuf::from(format!("{}.{ext}", base.display())), limit)
    };
    regular_size(&f.zip, gomod::zip::MAX_ZIP_FILE)?;
    let info = read("info", MAX_INFO)?;
    let go_mod = read("mod", gomod::zip::MAX_GO_MOD)?;
    let ziphash =
        read("ziphash", MAX_ZIPHASH)?.map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let admitted = intake
        .admit(Candidate {
            module: &f.module,
            version: &f.version,
            info,
            go_mod,
            zip: &f.zip,
            digest: None,
            expect_h1: ziphash,
            origin: Origin::Imported {
                by: actor.to_string(),
            },
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !admitted.new {
        if admitted.stored.zip_h1 != admitted.checked_h1 {
            anyhow::bail!(
                "already stored with a different zip ({} here, {} in the tree)",
                admitted.stored.zip_h1,
                admitted.checked_h1
            );
        }
        return Ok(false);
    }
    admin
        .record_audit(&AuditEntry {
            id: 0,
            at: crate::admin::unix_now(),
            actor: actor.to_string(),
            action: "import".into(),
            module: f.module.to_string(),
            version: f.version.to_string(),
            detail: admitted.stored.zip_h1,
        })
        .await?;
    Ok(true)
}

/// Largest `.info` read (the go command's own are well under 1 KiB).
const MAX_INFO: u64 = 64 << 10;
const MAX_ZIPHASH: u64 = 1 << 10;

/// The size of `path` if it is a regular file (not a link) of at most `limit` bytes.
fn regular_size(path: &Path, limit: u64) -> anyhow::Result<u64> {
    let meta = std::fs::symlink_metadata(path).with_context(|| format!("{}", path.display()))?;
    if !meta.file_type().is_file() {
        anyhow::bail!("{}: not a regular file", path.display());
    }
    if meta.len() > limit {
        anyhow::bail!("{}: larger than {limit} bytes", path.display());
    }
    Ok(meta.len())
}

/// The contents of `path` if it exists, refusing links and files over `limit` bytes.
fn read_regular(path: &Path, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    regular_size(path, limit)?;
    use std::io::Read;
    let mut data = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("{}", path.display()))?
        .take(limit + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        anyhow::bail!("{}: larger than {limit} bytes", path.display());
    }
    Ok(Some(data))
}

/// Every `<escaped path>/@v/<escaped version>.zip` under `root`, and what could not be read.
fn scan(root: &Path) -> anyhow::Result<(Vec<Found>, Vec<String>)> {
    let mut found = Vec::new();
    let mut failed = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if !kind.is_dir() {
                continue;
            }
            let path = entry.path();
            if entry.file_name() != "@v" {
                stack.push(path);
                continue;
            }
            let rel = dir
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let module = match ModulePath::from_escaped(&rel) {
                Ok(m) => m,
                Err(e) => {
                    failed.push(format!("{rel}: {e}"));
                    continue;
                }
            };
            for file in std::fs::read_dir(&path)? {
                let file = file?;
                let name = file.file_name().to_string_lossy().into_owned();
                let Some(escaped) = name.strip_suffix(".zip") else {
                    continue;
                };
                match module::unescape_version(escaped)
                    .map_err(|e| e.to_string())
                    .and_then(|v| Version::parse(&v).map_err(|e| e.to_string()))
                {
                    Ok(version) => found.push(Found {
                        module: module.clone(),
                        version,
                        zip: file.path(),
                    }),
                    Err(e) => failed.push(format!("{module}@{escaped}: {e}")),
                }
            }
        }
    }
    found.sort_by(|a, b| {
        (a.module.as_str(), a.version.as_str()).cmp(&(b.module.as_str(), b.version.as_str()))
    });
    Ok((found, failed))
}

/// Unpacks a tarball: directories and regular files only, and of the files only those an import
/// reads (`.zip`, `.mod`, `.info`, `.ziphash`), each within its limit, and in all no more than
/// [`unpacked_limit`] allows. Every limit is held against the bytes actually read and written,
/// whatever an entry's header (ustar, GNU or PAX) declares, so a bomb stops at the limit.
fn unpack(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::open(src).with_context(|| format!("{}", src.display()))?;
    let limit = unpacked_limit(file.metadata()?.len());
    if super::is_gzip(src) {
        unpack_entries(flate2::read::GzDecoder::new(file), dst, limit)
    } else {
        unpack_entries(file, dst, limit)
    }
}

/// Zips hardly compress, so a tarball of a GOPROXY tree unpacks to about its own size: allow
/// sixteen times that, and at least 1 GiB.
fn unpacked_limit(archive_bytes: u64) -> u64 {
    archive_bytes.saturating_mul(16).max(1 << 30)
}

/// The most a file of this name may hold, or `None` for a file an import never reads.
fn file_limit(name: &std::ffi::OsStr) -> Option<u64> {
    let name = name.to_str()?;
    let (_, ext) = name.rsplit_once('.')?;
    match ext {
        "zip" => Some(gomod::zip::MAX_ZIP_FILE),
        "mod" => Some(gomod::zip::MAX_GO_MOD),
        "info" => Some(MAX_INFO),
        "ziphash" => Some(MAX_ZIPHASH),
        _ => None,
    }
}

/// What the tar reader may read before it hands over the next entry: its headers, and PAX or
/// GNU long-name records, which the tar crate reads into memory. Real ones are a few KiB.
const MAX_HEADERS: u64 = 1 << 20;

/// Which budget of [`Counted`] ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Total,
    Headers,
}

/// The tar stream (after gzip), counted: every byte against the total, and the bytes the tar
/// reader reads on its own between entries against [`MAX_HEADERS`].
struct Counted<R> {
    inner: R,
    budget: std::rc::Rc<Budget>,
}

struct Budget {
    total: std::cell::Cell<u64>,
    /// What is left for headers, while the tar reader looks for the next entry; `None` while an
    /// entry's data is read.
    headers: std::cell::Cell<Option<u64>>,
    over: std::cell::Cell<Option<Over>>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let b = &self.budget;
        let (total, headers) = (b.total.get(), b.headers.get());
        let allowed = total.min(headers.unwrap_or(u64::MAX));
        if allowed == 0 && !buf.is_empty() {
            // Probe one byte: running out exactly at the end of the stream is no error.
            if self.inner.read(&mut [0u8; 1])? == 0 {
                return Ok(0);
            }
            let which = if total == 0 {
                Over::Total
            } else {
                Over::Headers
            };
            b.over.set(Some(which));
            return Err(std::io::Error::other("tarball over its limit"));
        }
        let want = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        let n64 = n as u64;
        b.total.set(total.saturating_sub(n64));
        b.headers.set(headers.map(|h| h.saturating_sub(n64)));
        Ok(n)
    }
}

fn unpack_entries<R: std::io::Read>(reader: R, dst: &Path, limit: u64) -> anyhow::Result<()> {
    let budget = std::rc::Rc::new(Budget {
        total: std::cell::Cell::new(limit),
        headers: std::cell::Cell::new(None),
        over: std::cell::Cell::new(None),
    });
    let over_message = |b: &Budget| match b.over.get() {
        Some(Over::Total) => Some(format!("the tarball unpacks to more than {limit} bytes")),
        Some(Over::Headers) => Some(format!(
            "tar headers of more than {MAX_HEADERS} bytes before an entry"
        )),
        None => None,
    };
    // An error while reading, in words when a budget ran out.
    let explain = |e: std::io::Error| {
        over_message(&budget).map_or_else(|| anyhow::Error::from(e), anyhow::Error::msg)
    };
    let mut archive = tar::Archive::new(Counted {
        inner: reader,
        budget: budget.clone(),
    });
    let mut written = 0u64;
    let mut entries = archive.entries()?;
    loop {
        budget.headers.set(Some(MAX_HEADERS));
        let mut entry = match entries.next() {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(e)) => return Err(explain(e)).context("reading the tarball"),
        };
        // The entry's data is read here, whole, so that between entries the tar reader reads
        // only headers. Its own size (PAX-aware) is a first bound; the bytes read are the real one.
        budget.headers.set(None);
        let name = entry.path()?.display().to_string();
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            anyhow::bail!("{name}: only files and directories may be imported ({kind:?})");
        }
        let rel = relative_path(&entry.path()?).ok_or_else(|| {
            anyhow::anyhow!("{name}: a path outside the tree may not be imported")
        })?;
        let target = dst.join(&rel);
        let file_limit = rel.file_name().and_then(file_limit);
        match (kind.is_dir(), file_limit) {
            (true, _) => {
                std::fs::create_dir_all(&target).with_context(|| format!("{}", target.display()))?
            }
            // Never read by an import: not written, only passed over below (and counted).
            (false, None) => {}
            (false, Some(max)) => {
                if entry.size() > max {
                    anyhow::bail!("{name}: larger than {max} bytes");
                }
                let left = limit.saturating_sub(written);
                let n = write_bounded(&mut entry, &target, max.min(left))
                    .map_err(|e| over_message(&budget).map_or(e, anyhow::Error::msg))?;
                match n {
                    Some(n) => written += n,
                    None if left < max => {
                        anyhow::bail!("the tarball unpacks to more than {limit} bytes")
                    }
                    None => anyhow::bail!("{name}: larger than {max} bytes"),
                }
            }
        }
        std::io::copy(&mut entry, &mut std::io::sink()).map_err(explain)?;
    }
    Ok(())
}

/// Copies `from` to a new file at `to`, at most `max` bytes: the count, or `None` (and no file
/// left) if there was more.
fn write_bounded(
    from: &mut impl std::io::Read,
    to: &Path,
    max: u64,
) -> anyhow::Result<Option<u64>> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
    }
    let mut file = std::fs::File::create(to).with_context(|| format!("{}", to.display()))?;
    let n = std::io::copy(
        &mut std::io::Read::take(from, max.saturating_add(1)),
        &mut file,
    );
    match n {
        Ok(n) if n <= max => Ok(Some(n)),
        result => {
            drop(file);
            let _ = std::fs::remove_file(to);
            result.map(|_| None).map_err(anyhow::Error::from)
        }
    }
}

/// An entry's path as a relative path inside the tree (empty for `./`): a leading `/` is
/// dropped, as tar tools do; `..` (or a Windows prefix) is refused.
fn relative_path(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut rel = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => rel.push(p),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(rel)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    /// A tar entry: its name, the size its ustar header declares, the size a PAX record before it
    /// declares (if any), and the bytes that follow the header.
    struct Raw<'a> {
        name: &'a str,
        ustar_size: u64,
        pax_size: Option<u64>,
        data: &'a [u8],
    }

    fn tarball(entries: &[Raw<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in entries {
            if let Some(size) = e.pax_size {
                b.append_pax_extensions([("size", size.to_string().as_bytes())])
                    .unwrap();
            }
            let mut h = tar::Header::new_gnu();
            let name = &mut h.as_old_mut().name;
            name[..e.name.len()].copy_from_slice(e.name.as_bytes());
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(e.ustar_size);
            h.set_cksum();
            let out = b.get_mut();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(e.data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        b.into_inner().unwrap()
    }

    fn file(name: &str, data: &[u8]) -> Vec<u8> {
        tarball(&[Raw {
            name,
            ustar_size: data.len() as u64,
            pax_size: None,
            data,
        }])
    }

    /// Unpacks into a fresh directory: the result, and the bytes of every file left there.
    fn unpack_with(tar: &[u8], limit: u64) -> (Result<(), String>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let got = unpack_entries(tar, dir.path(), limit).map_err(|e| format!("{e:#}"));
        (got, du(dir.path()))
    }

    fn du(dir: &Path) -> u64 {
        let mut total = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            total += if meta.is_dir() {
                du(&e.path())
            } else {
                meta.len()
            };
        }
        total
    }

    #[test]
    fn the_files_an_import_reads_are_unpacked() {
        let mut tar = file("m.example/@v/v1.0.0.mod", b"module m.example\n");
        tar.truncate(tar.len() - 1024);
        tar.extend(file("m.example/@v/v1.0.0.info", b"{}"));
        let dir = tempfile::tempdir().unwrap();
        unpack_entries(&tar[..], dir.path(), 1 << 20).unwrap();
        let at_v = dir.path().join("m.example/@v");
        assert_eq!(
            std::fs::read(at_v.join("v1.0.0.mod")).unwrap(),
            b"module m.example\n"
        );
        assert_eq!(std::fs::read(at_v.join("v1.0.0.info")).unwrap(), b"{}");
        // A file the import never reads is passed over; a leading `/` or `./` is dropped.
        let (got, written) = unpack_with(&file("m.example/@v/list", b"v1.0.0\n"), 1 << 20);
        assert_eq!((got, written), (Ok(()), 0));
        let dir = tempfile::tempdir().unwrap();
        unpack_entries(&file("./a/@v/v1.mod", b"x")[..], dir.path(), 1 << 20).unwrap();
        unpack_entries(&file("/b/@v/v1.mod", b"y")[..], dir.path(), 1 << 20).unwrap();
        assert_eq!(du(dir.path()), 2);
    }

    #[test]
    fn a_pax_size_is_held_to_the_limits_whatever_the_ustar_size_says() {
        // ustar says 0, PAX says more than a .info may hold: refused before a byte is written.
        let data = vec![b'x'; 100 << 10];
        let bomb = tarball(&[Raw {
            name: "m.example/@v/v1.0.0.info",
            ustar_size: 0,
            pax_size: Some(data.len() as u64),
            data: &data,
        }]);
        let (got, written) = unpack_with(&bomb, 1 << 30);
        assert_eq!(written, 0);
        assert!(got.unwrap_err().contains("larger than 65536 bytes"));

        // ustar says more than a .mod may hold, PAX says 3: the PAX size is what is read (the
        // rest reads as headers, and fails their checksum), and never more than 3 bytes land.
        let bomb = tarball(&[Raw {
            name: "m.example/@v/v1.0.0.mod",
            ustar_size: 1 << 40,
            pax_size: Some(3),
            data: &data,
        }]);
        let (got, written) = unpack_with(&bomb, 1 << 30);
        assert!(written <= 3, "{written}");
        assert!(got.is_err());

        // A GNU base-256 size beyond the zip limit, no PAX: refused before writing.
        let bomb = tarball(&[Raw {
            name: "m.example/@v/v1.0.0.zip",
            ustar_size: 1 << 40,
            pax_size: None,
            data: &data,
        }]);
        let (got, written) = unpack_with(&bomb, 1 << 30);
        assert_eq!(written, 0);
        assert!(got.unwrap_err().contains("larger than 524288000 bytes"));
    }

    #[test]
    fn the_total_is_held_to_the_bytes_written() {
        let data = vec![b'x'; 600];
        let entries: Vec<Raw<'_>> = ["m/@v/a.mod", "m/@v/b.mod", "m/@v/c.mod"]
            .iter()
            .map(|n| Raw {
                name: n,
                ustar_size: 600,
                pax_size: None,
                data: &data,
            })
            .collect();
        let (got, written) = unpack_with(&tarball(&entries), 1000);
        assert!(written <= 1000, "{written}");
        assert!(got.unwrap_err().contains("more than 1000 bytes"));
        // Passed-over files count against the total too (as tar stream read).
        let (got, _) = unpack_with(&file("m.example/@v/list", &[b'x'; 5000]), 1000);
        assert!(got.unwrap_err().contains("more than 1000 bytes"));
    }

    #[test]
    fn hostile_headers_and_paths_are_refused() {
        // A PAX record of 2 MiB: the tar reader would hold it in memory.
        let mut b = tar::Builder::new(Vec::new());
        let huge = vec![b'x'; 2 << 20];
        b.append_pax_extensions([("comment", &huge[..])]).unwrap();
        let mut tar = b.into_inner().unwrap();
        tar.extend(file("m.example/@v/v1.mod", b"x"));
        let (got, written) = unpack_with(&tar, 1 << 30);
        assert_eq!(written, 0);
        assert!(got.unwrap_err().contains("tar headers of more than"));

        let (got, written) = unpack_with(&file("../escape.mod", b"x"), 1 << 30);
        assert_eq!(written, 0);
        assert!(got.unwrap_err().contains("outside the tree"));

        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "m.example/@v/v1.mod", "/etc/passwd")
            .unwrap();
        let (got, _) = unpack_with(&b.into_inner().unwrap(), 1 << 30);
        assert!(got.unwrap_err().contains("only files and directories"));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        let entry = tarball(&[Raw {
            name: "m.example/@v/v1.0.0.zip",
            ustar_size: 0,
            pax_size: Some(64 << 20),
            data: &[],
        }]);
        // The header blocks, without the end-of-archive blocks, then 64 MiB of zeros.
        gz.write_all(&entry[..entry.len() - 1024]).unwrap();
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let gz = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let got = unpack_entries(flate2::read::GzDecoder::new(&gz[..]), dir.path(), 1 << 20);
        assert!(format!("{:#}", got.unwrap_err()).contains("more than 1048576 bytes"));
        assert_eq!(du(dir.path()), 0, "a refused file is removed");
    }
}
