//! `agora publish`, `agora retention`, `agora export`, `agora import`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::config::Settings;
use crate::store::Stores;
use crate::transfer::export::Selection;
use gomod::module::ModulePath;
use gomod::version::Version;

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Module path, e.g. example.com/private/lib.
    #[arg(long)]
    path: String,
    /// Canonical version, e.g. v1.2.0.
    #[arg(long)]
    version: String,
    /// The module's source tree (its root holds go.mod).
    dir: PathBuf,
    /// The agora server to publish to.
    #[arg(long, env = "AGORA_SERVER", default_value = "http://127.0.0.1:3000")]
    server: String,
    /// Sent as `Authorization: Bearer …`.
    #[arg(long, env = "AGORA_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Expire fetched versions not used for this many days.
    #[arg(long)]
    days: u64,
    /// Delete them; without it, only print what would be deleted.
    #[arg(long)]
    apply: bool,
}

#[derive(Debug, Args)]
#[group(skip)]
pub struct ExportArgs {
    /// A directory, or a .tar / .tar.gz / .tgz file.
    #[arg(long)]
    out: PathBuf,
    /// Every module version of this go.mod's go.sum (or of this go.sum).
    #[arg(long, group = "selection")]
    gomod: Option<PathBuf>,
    /// Module path globs, GOPRIVATE-style (`example.com/*,corp.example/team`).
    #[arg(long, group = "selection")]
    pattern: Option<String>,
    /// Every stored, visible version.
    #[arg(long, group = "selection")]
    all: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A GOPROXY directory tree, or a .tar / .tar.gz / .tgz of one.
    source: PathBuf,
}

fn who() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "cli".to_string())
}

async fn open_store(settings: &Settings) -> anyhow::Result<Stores> {
    let stores = Stores::connect(&crate::app::store_options(settings)).await?;
    stores.database.migrate().await?;
    Ok(stores)
}

fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(f)
}

pub fn publish(args: PublishArgs) -> anyhow::Result<()> {
    let module = ModulePath::parse(&args.path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = Version::parse(&args.version).map_err(|e| anyhow::anyhow!("{e}"))?;
    let meta = std::fs::metadata(&args.dir)
        .with_context(|| format!("module tree {}", args.dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("module tree {}: not a directory", args.dir.display());
    }
    let temp = tempfile::Builder::new()
        .suffix(".zip")
        .tempfile()
        .context("temporary zip")?;
    let writer = std::io::BufWriter::new(temp.reopen().context("temporary zip")?);
    gomod::zip::create_from_dir(writer, module.as_str(), version.as_str(), &args.dir)
        .with_context(|| format!("{module}@{version}"))?;
    block_on(async {
        let published = crate::publish::upload(
            &args.server,
            args.token.as_deref(),
            &module,
            &version,
            temp.path(),
        )
        .await?;
        println!(
            "published {}@{}\n{} {} {}\n{} {}/go.mod {}",
            published.module,
            published.version,
            published.module,
            published.version,
            published.h1,
            published.module,
            published.version,
            published.go_mod_h1
        );
        Ok(())
    })
}

pub fn retention(settings: Settings, args: RetentionArgs) -> anyhow::Result<()> {
    block_on(async move {
        let store = open_store(&settings).await?;
        let now = crate::admin::unix_now();
        let plan = crate::admin::retention::plan(store.admin.as_ref(), args.days, now).await?;
        let verb = if args.apply { "expire" } else { "would expire" };
        for row in &plan.expire {
            let used = row.last_used_at.map_or("never used".to_string(), |t| {
                format!("last used {} days ago", (now - t) / 86_400)
            });
            println!(
                "{verb} {}@{} ({}, {used})",
                row.module, row.version, row.source
            );
        }
        if args.apply {
            let n = crate::admin::retention::apply(&store, &plan, args.days, &who(), now).await?;
            println!("expired {n} versions; kept {}", plan.kept);
        } else {
            println!(
                "dry run: {} versions would expire, {} kept; run again with --apply",
                plan.expire.len(),
                plan.kept
            );
        }
        store.database.close().await;
        Ok(())
    })
}

pub fn export(settings: Settings, args: ExportArgs) -> anyhow::Result<()> {
    let selection = if args.all {
        Selection::All
    } else if let Some(p) = args.pattern {
        Selection::Pattern(p)
    } else if let Some(g) = args.gomod {
        Selection::GoSum(g)
    } else {
        anyhow::bail!("choose one of --gomod, --pattern, --all");
    };
    block_on(async move {
        let store = open_store(&settings).await?;
        let report = crate::transfer::export::export(&store, &selection, &args.out).await?;
        for m in &report.missing {
            eprintln!("not stored here: {m}");
        }
        println!(
            "exported {} versions to {}",
            report.exported,
            args.out.display()
        );
        store.database.close().await;
        Ok(())
    })
}

pub fn import(settings: Settings, args: ImportArgs) -> anyhow::Result<()> {
    block_on(async move {
        let store = open_store(&settings).await?;
        let report = crate::transfer::import::import(
            &crate::transfer::import::intake(&store),
            store.admin.as_ref(),
            Path::new(&args.source),
            &who(),
        )
        .await?;
        for f in &report.failed {
            eprintln!("refused {f}");
        }
        println!(
            "imported {} versions, {} already stored, {} refused",
            report.imported,
            report.already_stored,
            report.failed.len()
        );
        store.database.close().await;
        if !report.failed.is_empty() {
            anyhow::bail!("{} versions were refused", report.failed.len());
        }
        Ok(())
    })
}
