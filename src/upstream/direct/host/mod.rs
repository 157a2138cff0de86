//! What each version control system does for direct mode, behind two narrow traits: a
//! [`Mirror`] keeps a local copy of a remote repository in step (the cache calls it), and a
//! [`Host`] reads that copy (the go command's `codehost.Repo`: commits, tags, ancestry, files,
//! archives) for the rules in `repo/`, which are the same for every system.

pub mod fossil;
pub mod git;
pub mod hg;
pub mod svn;

use std::path::Path;

use async_trait::async_trait;

use super::cache::{Repo, RepoError};
use super::git::GitError;
use super::refs::Refs;
use crate::upstream::UpstreamError;

/// Version control systems direct mode reads, by the go command's names for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Git,
    Hg,
    Svn,
    Fossil,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Git => "git",
            Kind::Hg => "hg",
            Kind::Svn => "svn",
            Kind::Fossil => "fossil",
        }
    }
}

/// A commit as the tool names and dates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Its full name: a hash (git, hg) or a revision number (svn).
    pub hash: String,
    /// Unix seconds.
    pub time: i64,
    /// The part of a second, where the tool keeps it (svn).
    pub nanos: u32,
}

/// Keeps local copies of remote repositories up to date.
#[async_trait]
pub trait Mirror: Send + Sync {
    fn kind(&self) -> Kind;
    /// Whether `dir` holds a copy a finished [`Mirror::create`] and first sync made.
    fn present(&self, dir: &Path) -> bool;
    /// The settings that confine the tool's network commands to what `guard` checked for
    /// `url`, or why it may not go there.
    async fn confine(
        &self,
        scratch: &Path,
        url: &str,
        insecure: bool,
        guard: &dyn super::confine::RemoteGuard,
    ) -> Result<Vec<String>, RepoError>;
    /// An empty local copy of `url` in `dir`.
    async fn create(&self, dir: &Path, url: &str) -> Result<(), RepoError>;
    /// Brings the copy in `dir` up to date; whether anything was fetched. `fresh`: the copy
    /// was just created.
    async fn sync(
        &self,
        dir: &Path,
        url: &str,
        net: &[String],
        fresh: bool,
    ) -> Result<bool, RepoError>;
    /// The copy's tags, branches and head, each as the commit it names, with commit times.
    async fn refs(&self, dir: &Path) -> Result<Refs, RepoError>;
}

/// Reads a local copy: what the rules of `repo/` ask of a version control system.
#[async_trait]
pub trait Host: Send + Sync {
    fn kind(&self) -> Kind;
    /// The revision `Latest` stats: git's `HEAD`, hg's `tip`.
    fn latest_rev(&self) -> &'static str;
    /// Whether `rev` may name a commit by a prefix of its hash.
    fn is_hash_prefix(&self, rev: &str) -> bool;
    /// How `.info`'s `Origin.Ref` names a ref (`refs/tags/v1.0.0` for git, `v1.0.0` for hg).
    fn origin_ref(&self, full: &str) -> String;
    /// `Origin.Ref` for a query by hash (or revision number): git names none; the others name
    /// the query unless it is (12 digits or more of) the hash itself.
    fn query_ref(&self, rev: &str, hash: &str) -> Option<String> {
        (!(hash.starts_with(rev) && rev.len() >= 12)).then(|| rev.to_string())
    }
    /// The short name a pseudo-version ends with: 12 hex digits of the hash (svn: the revision
    /// number in 12 digits).
    fn short(&self, hash: &str) -> String {
        hash[..12.min(hash.len())].to_string()
    }
    /// Whether `.info`'s `Origin` carries the hash (svn's does not).
    fn origin_hash(&self) -> bool {
        true
    }
    /// The commit `rev` (a hash, a hash prefix, or the latest revision where the tool has no
    /// refs) names.
    async fn commit(&self, dir: &Path, rev: &str) -> Result<Option<Commit>, GitError>;
    /// Makes the local copy hold the whole history, for the questions about ancestry (tags
    /// below a commit, a commit that no ref names). Copies fetched shallow (git's) are deepened
    /// here, once; the others always hold it.
    async fn ensure_history(&self, _repo: &Repo) -> Result<(), GitError> {
        Ok(())
    }
    /// Tags on `hash` and its ancestors.
    async fn merged_tags(&self, dir: &Path, hash: &str) -> Result<Vec<String>, GitError>;
    /// Whether the commit `tag` names is `hash` or one of its ancestors.
    async fn descends_from(&self, dir: &Path, hash: &str, tag: &str) -> Result<bool, GitError>;
    /// Each `(rev, path)`'s content, `None` where there is no such file (or it is too large).
    async fn read_files(
        &self,
        dir: &Path,
        specs: &[(String, String)],
    ) -> Result<Vec<Option<Vec<u8>>>, GitError>;
    /// A zip of the commit's files (of `subdir` only, if not empty), each entry named
    /// `prefix/<path>`, into `dest`; at most `limit` bytes.
    async fn archive(
        &self,
        dir: &Path,
        hash: &str,
        subdir: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<(), ArchiveError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Run(#[from] GitError),
    /// The tool ran and refused (no such commit, no files in the directory).
    #[error("{0}")]
    Refused(String),
}

/// The schemes a tool may use for `url`: `secure` ones always, `plain` ones only for modules
/// `direct.insecure` names; never a local path or another scheme. The hosts are the guard's to
/// check after this.
pub fn check_scheme(
    tool: &str,
    url: &str,
    insecure: bool,
    secure: &[&str],
    plain: &[&str],
) -> Result<(), RepoError> {
    let scheme = url
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    if secure.contains(&scheme.as_str()) || (insecure && plain.contains(&scheme.as_str())) {
        return Ok(());
    }
    Err(RepoError::Refused(format!(
        "{}: {tool} may use {} only ({} for modules direct.insecure names)",
        crate::redact::redact(url),
        secure.join(" and "),
        plain.join(" and ")
    )))
}

/// Reads each `(rev, path)` with one run of the tool (`args` makes its arguments), as the go
/// command does for hg, svn and fossil: a failed or too large read is a missing file.
pub async fn read_each(
    runner: &super::git::Git,
    dir: &Path,
    specs: &[(String, String)],
    args: impl Fn(&str, &str) -> Vec<String>,
) -> Result<Vec<Option<Vec<u8>>>, GitError> {
    /// Largest go.mod or LICENSE read.
    const MAX_FILE: usize = 16 << 20;
    let mut out = Vec::with_capacity(specs.len());
    for (rev, path) in specs {
        let owned = args(rev, path);
        let argv: Vec<&str> = owned.iter().map(String::as_str).collect();
        let got = runner
            .output(dir, &argv, None, super::git::Sink::Memory(MAX_FILE))
            .await;
        out.push(match got {
            Ok(o) if o.status.success() => Some(o.stdout),
            Ok(_) | Err(GitError::TooLarge { .. }) => None,
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

/// Maps a failed archive to the upstream error a request sees.
pub fn archive_err(e: ArchiveError, url: &str, max_bytes: u64, what: &str) -> UpstreamError {
    match e {
        ArchiveError::Run(GitError::Timeout { .. }) => {
            UpstreamError::Timeout(format!("{}: {e}", crate::redact::redact(url)))
        }
        ArchiveError::Run(GitError::TooLarge { .. }) => UpstreamError::TooLarge(max_bytes),
        ArchiveError::Run(other) => UpstreamError::Io(other.to_string()),
        ArchiveError::Refused(m) => UpstreamError::NotFound(format!("{what}: {m}")),
    }
}
