//! Git: bare repositories fetched with the git CLI, read with `for-each-ref`, `cat-file`,
//! `merge-base` and `archive`. A new repository is fetched shallow: every branch and tag at
//! depth 1, which answers `list`, `@latest` and any tagged version (the go command fetches a
//! single tag at depth 1 too). Only a question about ancestry (a pseudo-version's base, a commit
//! no ref names) deepens it to the whole history, once; later refreshes then fetch as a full
//! repository does. A shallow repository's refreshes stay shallow.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{ArchiveError, Commit, Host, Kind, Mirror};
use crate::redact::redact;
use crate::upstream::direct::cache::{Repo, RepoError};
use crate::upstream::direct::confine::{RemoteGuard, confinement, with_config};
use crate::upstream::direct::git::{self as run, Git, GitError, Sink};
use crate::upstream::direct::refs::{Refs, parse_ls_remote};

/// Largest go.mod or LICENSE read.
const MAX_FILE: usize = 16 << 20;

/// The ref a fetch stores the remote's `HEAD` under.
const HEAD_REF: &str = "refs/agora/HEAD";

/// Fetches every branch and tag, moved ones included, dropping deleted ones.
const FETCH: [&str; 8] = [
    "fetch",
    "-q",
    "-f",
    "--prune",
    "--no-tags",
    "origin",
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
];

#[derive(Clone)]
pub struct GitHost {
    pub git: Git,
    /// The `url.<base>.insteadOf` rules of git's configuration, read at most every
    /// [`REWRITES_TTL`]: one `git config` per interval instead of one `ls-remote --get-url` per
    /// repository.
    rewrites: Arc<Mutex<Option<ReadRewrites>>>,
}

/// The rules and when they were read.
type ReadRewrites = (Instant, Arc<Vec<Rewrite>>);

/// How long the `insteadOf` rules read from git's configuration are used before reading again.
const REWRITES_TTL: Duration = Duration::from_secs(10);

/// One `url.<base>.insteadOf = <prefix>` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    base: String,
    prefix: String,
}

/// `git config -z --get-regexp` records (`url.<base>.insteadof\n<prefix>\0`) as rules.
pub fn parse_rewrites(out: &str) -> Vec<Rewrite> {
    out.split('\0')
        .filter_map(|l| {
            let (key, prefix) = l.split_once('\n')?;
            let base = key.strip_prefix("url.")?.strip_suffix(".insteadof")?;
            Some(Rewrite {
                base: base.to_string(),
                prefix: prefix.to_string(),
            })
        })
        .collect()
}

/// The URL git contacts for `url`: the rule with the longest matching prefix rewrites it, as git
/// itself decides.
pub fn rewrite(rules: &[Rewrite], url: &str) -> String {
    rules
        .iter()
        .filter(|r| url.starts_with(&r.prefix))
        .max_by_key(|r| r.prefix.len())
        .map_or_else(
            || url.to_string(),
            |r| format!("{}{}", r.base, &url[r.prefix.len()..]),
        )
}

impl GitHost {
    pub fn new(git: Git) -> Self {
        Self {
            git,
            rewrites: Arc::new(Mutex::new(None)),
        }
    }

    /// The URL git will really contact for `url`, after the `insteadOf` rules of its
    /// configuration.
    async fn effective_url(&self, scratch: &Path, url: &str) -> Result<String, GitError> {
        let cached = self
            .rewrites
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < REWRITES_TTL)
            .map(|(_, r)| r.clone());
        let rules = match cached {
            Some(r) => r,
            None => {
                let out = self
                    .git
                    .output(
                        scratch,
                        &["config", "-z", "--get-regexp", r"^url\..*\.insteadof$"],
                        None,
                        Sink::Memory(1 << 20),
                    )
                    .await?;
                // Exit status 1: no such settings.
                let rules = Arc::new(parse_rewrites(&String::from_utf8_lossy(&out.stdout)));
                *self.rewrites.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), rules.clone()));
                rules
            }
        };
        Ok(rewrite(&rules, url))
    }
}

