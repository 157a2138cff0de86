//! Creating and revoking client tokens: one path for `agora token` and the admin pages, each
//! action in the audit log.

use crate::auth::{Scope, generate_secret, hash_secret, normalize_patterns};
use crate::error::Error;
use crate::store::{AdminStore, AuditEntry, NewToken, TokenStore};

/// A token just made: its secret exists only here.
pub struct Created {
    pub name: String,
    pub scopes: String,
    pub patterns: String,
    pub secret: String,
}

/// Makes a token named `name` with `scopes` (comma-separated) and publish `patterns`.
pub async fn create(
    tokens: &dyn TokenStore,
    admin: &dyn AdminStore,
    name: &str,
    scopes: &str,
    patterns: &str,
    actor: &str,
) -> Result<Created, Error> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "a token name is 1 to 100 printable characters",
        ));
    }
    let scopes = Scope::join(&Scope::parse_list(scopes).map_err(Error::invalid)?);
    let patterns = normalize_patterns(patterns).map_err(Error::invalid)?;
    let secret = generate_secret().map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let new = NewToken {
        name,
        secret_sha256: &hash_secret(&secret),
        scopes: &scopes,
        patterns: &patterns,
        created_by: actor,
    };
    if !tokens.token_create(&new).await? {
        return Err(Error::invalid(format!(
            "an active token named {name:?} exists already"
        )));
    }
    audit(
        admin,
        actor,
        "token-create",
        name,
        &format!("scopes {scopes}"),
    )
    .await?;
    Ok(Created {
        name: name.to_string(),
        scopes,
        patterns,
        secret,
    })
}

/// Revokes the active token named `name`; false if there is none.
pub async fn revoke(
    tokens: &dyn TokenStore,
    admin: &dyn AdminStore,
    name: &str,
    actor: &str,
) -> Result<bool, Error> {
    let revoked = tokens.token_revoke(name).await?;
    if revoked {
        audit(admin, actor, "token-revoke", name, "").await?;
    }
    Ok(revoked)
}

async fn audit(
    admin: &dyn AdminStore,
    actor: &str,
    action: &str,
    name: &str,
    detail: &str,
) -> Result<(), Error> {
    admin
        .record_audit(&AuditEntry {
            id: 0,
            at: super::unix_now(),
            actor: actor.to_string(),
            action: action.to_string(),
            module: format!("token:{name}"),
            version: String::new(),
            detail: detail.to_string(),
        })
        .await?;
    Ok(())
}
