//! One module in one cached repository: the go command's `codeRepo` (`Versions`, `Stat`,
//! `convert`, `validatePseudoVersion`, `findDir`, `GoMod`, `Latest`), the same for every version
//! control system, on top of its [`Host`].

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

mod convert;
mod files;

use super::cache::Repo;
use super::git::GitError;
use super::host::{Commit, Host};
use crate::upstream::UpstreamError;
use gomod::coderepo::{self as versions, Found, Layout};
use gomod::module::canonical_version;
use gomod::{pseudo, semver};

/// A commit as `Stat` sees it.
#[derive(Debug, Clone)]
pub struct RevInfo {
    pub hash: String,
    /// The name a pseudo-version ends with.
    pub short: String,
    pub time: i64,
    /// The part of a second (svn keeps microseconds; `.info` shows them).
    pub nanos: u32,
    /// Tags naming this commit, sorted.
    pub tags: Vec<String>,
    /// The tag the query named, if it was one.
    pub tag: Option<String>,
    /// What the answer depended on, as `.info`'s `Origin.Ref` names it (git:
    /// `refs/tags/v1.0.0`, `refs/heads/main`, `HEAD`; hg: `v1.0.0`, `default`, `tip`).
    pub ref_name: Option<String>,
}

/// A resolved version with what `.info` says about it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub version: String,
    pub rev: RevInfo,
}

#[derive(Serialize)]
struct InfoJson<'a> {
    #[serde(rename = "Version")]
    version: &'a str,
    #[serde(rename = "Time")]
    time: String,
    #[serde(rename = "Origin")]
    origin: Origin<'a>,
}

#[derive(Serialize)]
struct Origin<'a> {
    #[serde(rename = "VCS")]
    vcs: &'a str,
    #[serde(rename = "URL")]
    url: &'a str,
    #[serde(rename = "Subdir", skip_serializing_if = "str::is_empty")]
    subdir: &'a str,
    #[serde(rename = "Hash", skip_serializing_if = "str::is_empty")]
    hash: &'a str,
    #[serde(rename = "Ref", skip_serializing_if = "Option::is_none")]
    ref_name: Option<&'a str>,
}

/// Small files read at commit hashes (immutable), keyed by repository URL and `hash:path`.
pub type Blobs = moka::sync::Cache<String, Arc<Option<Vec<u8>>>>;

pub fn blob_cache(bytes: u64) -> Blobs {
    moka::sync::Cache::builder()
        .max_capacity(bytes)
        .weigher(|k: &String, v: &Arc<Option<Vec<u8>>>| {
            let n = k.len() + v.as_ref().as_ref().map_or(0, Vec::len) + 64;
            u32::try_from(n).unwrap_or(u32::MAX)
        })
        .build()
}

pub struct CodeRepo {
    pub host: Arc<dyn Host>,
    pub repo: Repo,
    pub layout: Layout,
    pub blobs: Blobs,
}