#[async_trait]
impl Mirror for GitHost {
    fn kind(&self) -> Kind {
        Kind::Git
    }

    fn present(&self, dir: &Path) -> bool {
        dir.join("HEAD").is_file()
    }

    async fn confine(
        &self,
        scratch: &Path,
        url: &str,
        insecure: bool,
        guard: &dyn RemoteGuard,
    ) -> Result<Vec<String>, RepoError> {
        let effective = self.effective_url(scratch, url).await?;
        let mut net = confinement(insecure);
        net.extend(guard.confine(&effective, insecure).await?);
        Ok(net)
    }

    async fn create(&self, dir: &Path, url: &str) -> Result<(), RepoError> {
        use tokio::io::AsyncWriteExt;
        let io = |e: std::io::Error| RepoError::Io(format!("{}: {e}", dir.display()));
        if url.chars().any(char::is_control) {
            return Err(RepoError::Refused(format!(
                "{}: control characters in a repository URL",
                redact(url)
            )));
        }
        self.git.run(dir, &["init", "-q", "--bare"]).await?;
        // The remote written into the new config directly (one process fewer than `git
        // config`), quoted as git's config syntax wants.
        let quoted = url.replace('\\', "\\\\").replace('"', "\\\"");
        let mut config = tokio::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("config"))
            .await
            .map_err(io)?;
        config
            .write_all(format!("[remote \"origin\"]\n\turl = \"{quoted}\"\n").as_bytes())
            .await
            .map_err(io)?;
        config.flush().await.map_err(io)?;
        // As the go command does before `git archive`: export-ignore and export-subst in the
        // repository's .gitattributes must not change a module's files.
        tokio::fs::write(
            dir.join("info/attributes"),
            "\n* -export-subst -export-ignore\n",
        )
        .await
        .map_err(io)
    }

    /// A new repository first tries one shallow fetch of every tip without asking ls-remote; if
    /// that fails (an empty repository has no HEAD to fetch, a dumb http server cannot fetch
    /// shallow), the careful way decides.
    async fn sync(
        &self,
        dir: &Path,
        url: &str,
        net: &[String],
        fresh: bool,
    ) -> Result<bool, RepoError> {
        let head_spec = format!("+HEAD:{HEAD_REF}");
        if fresh {
            let mut args = FETCH.to_vec();
            args.push("--depth=1");
            args.push(&head_spec);
            match self.git.run(dir, &with_config(net, &args)).await {
                Ok(_) => return Ok(true),
                Err(e @ GitError::Timeout { .. }) => return Err(e.into()),
                Err(_) => {}
            }
        }
        let out = self
            .git
            .output(
                dir,
                &with_config(net, &["ls-remote", "-q", "origin"]),
                None,
                Sink::Memory(run::MAX_OUTPUT),
            )
            .await?;
        if !out.status.success() {
            return Err(RepoError::Unreachable {
                url: redact(url).into_owned(),
                reason: run::summary(&out),
            });
        }
        let remote = parse_ls_remote(&out.stdout);
        let local = self.read_refs(dir, false).await?.0;
        let mut fetched = false;
        if remote != local {
            let mut args = FETCH.to_vec();
            // A shallow repository stays shallow (`--depth` on a complete one would cut its
            // history). A new one gets here when the shallow fetch failed (an empty repository,
            // a server without shallow support such as dumb http): it is fetched whole.
            if is_shallow(dir) {
                args.push("--depth=1");
            }
            if remote.contains_key("HEAD") {
                args.push(&head_spec);
            }
            if !remote.is_empty() {
                self.git.run(dir, &with_config(net, &args)).await?;
                fetched = true;
            }
            if !remote.contains_key("HEAD") {
                let _ = self.git.run(dir, &["update-ref", "-d", HEAD_REF]).await;
            }
        }
        Ok(fetched)
    }

    async fn refs(&self, dir: &Path) -> Result<Refs, RepoError> {
        let (map, times) = self.read_refs(dir, true).await?;
        Ok(Refs { map, times })
    }
}

