//! `agora token create|revoke|list`: client tokens in the configured store. The secret is printed
//! once, at creation; only its hash is stored.

use clap::Subcommand;

use crate::config::Settings;
use crate::store::Stores;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only this once).
    Create {
        /// A unique name among active tokens (a person, a CI job).
        #[arg(long)]
        name: String,
        /// Comma-separated: read, publish, admin.
        #[arg(long, default_value = "read")]
        scopes: String,
        /// Who created it (default: $USER).
        #[arg(long)]
        created_by: Option<String>,
        /// GOPRIVATE-style globs: the only modules this token may publish (within
        /// admin.publish_patterns); empty: whatever admin.publish_patterns allows.
        #[arg(long, default_value = "")]
        patterns: String,
    },
    /// Revoke the active token with this name (or id).
    Revoke { name: String },
    /// List tokens (never their secrets).
    List,
}

pub async fn run(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    let stores = Stores::connect(&crate::app::store_options(&settings)).await?;
    let store = &stores.tokens;
    if settings.migrate_on_start {
        stores.database.migrate().await?;
    }
    let result = match command {
        TokenCommand::Create {
            name,
            scopes,
            created_by,
            patterns,
        } => {
            let created_by = created_by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "cli".into());
            let made = crate::admin::tokens::create(
                store.as_ref(),
                stores.admin.as_ref(),
                &name,
                &scopes,
                &patterns,
                &created_by,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let limit = if made.patterns.is_empty() {
                String::new()
            } else {
                format!(", publishing only {}", made.patterns)
            };
            eprintln!(
                "token {:?} created with scopes {}{limit}; its secret (shown only now):",
                made.name, made.scopes
            );
            println!("{}", made.secret);
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            if crate::admin::tokens::revoke(store.as_ref(), stores.admin.as_ref(), &name, &actor)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!("revoked {name}");
                Ok(())
            } else {
                Err(anyhow::anyhow!("no active token named {name:?}"))
            }
        }
        TokenCommand::List => {
            println!("ID\tNAME\tSCOPES\tPATTERNS\tCREATED_BY\tCREATED_AT\tREVOKED_AT");
            for t in store.tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.scopes,
                    if t.patterns.is_empty() {
                        "*"
                    } else {
                        &t.patterns
                    },
                    t.created_by,
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
    };
    stores.database.close().await;
    result
}
