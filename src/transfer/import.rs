//! `agora import`: loads a GOPROXY tree (or a tar of one) into the store. Every zip is checked
//! by the module library as a fetched one is, and must match the tree's `.ziphash` when there is
//! one; a version already stored must be the same zip, and is left as it is.
//!
//! Only regular files are read, each within the go command's own limits: a symbolic link in the
//! tree (or a link entry in the tarball) is refused, never followed, so an import cannot be made
//! to read, and echo in its report, a file from elsewhere on the machine.

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

/// Unpacks a tarball: directories and regular files only, each within the zip limit, and in
/// all no more than [`unpacked_limit`] allows (a gzip bomb stops there). The tar crate refuses
/// entries that would land outside `dst`.
fn unpack(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::open(src).with_context(|| format!("{}", src.display()))?;
    let limit = unpacked_limit(file.metadata()?.len());
    if super::is_gzip(src) {
        unpack_entries(
            tar::Archive::new(flate2::read::GzDecoder::new(file)),
            dst,
            limit,
        )
    } else {
        unpack_entries(tar::Archive::new(file), dst, limit)
    }
}

/// Zips hardly compress, so a tarball of a GOPROXY tree unpacks to about its own size: allow
/// sixteen times that, and at least 1 GiB.
fn unpacked_limit(archive_bytes: u64) -> u64 {
    archive_bytes.saturating_mul(16).max(1 << 30)
}

fn unpack_entries<R: std::io::Read>(
    mut archive: tar::Archive<R>,
    dst: &Path,
    limit: u64,
) -> anyhow::Result<()> {
    archive.set_preserve_permissions(false);
    let mut total = 0u64;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.display().to_string();
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            anyhow::bail!("{name}: only files and directories may be imported ({kind:?})");
        }
        let size = entry.header().size()?;
        if size > gomod::zip::MAX_ZIP_FILE {
            anyhow::bail!("{name}: larger than {} bytes", gomod::zip::MAX_ZIP_FILE);
        }
        total += size;
        if total > limit {
            anyhow::bail!("the tarball unpacks to more than {limit} bytes");
        }
        entry.unpack_in(dst)?;
    }
    Ok(())
}
