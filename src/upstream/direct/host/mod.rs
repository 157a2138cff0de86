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

use super::cache::RepoError;
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
