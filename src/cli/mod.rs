//! The command line: `serve`, `migrate`, `token` for client tokens, `mod` for module zips, `blobs`
//! for moving zips between blob stores, and the administration commands.

mod admin;
mod blobs;
mod modzip;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::Settings;
use crate::http::startup::Application;
use crate::store::Stores;

#[derive(Debug, Parser)]
#[command(name = "agora", version, about = "A Go module proxy")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GOPROXY protocol.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
        /// Do not apply pending database migrations at start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Client tokens: create, revoke, list.
    Token {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Module zips: build, verify and hash them as the go command does.
    #[command(subcommand)]
    Mod(modzip::ModCommand),
    /// Zip a module tree and upload it to an agora server (PUT; see docs/publish.md).
    Publish(admin::PublishArgs),
    /// Expire fetched versions unused for N days (a dry run unless --apply).
    Retention {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        args: admin::RetentionArgs,
    },
    /// Write stored versions to a GOPROXY directory tree or tarball.
    Export {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        args: admin::ExportArgs,
    },
    /// Zips in their blob store: migrate to another, garbage-collect, verify.
    Blobs {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: blobs::BlobsCommand,
    },
    /// Load a GOPROXY tree or tarball into the store, verifying every zip.
    Import {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        args: admin::ImportArgs,
    },
}

#[derive(Debug, Args)]
struct ConfigArg {
    /// A TOML settings file; `AGORA_*` environment variables override it.
    #[arg(long, env = "AGORA_CONFIG")]
    config: Option<PathBuf>,
}

/// Telemetry starts before the async runtime (its exporter owns a blocking client) and is
/// flushed after the runtime has stopped.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    crate::install_crypto_provider();
    let result = match cli.command {
        Command::Serve { config, no_migrate } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|settings| {
                let telemetry = crate::telemetry::init(&settings.log, &settings.otel)?;
                let result = actix_web::rt::System::new().block_on(serve(settings, !no_migrate));
                telemetry.shutdown();
                result
            }),
        Command::Migrate { config } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|settings| {
                let telemetry = crate::telemetry::init(&settings.log, &settings.otel)?;
                let result = actix_web::rt::System::new().block_on(migrate(settings));
                telemetry.shutdown();
                result
            }),
        Command::Token { config, command } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|settings| {
                actix_web::rt::System::new().block_on(token::run(settings, command))
            }),
        Command::Mod(cmd) => modzip::run(cmd),
        Command::Publish(args) => admin::publish(args),
        Command::Retention { config, args } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|s| admin::retention(s, args)),
        Command::Export { config, args } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|s| admin::export(s, args)),
        Command::Blobs { config, command } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|s| blobs::run(s, command)),
        Command::Import { config, args } => Settings::load(config.config.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|s| admin::import(s, args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agora: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined with `: `, like anyhow's `{:#}`, but leaving out a cause
/// whose text the message already ends with (errors that both print and expose their source).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

async fn serve(settings: Settings, migrate: bool) -> anyhow::Result<()> {
    let migrate = migrate && settings.migrate_on_start;
    let app = Application::build(&settings, migrate).await?;
    if !settings.auth.enabled && !settings.private.trim().is_empty() && !loopback(&settings.listen)
    {
        tracing::warn!(
            listen = %settings.listen,
            "private modules are configured and anyone who can reach this address may read them: set auth.enabled or keep the port internal (docs/security.md)"
        );
    }
    tracing::info!(
        listen = %settings.listen,
        port = app.port(),
        upstream = %settings.upstream,
        store = ?settings.database_kind()?,
        "agora serving"
    );
    app.run_until_stopped().await?;
    tracing::info!("agora stopped");
    Ok(())
}

/// Whether `listen` (`host:port`) is a loopback address only.
fn loopback(listen: &str) -> bool {
    let host = listen.rsplit_once(':').map_or(listen, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let stores = Stores::connect(&crate::app::store_options(&settings)).await?;
    stores.database.migrate().await?;
    stores.database.close().await;
    println!("migrations applied");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{error_chain, loopback};

    #[test]
    fn loopback_listeners() {
        for (listen, want) in [
            ("127.0.0.1:3000", true),
            ("[::1]:3000", true),
            ("localhost:3000", true),
            ("0.0.0.0:3000", false),
            ("[::]:3000", false),
            ("10.0.0.5:3000", false),
        ] {
            assert_eq!(loopback(listen), want, "{listen}");
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{name}: {source}")]
    struct Both {
        name: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn chain_skips_a_cause_already_printed() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = anyhow::Error::new(Both {
            name: "f",
            source: io,
        })
        .context("zipping");
        assert_eq!(error_chain(&e), "zipping: f: gone");
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_chain(&plain), "outer: inner");
    }
}
