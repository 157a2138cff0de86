//! `agora token create|revoke|list`: client tokens in the configured store. The secret is printed
//! once, at creation; only its hash is stored.

use clap::Subcommand;

use crate::auth::{Scope, generate_secret, hash_secret};
use crate::config::Settings;
use crate::store::{NewToken, Stores};

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
            let name = name.trim();
            if name.is_empty() || name.chars().any(|c| c.is_control()) {
                anyhow::bail!("token name must be non-empty printable text");
            }
            let scopes = Scope::join(&Scope::parse_list(&scopes).map_err(anyhow::Error::msg)?);
            let patterns =
                crate::auth::normalize_patterns(&patterns).map_err(anyhow::Error::msg)?;
            let secret = generate_secret().map_err(anyhow::Error::msg)?;
            let created_by = created_by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "cli".into());
            let new = NewToken {
                name,
                secret_sha256: &hash_secret(&secret),
                scopes: &scopes,
                patterns: &patterns,
                created_by: &created_by,
            };
            match store.token_create(&new).await? {
                true => {
                    let limit = if patterns.is_empty() {
                        String::new()
                    } else {
                        format!(", publishing only {patterns}")
                    };
                    eprintln!(
                        "token {name:?} created with scopes {scopes}{limit}; its secret (shown only now):"
                    );
                    println!("{secret}");
                    Ok(())
                }
                false => Err(anyhow::anyhow!(
                    "an active token named {name:?} exists already"
                )),
            }
        }
        TokenCommand::Revoke { name } => {
            if store.token_revoke(&name).await? {
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