/// Whether the repository in `dir` was fetched shallow (git keeps the cut-off commits in
/// `shallow`).
fn is_shallow(dir: &Path) -> bool {
    dir.join("shallow").is_file()
}

impl GitHost {
    /// Local refs as ref → object; peeled to commits (`peel`, with their commit times), or as
    /// they are, to compare with `ls-remote`.
    async fn read_refs(
        &self,
        dir: &Path,
        peel: bool,
    ) -> Result<(BTreeMap<String, String>, HashMap<String, i64>), RepoError> {
        let out = self
            .git
            .run(
                dir,
                &[
                    "for-each-ref",
                    "--format=%(refname) %(objectname) %(objecttype) %(*objectname) %(*objecttype) %(committerdate:unix) %(*committerdate:unix)",
                    "refs/heads",
                    "refs/tags",
                    HEAD_REF,
                ],
            )
            .await?;
        let mut map = BTreeMap::new();
        let mut times = HashMap::new();
        for line in String::from_utf8_lossy(&out).lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let [name, obj, ty, peeled, peeled_ty, time, peeled_time] = f[..] else {
                continue;
            };
            let name = if name == HEAD_REF { "HEAD" } else { name };
            let (commit, time) = if !peel || ty == "commit" {
                (obj, time)
            } else if ty == "tag" && peeled_ty == "commit" {
                (peeled, peeled_time)
            } else {
                continue;
            };
            map.insert(name.to_string(), commit.to_string());
            if let Ok(t) = time.parse::<i64>() {
                times.insert(commit.to_string(), t);
            }
        }
        Ok((map, times))
    }

    fn short_output(mode: &str) -> GitError {
        GitError::Spawn {
            args: format!("git cat-file {mode}"),
            reason: "short output".into(),
        }
    }
}

#[async_trait]
impl Host for GitHost {
    fn kind(&self) -> Kind {
        Kind::Git
    }

