//! What git may reach: every network command runs confined to the protocols agora allows, with
//! no redirects, and (through a [`RemoteGuard`]) pinned to the addresses the guard checked.

use async_trait::async_trait;

use super::cache::RepoError;

/// Decides whether git may reach a repository over the network, and pins what it checked.
#[async_trait]
pub trait RemoteGuard: Send + Sync {
    /// The `name=value` settings (for `git -c`) that confine git to what was checked for `url`,
    /// the URL git really contacts (its `insteadOf` rules applied), or why it may not go there.
    async fn confine(&self, url: &str, insecure: bool) -> Result<Vec<String>, RepoError>;
}

/// What every git command that touches the network runs with, whatever its configuration says:
/// only https and ssh (plain http too for modules `direct.insecure` names; other protocols only
/// where the operator's git configuration allows them by name, as `protocol.file.allow`), and
/// no redirects, which could lead git (and its credentials) to an address nobody checked.
pub fn confinement(insecure: bool) -> Vec<String> {
    let mut config = vec![
        "protocol.allow=never".to_string(),
        "protocol.https.allow=always".to_string(),
        "protocol.ssh.allow=always".to_string(),
        "http.followRedirects=false".to_string(),
    ];
    config.push(format!(
        "protocol.http.allow={}",
        if insecure { "always" } else { "never" }
    ));
    config
}

/// `git -c a -c b … <args>`.
pub fn with_config<'a>(config: &'a [String], args: &[&'a str]) -> Vec<&'a str> {
    let mut all = Vec::with_capacity(config.len() * 2 + args.len());
    for c in config {
        all.push("-c");
        all.push(c.as_str());
    }
    all.extend_from_slice(args);
    all
}
