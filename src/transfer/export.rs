//! `agora export`: stored versions out to a GOPROXY tree or tarball.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use futures::TryStreamExt;
use tokio::io::AsyncWriteExt;

use crate::store::{AdminStore, CatalogQuery, Stores};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// Which versions to export.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    /// GOPRIVATE-style globs over module paths.
    Pattern(String),
    /// Every module version a go.sum names (given the go.sum or the go.mod beside it).
    GoSum(PathBuf),
}

#[derive(Debug, Default)]
pub struct ExportReport {
    pub exported: usize,
    /// Selected but not stored here (or hidden).
    pub missing: Vec<String>,
}

/// The (module, version) pairs the selection names, in a stable order.
async fn select(
    store: &dyn AdminStore,
    selection: &Selection,
) -> anyhow::Result<(Vec<(String, String)>, Vec<String>)> {
    let mut stored = Vec::new();
    let mut after_id = 0;
    loop {
        let rows = store
            .catalog(&CatalogQuery {
                after_id,
                limit: crate::admin::MAX_PAGE_SIZE,
                module: None,
                include_hidden: false,
            })
            .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.id;
        stored.extend(rows.into_iter().map(|r| (r.module, r.version)));
    }
    match selection {
        Selection::All => Ok((stored, Vec::new())),
        Selection::Pattern(globs) => Ok((
            stored
                .into_iter()
                .filter(|(m, _)| module::match_prefix_patterns(globs, m))
                .collect(),
            Vec::new(),
        )),
        Selection::GoSum(path) => {
            let wanted = read_go_sum(path)?;
            let have: BTreeSet<&(String, String)> = stored.iter().collect();
            let mut picked = Vec::new();
            let mut missing = Vec::new();
            for pair in wanted {
                if have.contains(&pair) {
                    picked.push(pair);
                } else {
                    missing.push(format!("{}@{}", pair.0, pair.1));
                }
            }
            Ok((picked, missing))
        }
    }
}

/// Module versions of a go.sum: both `h1:` lines and `/go.mod` lines (the go command needs the
/// go.mod of every version in the build graph).
pub fn read_go_sum(path: &Path) -> anyhow::Result<BTreeSet<(String, String)>> {
    let sum = if path.file_name().is_some_and(|n| n == "go.mod") {
        path.with_file_name("go.sum")
    } else {
        path.to_path_buf()
    };
    let text =
        std::fs::read_to_string(&sum).with_context(|| format!("reading {}", sum.display()))?;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(m), Some(v)) = (fields.next(), fields.next()) else {
            continue;
        };
        let v = v.strip_suffix("/go.mod").unwrap_or(v);
        out.insert((m.to_string(), v.to_string()));
    }
    Ok(out)
}

/// Writes the selected versions to `out`: a directory, or a `.tar` / `.tar.gz` / `.tgz` file.
pub async fn export(
    stores: &Stores,
    selection: &Selection,
    out: &Path,
) -> anyhow::Result<ExportReport> {
    let (pairs, missing) = select(stores.admin.as_ref(), selection).await?;
    let tarball = super::is_tarball(out);
    let staging = if tarball {
        Some(tempfile::tempdir().context("temporary directory")?)
    } else {
        None
    };
    let root = staging.as_ref().map(|d| d.path()).unwrap_or(out);
    tokio::fs::create_dir_all(root)
        .await
        .with_context(|| format!("creating {}", root.display()))?;

    let bar = super::progress(pairs.len() as u64, "export");
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (m, v) in &pairs {
        bar.set_message(format!("{m}@{v}"));
        write_version(stores, root, m, v)
            .await
            .with_context(|| format!("exporting {m}@{v}"))?;
        lists.entry(m.clone()).or_default().push(v.clone());
        bar.inc(1);
    }
    bar.finish_and_clear();
    for (m, mut versions) in lists {
        versions.retain(|v| !gomod::pseudo::is_pseudo_version(v));
        versions.sort_by(|a, b| gomod::semver::compare(a, b));
        let mut body = versions.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        let dir = version_dir(root, &m)?;
        tokio::fs::write(dir.join("list"), body).await?;
    }
    if tarball {
        let (root, out) = (root.to_path_buf(), out.to_path_buf());
        tokio::task::spawn_blocking(move || write_tar(&root, &out)).await??;
    }
    drop(staging);
    Ok(ExportReport {
        exported: pairs.len(),
        missing,
    })
}

fn version_dir(root: &Path, module_path: &str) -> anyhow::Result<PathBuf> {
    let escaped = ModulePath::parse(module_path)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .escaped();
    Ok(root.join(escaped).join("@v"))
}

async fn write_version(stores: &Stores, root: &Path, m: &str, v: &str) -> anyhow::Result<()> {
    let module = ModulePath::parse(m).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = Version::parse(v).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(stored) = stores.versions.version(&module, &version).await? else {
        anyhow::bail!("no longer stored");
    };
    let dir = version_dir(root, m)?;
    tokio::fs::create_dir_all(&dir).await?;
    let base = module::escape_version(v).map_err(|e| anyhow::anyhow!("{e}"))?;
    tokio::fs::write(dir.join(format!("{base}.info")), &stored.info).await?;
    tokio::fs::write(dir.join(format!("{base}.mod")), &stored.go_mod).await?;
    tokio::fs::write(
        dir.join(format!("{base}.ziphash")),
        format!("{}\n", stored.zip_h1),
    )
    .await?;
    let mut file = tokio::fs::File::create(dir.join(format!("{base}.zip"))).await?;
    let mut chunks = stores.blobs.open(&stored.zip).await?.into_stream();
    while let Some(chunk) = chunks.try_next().await? {
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(())
}

fn write_tar(root: &Path, out: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    if super::is_gzip(out) {
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        append_tree(gz, root)?.finish()?.sync_all()?;
    } else {
        append_tree(file, root)?.sync_all()?;
    }
    Ok(())
}

fn append_tree<W: std::io::Write>(writer: W, root: &Path) -> anyhow::Result<W> {
    let mut tar = tar::Builder::new(writer);
    tar.follow_symlinks(false);
    tar.append_dir_all(".", root)?;
    Ok(tar.into_inner()?)
}
