//! One module in one cached git repository: the go command's `codeRepo` (`Versions`, `Stat`,
//! `convert`, `validatePseudoVersion`, `findDir`, `GoMod`, `Latest`) on top of the git CLI.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::cache::Repo;
use super::git::{Git, GitError, Sink};
use super::versions::{self, Found, Layout};
use crate::upstream::UpstreamError;
use gomod::module::{canonical_version, check_path_major};
use gomod::{pseudo, semver};

/// Largest go.mod or LICENSE read from git.
const MAX_FILE: usize = 16 << 20;

/// A commit as `Stat` sees it.
#[derive(Debug, Clone)]
pub struct RevInfo {
    pub hash: String,
    pub time: i64,
    /// Tags naming this commit, sorted.
    pub tags: Vec<String>,
    /// The tag the query named, if it was one.
    pub tag: Option<String>,
    /// The full ref the answer depended on (`refs/tags/v1.0.0`, `refs/heads/main`, `HEAD`).
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
    #[serde(rename = "Hash")]
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
    pub git: Git,
    pub repo: Repo,
    pub layout: Layout,
    pub blobs: Blobs,
}

/// Whether a `rev:path` spec names a commit by its full hash (so its content never changes).
fn immutable(spec: &str) -> bool {
    spec.split_once(':')
        .is_some_and(|(rev, _)| rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()))
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

    /// Reads `rev:path` for each spec, from the blob cache or with one `git cat-file --batch`;
    /// `None` where missing.
    pub async fn read_files(
        &self,
        specs: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, UpstreamError> {
        let key = |s: &str| format!("{}\0{s}", self.repo.url);
        let mut out: Vec<Option<Option<Vec<u8>>>> = specs
            .iter()
            .map(|s| {
                immutable(s)
                    .then(|| self.blobs.get(&key(s)))
                    .flatten()
                    .map(|b| (*b).clone())
            })
            .collect();
        let missing: Vec<String> = specs
            .iter()
            .zip(&out)
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.clone())
            .collect();
        let mut read = self.read_files_git(&missing).await?.into_iter();
        for (spec, slot) in specs.iter().zip(out.iter_mut()) {
            if slot.is_none() {
                let data = read.next().flatten();
                if immutable(spec) {
                    self.blobs.insert(key(spec), Arc::new(data.clone()));
                }
                *slot = Some(data);
            }
        }
        Ok(out.into_iter().map(Option::flatten).collect())
    }

    /// Two `git cat-file` runs: `--batch-check` for the kinds and sizes, then `--batch` for the
    /// blobs small enough to want, with the output bounded by exactly what they add up to. A
    /// repository cannot make agora read more than `MAX_FILE` per file.
    async fn read_files_git(
        &self,
        specs: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, UpstreamError> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let lines = |items: &mut dyn Iterator<Item = &str>| {
            let mut input = Vec::new();
            for s in items {
                input.extend_from_slice(s.as_bytes());
                input.push(b'\n');
            }
            input
        };
        let check_args = ["cat-file", "--batch-check"];
        let input = lines(&mut specs.iter().map(String::as_str));
        let check_limit = input.len() + specs.len() * 128;
        let out = self
            .git
            .output(
                self.dir(),
                &check_args,
                Some(input),
                Sink::Memory(check_limit),
            )
            .await
            .map_err(|e| self.git_err(e))?;
        if !out.status.success() {
            return Err(self.git_err(super::git::failed(&check_args, &out)));
        }
        // Per spec: the blob's object name and size, if it is a blob worth reading.
        let text = String::from_utf8_lossy(&out.stdout);
        let mut wanted: Vec<Option<(String, usize)>> = Vec::with_capacity(specs.len());
        let mut checked = text.lines();
        for _ in specs {
            let line = checked
                .next()
                .ok_or_else(|| self.short_output("--batch-check"))?;
            let f: Vec<&str> = line.split(' ').collect();
            wanted.push(match f[..] {
                [oid, "blob", size] => size
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_FILE)
                    .map(|n| (oid.to_string(), n)),
                _ => None,
            });
        }
        let blobs: Vec<&(String, usize)> = wanted.iter().flatten().collect();
        if blobs.is_empty() {
            return Ok(vec![None; specs.len()]);
        }
        let batch_args = ["cat-file", "--batch"];
        let input = lines(&mut blobs.iter().map(|(oid, _)| oid.as_str()));
        let limit: usize = blobs.iter().map(|(oid, n)| n + oid.len() + 32).sum();
        let out = self
            .git
            .output(self.dir(), &batch_args, Some(input), Sink::Memory(limit))
            .await
            .map_err(|e| self.git_err(e))?;
        if !out.status.success() {
            return Err(self.git_err(super::git::failed(&batch_args, &out)));
        }
        let data = out.stdout;
        let mut pos = 0;
        let mut bodies = Vec::with_capacity(blobs.len());
        for (_, size) in &blobs {
            let nl = data[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| self.short_output("--batch"))?;
            pos += nl + 1;
            let end = pos + size;
            if end > data.len() {
                return Err(self.short_output("--batch"));
            }
            bodies.push(data[pos..end].to_vec());
            pos = end + 1;
        }
        let mut bodies = bodies.into_iter();
        Ok(wanted
            .iter()
            .map(|w| w.as_ref().and_then(|_| bodies.next()))
            .collect())
    }

    fn short_output(&self, mode: &str) -> UpstreamError {
        self.git_err(GitError::Spawn {
            args: format!("cat-file {mode}"),
            reason: "short output".into(),
        })
    }

    async fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, UpstreamError> {
        Ok(self
            .read_files(&[format!("{rev}:{path}")])
            .await?
            .into_iter()
            .next()
            .flatten())
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
        let specs: Vec<String> = questions
            .iter()
            .map(|v| format!("refs/tags/{prefix}{v}:go.mod"))
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

    /// Commit hash and committer time of a commit-ish.
    async fn commit(&self, rev: &str) -> Result<Option<(String, i64)>, UpstreamError> {
        let spec = format!("{rev}^{{commit}}");
        let out = self
            .git
            .output(
                self.dir(),
                &[
                    "log",
                    "-n1",
                    "--no-decorate",
                    "--format=%H %ct",
                    &spec,
                    "--",
                ],
                None,
                Sink::Memory(4096),
            )
            .await
            .map_err(|e| self.git_err(e))?;
        if !out.status.success() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut f = text.split_whitespace();
        match (f.next(), f.next().and_then(|t| t.parse().ok())) {
            (Some(h), Some(t)) => Ok(Some((h.to_string(), t))),
            _ => Ok(None),
        }
    }

    /// The git `stat`: a tag, a branch, `HEAD` or a hash prefix of at least 7 digits.
    pub async fn stat(&self, rev: &str) -> Result<RevInfo, UpstreamError> {
        let refs = &self.repo.refs;
        let unknown = || not_found(format!("{}: unknown revision {rev}", self.layout.module));
        let (hash, ref_name, tag) = if let Some(h) = refs.get(&format!("refs/tags/{rev}")) {
            (
                h.to_string(),
                Some(format!("refs/tags/{rev}")),
                Some(rev.to_string()),
            )
        } else if let Some(h) = refs.get(&format!("refs/heads/{rev}")) {
            (h.to_string(), Some(format!("refs/heads/{rev}")), None)
        } else if rev == "HEAD" {
            let h = refs.get("HEAD").ok_or_else(unknown)?;
            (h.to_string(), Some("HEAD".to_string()), None)
        } else if (7..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
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
            match found {
                Some(h) => (h.to_string(), None, None),
                None => {
                    // Not a ref's commit: any commit of the fetched history.
                    let hash = self.commit(&lower).await?.ok_or_else(unknown)?.0;
                    (hash, None, None)
                }
            }
        } else {
            return Err(unknown());
        };
        let (hash, time) = match refs.times.get(&hash) {
            Some(t) => (hash, *t),
            None => self.commit(&hash).await?.ok_or_else(unknown)?,
        };
        let tags = refs
            .tags_at(&hash)
            .into_iter()
            .map(str::to_string)
            .collect();
        Ok(RevInfo {
            hash,
            time,
            tags,
            tag,
            ref_name,
        })
    }

    async fn can_use_incompatible(&self, hash: &str) -> Result<bool, UpstreamError> {
        if !self.layout.may_be_incompatible() {
            return Ok(false);
        }
        Ok(self.read_file(hash, "go.mod").await?.is_none())
    }

    /// `Stat(query)`: the canonical version or pseudo-version the query stands for.
    pub async fn stat_version(&self, query: &str) -> Result<Resolved, UpstreamError> {
        let rev = self.layout.rev_to_rev(query);
        let info = self.stat(&rev).await?;
        let version = self.convert(&info, query).await?;
        Ok(Resolved { version, rev: info })
    }

    /// `Latest`: what the default branch's head is.
    pub async fn latest(&self) -> Result<Resolved, UpstreamError> {
        let info = self.stat("HEAD").await?;
        let version = self.convert(&info, "").await?;
        Ok(Resolved { version, rev: info })
    }

    async fn check_go_mod(
        &self,
        info: &RevInfo,
        version: String,
        can_use: bool,
    ) -> Result<String, UpstreamError> {
        self.find_dir_at(&info.hash, &version).await?;
        if let Some(base) = version.strip_suffix("+incompatible") {
            if !can_use {
                return Err(self.invalid(
                    &version,
                    if self.layout.path_major.is_empty() {
                        "+incompatible suffix not allowed: module contains a go.mod file, so semantic import versioning is required"
                    } else {
                        "+incompatible suffix not allowed: module path includes a major version suffix, so major version must match"
                    },
                ));
            }
            if check_path_major(base, &self.layout.path_major).is_ok() {
                return Err(self.invalid(
                    &version,
                    format!(
                        "+incompatible suffix not allowed: major version {} is compatible",
                        semver::major(&version)
                    ),
                ));
            }
        }
        Ok(version)
    }

    /// `convert`.
    async fn convert(&self, info: &RevInfo, stat_vers: &str) -> Result<String, UpstreamError> {
        let can_use = self.can_use_incompatible(&info.hash).await?;
        if !stat_vers.is_empty() && stat_vers == canonical_version(stat_vers) {
            let mut version = stat_vers.to_string();
            if pseudo::is_pseudo_version(&version) {
                self.validate_pseudo(info, &version).await?;
                return self.check_go_mod(info, version, can_use).await;
            }
            if let Err(e) = check_path_major(&version, &self.layout.path_major) {
                if !can_use {
                    return Err(self.invalid(
                        &version,
                        format!("module contains a go.mod file, so major version must be compatible: {e}"),
                    ));
                }
                version.push_str("+incompatible");
            }
            return self.check_go_mod(info, version, can_use).await;
        }

        let retractions = self.retractions().await;
        let is_retracted = |v: &str| retractions.as_ref().is_some_and(|m| m.is_retracted(v));
        let to_version =
            |tag: &str| versions::tag_to_version(&self.layout, tag, &is_retracted, can_use);

        if let Some(tag) = &info.tag
            && let (v, true) = to_version(tag)
        {
            return self.check_go_mod(info, v, can_use).await;
        }
        let mut best = String::new();
        let mut pseudo_base = String::new();
        for tag in &info.tags {
            let (v, canonical) = to_version(tag);
            if canonical {
                if !stat_vers.is_empty() && semver::compare(&v, stat_vers).is_eq() {
                    return self.check_go_mod(info, v, can_use).await;
                }
                if semver::compare(&best, &v).is_lt() {
                    best = v;
                }
            } else if !v.is_empty() && semver::compare(&v, stat_vers).is_eq() {
                pseudo_base = v;
            }
        }
        if !best.is_empty() {
            return self.check_go_mod(info, best, can_use).await;
        }
        if pseudo_base.is_empty() {
            let prefix = self.layout.tag_prefix();
            let merged = self.merged_tags(&info.hash).await?;
            let allowed = |major: &'static str| {
                move |v: &str| (major.is_empty() || semver::major(v) == major) && !is_retracted(v)
            };
            let tag = if !self.layout.pseudo_major.is_empty() || can_use {
                let major = self.layout.pseudo_major.clone();
                let allow = move |v: &str| {
                    (major.is_empty() || semver::major(v) == major) && !is_retracted(v)
                };
                versions::recent_tag(merged.iter().map(String::as_str), &prefix, &allow)
            } else {
                versions::recent_tag(merged.iter().map(String::as_str), &prefix, &allowed("v1"))
                    .or_else(|| {
                        versions::recent_tag(
                            merged.iter().map(String::as_str),
                            &prefix,
                            &allowed("v0"),
                        )
                    })
            };
            if let Some(tag) = tag {
                pseudo_base = to_version(&tag).0;
            }
        }
        let short = &info.hash[..12.min(info.hash.len())];
        let version =
            pseudo::pseudo_version(&self.layout.pseudo_major, &pseudo_base, info.time, short);
        self.check_go_mod(info, version, can_use).await
    }

    /// Tag names reachable from `hash`.
    async fn merged_tags(&self, hash: &str) -> Result<Vec<String>, UpstreamError> {
        let out = self
            .git
            .run(
                self.dir(),
                &[
                    "for-each-ref",
                    "--format=%(refname)",
                    "--merged",
                    hash,
                    "refs/tags",
                ],
            )
            .await
            .map_err(|e| self.git_err(e))?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.trim().strip_prefix("refs/tags/"))
            .map(str::to_string)
            .collect())
    }

    /// `validatePseudoVersion`.
    async fn validate_pseudo(&self, info: &RevInfo, version: &str) -> Result<(), UpstreamError> {
        let bad = |msg: String| self.invalid(version, msg);
        check_path_major(version, &self.layout.path_major).map_err(|e| bad(e.to_string()))?;
        let rev = pseudo::pseudo_version_rev(version).map_err(|e| bad(e.to_string()))?;
        let short = &info.hash[..12.min(info.hash.len())];
        if rev != short {
            return Err(bad(if rev.starts_with(short) {
                format!("revision is longer than canonical ({short})")
            } else if short.starts_with(&rev) {
                format!("revision is shorter than canonical ({short})")
            } else {
                format!("does not match short name of revision ({short})")
            }));
        }
        let t = pseudo::pseudo_version_time(version).map_err(|e| bad(e.to_string()))?;
        let want = pseudo::format_timestamp(info.time);
        if t != want {
            return Err(bad(format!(
                "does not match version-control timestamp (expected {want})"
            )));
        }
        let prefix = self.layout.tag_prefix();
        let trimmed = version.strip_suffix("+incompatible").unwrap_or(version);
        let base = pseudo::pseudo_version_base(trimmed).map_err(|e| bad(e.to_string()))?;
        if base.is_empty() {
            if self.layout.pseudo_major.is_empty() && semver::major(version) == "v1" {
                return Err(bad(
                    "major version without preceding tag must be v0, not v1".into(),
                ));
            }
            return Ok(());
        }
        for tag in &info.tags {
            if tag.strip_prefix(prefix.as_str()) == Some(base.as_str()) {
                return Err(bad(format!(
                    "tag ({tag}) found on revision {rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag"
                )));
            }
        }
        let mut last_tag = None;
        for tag in self.repo.refs.tags(&format!("{prefix}{base}")) {
            let only = &tag[prefix.len()..];
            if semver::compare(only, &base).is_eq() {
                last_tag = Some(tag.to_string());
                let spec = format!("refs/tags/{tag}");
                let out = self
                    .git
                    .output(
                        self.dir(),
                        &["merge-base", "--is-ancestor", &spec, &info.hash],
                        None,
                        Sink::Memory(4096),
                    )
                    .await
                    .map_err(|e| self.git_err(e))?;
                if out.status.success() {
                    return Ok(());
                }
            }
        }
        match last_tag {
            None => Err(bad(format!("preceding tag ({base}) not found"))),
            Some(tag) => Err(bad(format!(
                "revision {rev} is not a descendent of preceding tag ({tag})"
            ))),
        }
    }

    /// `findDir` at a known commit.
    async fn find_dir_at(&self, hash: &str, version: &str) -> Result<Found, UpstreamError> {
        let mut specs = vec![format!(
            "{hash}:{}",
            versions::join(&self.layout.code_dir, "go.mod")
        )];
        if let Some(d2) = self.layout.major_dir() {
            specs.push(format!("{hash}:{d2}/go.mod"));
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
                vcs: "git",
                url: &url,
                subdir: &self.layout.code_dir,
                hash: &resolved.rev.hash,
                ref_name,
            },
        };
        serde_json::to_vec(&json).unwrap_or_default()
    }
}