/// Whether a revision is a full commit hash (so what it holds never changes).
fn immutable(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn not_found(msg: impl Into<String>) -> UpstreamError {
    UpstreamError::NotFound(msg.into())
}

impl CodeRepo {
    fn dir(&self) -> &Path {
        &self.repo.dir
    }

    fn git_err(&self, e: GitError) -> UpstreamError {
        match e {
            GitError::Timeout { .. } => {
                UpstreamError::Timeout(format!("{}: {e}", crate::redact::redact(&self.repo.url)))
            }
            other => UpstreamError::Transport {
                url: crate::redact::redact(&self.repo.url).into_owned(),
                reason: other.to_string(),
            },
        }
    }

    fn invalid(&self, version: &str, msg: impl std::fmt::Display) -> UpstreamError {
        not_found(format!(
            "{}@{version}: invalid version: {msg}",
            self.layout.module
        ))
    }

    /// `Versions("")`.
    pub async fn versions(&self) -> Result<Vec<String>, UpstreamError> {
        let prefix = self.layout.tag_prefix();
        let tags = self.repo.refs.tags(&prefix);
        let (list, incompatible) = versions::tag_versions(&self.layout, tags);
        if incompatible.is_empty() {
            return Ok(list);
        }
        let questions = versions::go_mod_questions(&list, &incompatible);
        let specs: Vec<(String, String)> = questions
            .iter()
            .map(|v| {
                let tag = format!("{prefix}{v}");
                let rev = self
                    .repo
                    .refs
                    .get(&format!("refs/tags/{tag}"))
                    .map_or(tag, str::to_string);
                (rev, "go.mod".to_string())
            })
            .collect();
        let answers = self.read_files(&specs).await?;
        let has: Vec<&String> = questions
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.is_some())
            .map(|(q, _)| q)
            .collect();
        Ok(versions::append_incompatible(list, &incompatible, |v| {
            has.iter().any(|h| h.as_str() == v)
        }))
    }

    /// The `retract`ions of the highest release (else pre-release) listed version.
    async fn retractions(&self) -> Option<gomod::modfile::ModFile> {
        let mut list = self.versions().await.ok()?;
        if let Some(i) = list.iter().position(|v| v.ends_with("+incompatible")) {
            list.truncate(i);
        }
        let highest = list
            .iter()
            .rev()
            .find(|v| semver::prerelease(v).is_empty())
            .or(list.last())?
            .clone();
        let data = Box::pin(self.go_mod(&highest)).await.ok()?;
        gomod::modfile::parse_lax(&data).ok()
    }

    /// The whole history in the local copy, for questions about ancestry.
    async fn ensure_history(&self) -> Result<(), UpstreamError> {
        self.host
            .ensure_history(&self.repo)
            .await
            .map_err(|e| self.git_err(e))
    }

    /// The commit a hash or hash prefix names.
    async fn commit(&self, rev: &str) -> Result<Option<Commit>, UpstreamError> {
        self.host
            .commit(self.dir(), rev)
            .await
            .map_err(|e| self.git_err(e))
    }

    /// The `stat` of a tag, a branch (an hg bookmark), the latest revision (git's `HEAD`, hg's
    /// `tip`) or a hash prefix. Nothing else is passed to the tool: a query is a name or a hash.
    pub async fn stat(&self, rev: &str) -> Result<RevInfo, UpstreamError> {
        let refs = &self.repo.refs;
        let unknown = || not_found(format!("{}: unknown revision {rev}", self.layout.module));
        let shown = |full: &str| Some(self.host.origin_ref(full));
        let named = |kind: &str| {
            let full = format!("refs/{kind}/{rev}");
            refs.get(&full).map(|h| (h.to_string(), shown(&full)))
        };
        // A commit found by asking the tool, with its time.
        let mut asked: Option<Commit> = None;
        let (hash, ref_name, tag) = if let Some((h, r)) = named("tags") {
            (h, r, Some(rev.to_string()))
        } else if let Some((h, r)) = named("heads").or_else(|| named("bookmarks")) {
            (h, r, None)
        } else if rev == self.host.latest_rev() {
            let h = match refs.get("HEAD") {
                Some(h) => h.to_string(),
                // A system without refs (svn) asks for its latest revision itself.
                None if refs.map.is_empty() => {
                    let c = self.commit(rev).await?.ok_or_else(unknown)?;
                    let h = c.hash.clone();
                    asked = Some(c);
                    h
                }
                None => return Err(unknown()),
            };
            (h, Some(rev.to_string()), None)
        } else if self.host.is_hash_prefix(rev) {
            let lower = rev.to_ascii_lowercase();
            let mut found: Option<&str> = None;
            for h in refs.map.values() {
                if h.starts_with(&lower) {
                    if found.is_some_and(|f| f != h) {
                        return Err(not_found(format!("ambiguous revision {rev}")));
                    }
                    found = Some(h);
                }
            }
            let hash = match found {
                Some(h) => h.to_string(),
                // Not a ref's commit: any commit of the history.
                None => {
                    self.ensure_history().await?;
                    let c = self.commit(&lower).await?.ok_or_else(unknown)?;
                    let h = c.hash.clone();
                    asked = Some(c);
                    h
                }
            };
            let ref_name = self.host.query_ref(&lower, &hash);
            (hash, ref_name, None)
        } else {
            return Err(unknown());
        };
        let commit = match (asked, refs.times.get(&hash)) {
            (Some(c), _) => c,
            (None, Some(t)) => Commit {
                hash: hash.clone(),
                time: *t,
                nanos: 0,
            },
            (None, None) => self.commit(&hash).await?.ok_or_else(unknown)?,
        };
        let hash = commit.hash;
        let tags = refs
            .tags_at(&hash)
            .into_iter()
            .map(str::to_string)
            .collect();
        Ok(RevInfo {
            short: self.host.short(&hash),
            hash,
            time: commit.time,
            nanos: commit.nanos,
            tags,
            tag,
            ref_name,
        })
    }

    /// `Stat(query)`: the canonical version or pseudo-version the query stands for.
    pub async fn stat_version(&self, query: &str) -> Result<Resolved, UpstreamError> {
        let rev = self.layout.rev_to_rev(query);
        let info = self.stat(&rev).await?;
        let version = self.convert(&info, query).await?;
        Ok(Resolved { version, rev: info })
    }

    /// `Latest`: what the default branch's head (hg: the newest changeset) is.
    pub async fn latest(&self) -> Result<Resolved, UpstreamError> {
        let info = self.stat(self.host.latest_rev()).await?;
        let version = self.convert(&info, "").await?;
        Ok(Resolved { version, rev: info })
    }

    /// The query `latest`, as `go list -m M@latest` answers it with `GOPROXY=direct`: the
    /// highest release tag, else the highest pre-release, skipping what the latest version's
    /// go.mod retracts (and legacy `+incompatible` majors once the module has a go.mod); only
    /// with no such tag, the default branch's head, unless that is retracted too.
    pub async fn latest_query(&self) -> Result<Resolved, UpstreamError> {
        let list = self.versions().await?;
        let listed: Vec<&str> = list.iter().map(String::as_str).collect();
        // The retractions in force are those of what `latest` is when none apply.
        let retractions = match self.pick_latest(&listed, &|_: &str| true).await? {
            Some(v) => self.go_mod(&v).await.ok(),
            None => match self.latest().await {
                Ok(head) => self.go_mod(&head.version).await.ok(),
                Err(_) => None,
            },
        }
        .and_then(|data| gomod::modfile::parse_lax(&data).ok());
        let allowed = |v: &str| retractions.as_ref().is_none_or(|m| !m.is_retracted(v));
        if let Some(v) = self.pick_latest(&listed, &allowed).await? {
            return self.stat_version(&v).await;
        }
        let head = self.latest().await?;
        if allowed(&head.version) {
            return Ok(head);
        }
        Err(not_found(format!(
            "{}@latest: no matching versions for query \"latest\"",
            self.layout.module
        )))
    }

    /// The listed version `latest` picks among `listed` when only `allowed` ones count.
    async fn pick_latest(
        &self,
        listed: &[&str],
        allowed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Option<String>, UpstreamError> {
        let incompatible = match gomod::latest::incompatible_decider(listed, allowed) {
            Some(v) => self.go_mod(v).await? == versions::legacy_go_mod(&self.layout.module),
            None => true,
        };
        Ok(gomod::latest::query_latest(listed, allowed, incompatible))
    }

    /// `findDir` at a known commit.
    async fn find_dir_at(&self, hash: &str, version: &str) -> Result<Found, UpstreamError> {
        let mut specs = vec![(
            hash.to_string(),
            versions::join(&self.layout.code_dir, "go.mod"),
        )];
        if let Some(d2) = self.layout.major_dir() {
            specs.push((hash.to_string(), format!("{d2}/go.mod")));
        }
        let mut files = self.read_files(&specs).await?.into_iter();
        let file1 = files.next().flatten();
        let file2 = files.next().flatten();
        versions::find_dir(&self.layout, version, file1, file2).map_err(|e| {
            not_found(format!(
                "{}@{version}: {e} at revision {}",
                self.layout.module,
                &hash[..12.min(hash.len())]
            ))
        })
    }

    /// The commit and module directory of a canonical version (validated first if pseudo).
    pub async fn locate(&self, version: &str) -> Result<(RevInfo, Found), UpstreamError> {
        if version != canonical_version(version) {
            return Err(self.invalid(version, "not canonical"));
        }
        let info = if pseudo::is_pseudo_version(version) {
            self.stat_version(version).await?.rev
        } else {
            self.stat(&self.layout.rev_to_rev(version)).await?
        };
        let found = self.find_dir_at(&info.hash, version).await?;
        Ok((info, found))
    }

    /// `GoMod`: the raw blob, or the synthesized one-liner.
    pub async fn go_mod(&self, version: &str) -> Result<Vec<u8>, UpstreamError> {
        let (_, found) = self.locate(version).await?;
        Ok(found
            .go_mod
            .unwrap_or_else(|| versions::legacy_go_mod(&self.layout.module)))
    }

    /// The root LICENSE blob at `hash`, if any.
    pub async fn root_license(&self, hash: &str) -> Result<Option<Vec<u8>>, UpstreamError> {
        self.read_file(hash, "LICENSE").await
    }

    /// The `.info` body, with `Origin` as the go command's module cache keeps it.
    pub fn info_json(&self, resolved: &Resolved) -> Vec<u8> {
        let time = time::OffsetDateTime::from_unix_timestamp(resolved.rev.time)
            .ok()
            .and_then(|t| t.replace_nanosecond(resolved.rev.nanos).ok())
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let ref_name = if pseudo::is_pseudo_version(&resolved.version) {
            None
        } else {
            resolved.rev.ref_name.as_deref()
        };
        let url = crate::redact::redact(&self.repo.url);
        let json = InfoJson {
            version: &resolved.version,
            time,
            origin: Origin {
                vcs: self.host.kind().name(),
                url: &url,
                subdir: &self.layout.code_dir,
                hash: if self.host.origin_hash() {
                    &resolved.rev.hash
                } else {
                    ""
                },
                ref_name,
            },
        };
        serde_json::to_vec(&json).unwrap_or_default()
    }
}