    fn latest_rev(&self) -> &'static str {
        "HEAD"
    }

    fn is_hash_prefix(&self, rev: &str) -> bool {
        (7..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
    }

    fn origin_ref(&self, full: &str) -> String {
        full.to_string()
    }

    fn query_ref(&self, _rev: &str, _hash: &str) -> Option<String> {
        None
    }

    async fn commit(&self, dir: &Path, rev: &str) -> Result<Option<Commit>, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let out = self
            .git
            .output(
                dir,
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
            .await?;
        if !out.status.success() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut f = text.split_whitespace();
        Ok(match (f.next(), f.next().and_then(|t| t.parse().ok())) {
            (Some(h), Some(time)) => Some(Commit {
                hash: h.to_string(),
                time,
                nanos: 0,
            }),
            _ => None,
        })
    }

    /// `git fetch --unshallow` of every branch and tag, under the repository's fetch lock; a
    /// repository deepened meanwhile by another request is left alone.
    async fn ensure_history(&self, repo: &Repo) -> Result<(), GitError> {
        if !is_shallow(&repo.dir) {
            return Ok(());
        }
        let _fetching = repo.fetching.lock().await;
        if !is_shallow(&repo.dir) {
            return Ok(());
        }
        let head_spec = format!("+HEAD:{HEAD_REF}");
        let mut args = FETCH.to_vec();
        args.push("--unshallow");
        if repo.refs.get("HEAD").is_some() {
            args.push(&head_spec);
        }
        self.git
            .run(&repo.dir, &with_config(&repo.net, &args))
            .await
            .map(|_| ())
    }

    async fn merged_tags(&self, dir: &Path, hash: &str) -> Result<Vec<String>, GitError> {
        let out = self
            .git
            .run(
                dir,
                &[
                    "for-each-ref",
                    "--format=%(refname)",
                    "--merged",
                    hash,
                    "refs/tags",
                ],
            )
            .await?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.trim().strip_prefix("refs/tags/"))
            .map(str::to_string)
            .collect())
    }

    async fn descends_from(&self, dir: &Path, hash: &str, tag: &str) -> Result<bool, GitError> {
        let spec = format!("refs/tags/{tag}");
        let out = self
            .git
            .output(
                dir,
                &["merge-base", "--is-ancestor", &spec, hash],
                None,
                Sink::Memory(4096),
            )
            .await?;
        Ok(out.status.success())
    }

    /// Two `git cat-file` runs: `--batch-check` for the kinds and sizes, then `--batch` for the
    /// blobs small enough to want, with the output bounded by exactly what they add up to. A
    /// repository cannot make agora read more than `MAX_FILE` per file.
    async fn read_files(
        &self,
        dir: &Path,
        specs: &[(String, String)],
    ) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let lines = |items: &mut dyn Iterator<Item = String>| {
            let mut input = Vec::new();
            for s in items {
                input.extend_from_slice(s.as_bytes());
                input.push(b'\n');
            }
            input
        };
        let check_args = ["cat-file", "--batch-check"];
        let input = lines(&mut specs.iter().map(|(rev, path)| format!("{rev}:{path}")));
        let check_limit = input.len() + specs.len() * 128;
        let out = self
            .git
            .output(dir, &check_args, Some(input), Sink::Memory(check_limit))
            .await?;
        if !out.status.success() {
            return Err(run::failed(run::Tool::Git, &check_args, &out));
        }
        // Per spec: the blob's object name and size, if it is a blob worth reading.
        let text = String::from_utf8_lossy(&out.stdout);
        let mut wanted: Vec<Option<(String, usize)>> = Vec::with_capacity(specs.len());
        let mut checked = text.lines();
        for _ in specs {
            let line = checked
                .next()
                .ok_or_else(|| Self::short_output("--batch-check"))?;
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
        let input = lines(&mut blobs.iter().map(|(oid, _)| oid.clone()));
        let limit: usize = blobs.iter().map(|(oid, n)| n + oid.len() + 32).sum();
        let out = self
            .git
            .output(dir, &batch_args, Some(input), Sink::Memory(limit))
            .await?;
        if !out.status.success() {
            return Err(run::failed(run::Tool::Git, &batch_args, &out));
        }
        let data = out.stdout;
        let mut pos = 0;
        let mut bodies = Vec::with_capacity(blobs.len());
        for (_, size) in &blobs {
            let nl = data[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| Self::short_output("--batch"))?;
            pos += nl + 1;
            let end = pos + size;
            if end > data.len() {
                return Err(Self::short_output("--batch"));
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

    /// `git archive`, with eol conversions applied as the go command's checkout would.
    async fn archive(
        &self,
        dir: &Path,
        hash: &str,
        subdir: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<(), ArchiveError> {
        let mut args = vec![
            "-c",
            "core.autocrlf=input",
            "-c",
            "core.eol=lf",
            "archive",
            "--format=zip",
            "-0",
            "--prefix=prefix/",
            hash,
        ];
        if !subdir.is_empty() {
            args.push("--");
            args.push(subdir);
        }
        let out = self
            .git
            .output(dir, &args, None, Sink::File(dest, limit))
            .await?;
        if !out.status.success() {
            return Err(ArchiveError::Refused(format!(
                "git archive: {}",
                run::summary(&out)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insteadof_rules() {
        let rules = parse_rewrites(
            "url.file:///srv/my mirror/.insteadof\nhttps://github.com/\0url.ssh://git@github.com/our/.insteadof\nhttps://github.com/our/\0not a rule\0",
        );
        assert_eq!(rules.len(), 2);
        for (url, want) in [
            ("https://github.com/o/r", "file:///srv/my mirror/o/r"),
            // The longest prefix wins.
            ("https://github.com/our/r", "ssh://git@github.com/our/r"),
            ("https://gitlab.com/o/r", "https://gitlab.com/o/r"),
        ] {
            assert_eq!(rewrite(&rules, url), want, "{url}");
        }
    }
}
