//! `agora blobs migrate|gc|verify`: moving zips between blob stores, and keeping them tidy.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::store::object::{BlobLocation, ObjectBlobs};
use crate::store::{BlobStore, StoreOptions, Stores};
use crate::transfer::blobs;

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Copy every zip to another blob store (`database`, `s3://bucket/prefix`, `file:///dir`),
    /// verifying each; run again after an interruption to copy the rest. Then set `blobs.url`.
    Migrate {
        /// Where to copy to.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        from: FromArg,
    },
    /// Remove blobs no version names, older than the grace period (a dry run unless --delete).
    /// In a store other than the configured one, blobs the configured store holds go too.
    Gc {
        #[command(flatten)]
        from: FromArg,
        /// Keep blobs younger than this many hours (a fetch may be between its blob and its row).
        #[arg(long, default_value_t = 24)]
        grace_hours: u64,
        /// Delete them (otherwise only list them).
        #[arg(long)]
        delete: bool,
    },
    /// Re-hash every zip, and check that every version's zip is there.
    Verify {
        #[command(flatten)]
        from: FromArg,
    },
}

#[derive(Debug, Args)]
pub struct FromArg {
    /// The blob store to read (default: the configured `blobs.url`).
    #[arg(long)]
    from: Option<String>,
}

pub fn run(settings: Settings, command: BlobsCommand) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let configured = settings.blob_location()?;
        // The database's own stores, whatever `blobs.url` says: its blob tables are one of the
        // places zips may be copied to or from.
        let stores = Stores::connect(&StoreOptions {
            blobs: BlobLocation::Database,
            ..crate::app::store_options(&settings)
        })
        .await?;
        stores.database.migrate().await?;
        let open = |location: &BlobLocation| -> anyhow::Result<Arc<dyn BlobStore>> {
            Ok(match location {
                BlobLocation::Database => stores.blobs.clone(),
                other => Arc::new(ObjectBlobs::open(other, ObjectBlobs::aws_env())?),
            })
        };
        let parse = |url: &str| BlobLocation::parse(url).map_err(anyhow::Error::msg);
        let source_of = |from: &FromArg| match &from.from {
            Some(url) => parse(url),
            None => Ok(configured.clone()),
        };
        let named = stores.admin.blob_refs().await?;
        let result = match command {
            BlobsCommand::Migrate { to, from } => {
                let (source, dest) = (source_of(&from)?, parse(&to)?);
                if source == dest {
                    anyhow::bail!("--to names the blob store it would copy from ({source})");
                }
                let temp = settings.data_dir.join("tmp");
                std::fs::create_dir_all(&temp)?;
                let bar = crate::transfer::progress(0, "copying");
                let report =
                    blobs::migrate(open(&source)?, open(&dest)?, &named, &temp, &bar).await;
                bar.finish_and_clear();
                let report = report?;
                for f in &report.failed {
                    eprintln!("not copied: {f}");
                }
                for m in &report.missing {
                    eprintln!("missing at {dest}: {} ({} bytes)", m.sha256, m.size);
                }
                println!(
                    "copied {} blobs ({} bytes) from {source} to {dest}; {} were there already; {} failed; {} that versions name are missing there",
                    report.copied,
                    report.bytes,
                    report.present,
                    report.failed.len(),
                    report.missing.len()
                );
                if report.failed.is_empty() && report.missing.is_empty() {
                    println!("every version's zip is at {dest}: set blobs.url = \"{dest}\"");
                    Ok(())
                } else {
                    Err(anyhow::anyhow!(
                        "{dest} does not hold every zip yet; fix the failures and run again"
                    ))
                }
            }
            BlobsCommand::Gc {
                from,
                grace_hours,
                delete,
            } => {
                let source = source_of(&from)?;
                let serving = (source != configured)
                    .then(|| open(&configured))
                    .transpose()?;
                let report = blobs::gc(
                    open(&source)?.as_ref(),
                    serving.as_deref(),
                    &named,
                    Duration::from_secs(grace_hours.saturating_mul(3600)),
                    delete,
                )
                .await?;
                let verb = if delete { "deleted" } else { "would delete" };
                for (item, why) in &report.removable {
                    println!("{verb} {} ({} bytes): {why}", item.blob.sha256, item.blob.size);
                }
                if delete {
                    println!("deleted {} blobs from {source}; kept {}", report.deleted, report.kept);
                } else {
                    println!(
                        "dry run: {} blobs in {source} would be deleted, {} kept; run again with --delete",
                        report.removable.len(),
                        report.kept
                    );
                }
                Ok(())
            }
            BlobsCommand::Verify { from } => {
                let source = source_of(&from)?;
                let bar = crate::transfer::progress(0, "verifying");
                let report = blobs::verify(open(&source)?, &named, &bar).await;
                bar.finish_and_clear();
                let report = report?;
                for b in &report.bad {
                    eprintln!("bad: {b}");
                }
                for m in &report.missing {
                    eprintln!("missing: {} ({} bytes)", m.sha256, m.size);
                }
                println!(
                    "{source}: {} blobs ({} bytes) hash to their address; {} bad; {} that versions name are missing",
                    report.ok,
                    report.bytes,
                    report.bad.len(),
                    report.missing.len()
                );
                if report.bad.is_empty() && report.missing.is_empty() {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!("{source} failed verification"))
                }
            }
        };
        stores.database.close().await;
        result
    })
}
