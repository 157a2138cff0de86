//! Mercurial, as the go command's `codehost` drives it: a local repository made with `hg init`
//! and brought up to date with `hg pull -f`, read with `hg log` templates, `hg cat` and
//! `hg archive`. Every revision given to hg is quoted as a revset symbol, so a name from a
//! client or a repository can only ever name a revision, never run a revset expression.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::{ArchiveError, Commit, Host, Kind, Mirror};
use crate::redact::redact;
use crate::upstream::direct::cache::RepoError;
use crate::upstream::direct::confine::RemoteGuard;
use crate::upstream::direct::egress::Egress;
use crate::upstream::direct::git::{self as run, Git, GitError, Sink};
use crate::upstream::direct::guard::Guard;
use crate::upstream::direct::refs::Refs;

/// The null revision hg names an empty repository's tip with.
const NULL: &str = "0000000000000000000000000000000000000000";

#[derive(Clone)]
pub struct HgHost {
    pub hg: Git,
    guard: Arc<Guard>,
    /// Started with the first repository hg reaches over http(s).
    egress: Arc<tokio::sync::OnceCell<Egress>>,
}

impl HgHost {
    pub fn new(hg: Git, guard: Arc<Guard>) -> Self {
        Self {
            hg,
            guard,
            egress: Arc::new(tokio::sync::OnceCell::new()),
        }
    }
}

/// `rev` as a revset symbol: quoted, so it is looked up by name and never parsed as an
/// expression.
pub fn symbol(rev: &str) -> String {
    let mut out = String::with_capacity(rev.len() + 2);
    out.push('\'');
    for c in rev.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Lines of `name\0node`, as the `tags`, `branches` and `bookmarks` templates below print them.
fn named_nodes(out: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| l.split_once('\0'))
        .map(|(name, node)| (name.to_string(), node.trim().to_string()))
        .filter(|(name, node)| !name.is_empty() && node.len() == 40)
        .collect()
}

#[async_trait]
impl Mirror for HgHost {
    fn kind(&self) -> Kind {
        Kind::Hg
    }

    fn present(&self, dir: &Path) -> bool {
        dir.join(".hg/hgrc").is_file()
    }

    /// hg reaches https and ssh (plain http for `direct.insecure` modules), never a local path
    /// or another scheme. Over http(s) it goes through agora's egress proxy, which checks every
    /// host it connects to (redirects' too) with the guard and connects to the checked
    /// addresses; it proxies even loopback (`http_proxy.always`), and plain http only for
    /// insecure modules. Over ssh the host is checked, then resolved again by ssh.
    async fn confine(
        &self,
        _scratch: &Path,
        url: &str,
        insecure: bool,
        guard: &dyn RemoteGuard,
    ) -> Result<Vec<String>, RepoError> {
        super::check_scheme("hg", url, insecure, &["https", "ssh"], &["http"])?;
        guard.confine(url, insecure).await?;
        if url.to_ascii_lowercase().starts_with("ssh://") {
            return Ok(Vec::new());
        }
        let egress = self
            .egress
            // hg sends a redirect's request through the proxy again: redirects may pass.
            .get_or_try_init(|| Egress::start(self.guard.clone(), None))
            .await
            .map_err(|e| RepoError::Io(format!("egress proxy: {e}")))?;
        Ok(vec![
            format!("http_proxy.host={}", egress.addr(insecure)),
            "http_proxy.always=true".to_string(),
            "http_proxy.no=".to_string(),
        ])
    }

    async fn create(&self, dir: &Path, url: &str) -> Result<(), RepoError> {
        let io = |e: std::io::Error| RepoError::Io(format!("{}: {e}", dir.display()));
        self.hg.run(dir, &["init", "."]).await?;
        // As the go command does: the remote is the repository's default path, so `hg pull`
        // needs no URL on its command line.
        let hgrc = format!("[paths]\ndefault = {url}\n");
        tokio::fs::write(dir.join(".hg/hgrc"), hgrc)
            .await
            .map_err(io)
    }

    async fn sync(
        &self,
        dir: &Path,
        url: &str,
        net: &[String],
        _fresh: bool,
    ) -> Result<bool, RepoError> {
        let before = self.tip(dir).await?;
        let mut args: Vec<&str> = Vec::new();
        for c in net {
            args.push("--config");
            args.push(c);
        }
        args.extend(["pull", "-f", "-q"]);
        let out = self
            .hg
            .output(dir, &args, None, Sink::Memory(run::MAX_OUTPUT))
            .await?;
        if !out.status.success() {
            return Err(RepoError::Unreachable {
                url: redact(url).into_owned(),
                reason: run::summary(&out),
            });
        }
        Ok(self.tip(dir).await? != before)
    }

    /// Tags (`hg tags`, without `tip`), named branches with closed ones (`hg branches -c`),
    /// bookmarks, and `tip` as `HEAD`; times from one `hg log` of the commits they name.
    async fn refs(&self, dir: &Path) -> Result<Refs, RepoError> {
        let mut map = BTreeMap::new();
        let tags = self
            .hg
            .run(dir, &["tags", "-T", "{tag}\\0{node}\\n"])
            .await?;
        for (name, node) in named_nodes(&tags) {
            if name != "tip" {
                map.insert(format!("refs/tags/{name}"), node);
            }
        }
        let branches = self
            .hg
            .run(dir, &["branches", "-c", "-T", "{branch}\\0{node}\\n"])
            .await?;
        for (name, node) in named_nodes(&branches) {
            map.insert(format!("refs/heads/{name}"), node);
        }
        let marks = self
            .hg
            .run(dir, &["bookmarks", "-T", "{bookmark}\\0{node}\\n"])
            .await?;
        for (name, node) in named_nodes(&marks) {
            map.insert(format!("refs/bookmarks/{name}"), node);
        }
        if let Some(tip) = self.tip(dir).await? {
            map.insert("HEAD".to_string(), tip);
        }
        let mut times = HashMap::new();
        let out = self
            .hg
            .run(
                dir,
                &[
                    "log",
                    "-r",
                    "tag() or head() or bookmark() or tip",
                    "-T",
                    "{node} {date|hgdate}\\n",
                ],
            )
            .await?;
        for line in String::from_utf8_lossy(&out).lines() {
            let mut f = line.split_whitespace();
            if let (Some(node), Some(Ok(t))) = (f.next(), f.next().map(str::parse::<i64>)) {
                times.insert(node.to_string(), t);
            }
        }
        Ok(Refs { map, times })
    }
}

impl HgHost {
    /// The newest changeset's hash, `None` in an empty repository.
    async fn tip(&self, dir: &Path) -> Result<Option<String>, GitError> {
        let out = self
            .hg
            .run(dir, &["log", "-l1", "-r", "tip", "-T", "{node}"])
            .await?;
        let node = String::from_utf8_lossy(&out).trim().to_string();
        Ok((node.len() == 40 && node != NULL).then_some(node))
    }

    /// `hg log` of the revisions `revset` names, one template line each.
    async fn log(&self, dir: &Path, revset: &str, template: &str) -> Result<String, GitError> {
        let out = self
            .hg
            .output(
                dir,
                &["log", "-r", revset, "-T", template],
                None,
                Sink::Memory(run::MAX_OUTPUT),
            )
            .await?;
        if !out.status.success() {
            return Ok(String::new());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

#[async_trait]
impl Host for HgHost {
    fn kind(&self) -> Kind {
        Kind::Hg
    }

    fn latest_rev(&self) -> &'static str {
        "tip"
    }

    /// hg takes any unambiguous prefix of a changeset hash.
    fn is_hash_prefix(&self, rev: &str) -> bool {
        (1..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
    }

    fn origin_ref(&self, full: &str) -> String {
        ["refs/tags/", "refs/heads/", "refs/bookmarks/"]
            .iter()
            .find_map(|p| full.strip_prefix(p))
            .unwrap_or(full)
            .to_string()
    }

    async fn commit(&self, dir: &Path, rev: &str) -> Result<Option<Commit>, GitError> {
        let text = self
            .log(
                dir,
                &format!("first({})", symbol(rev)),
                "{node} {date|hgdate}",
            )
            .await?;
        let mut f = text.split_whitespace();
        // The null revision (all zeros) names no commit; the go command would make a 1970
        // pseudo-version of it.
        Ok(match (f.next(), f.next().and_then(|t| t.parse().ok())) {
            (Some(h), Some(time)) if h.len() == 40 && h != NULL => Some(Commit {
                hash: h.to_string(),
                time,
                nanos: 0,
            }),
            _ => None,
        })
    }

    async fn merged_tags(&self, dir: &Path, hash: &str) -> Result<Vec<String>, GitError> {
        let text = self
            .log(
                dir,
                &format!("ancestors({}) and tag()", symbol(hash)),
                "{join(tags, '\\0')}\\n",
            )
            .await?;
        Ok(text
            .lines()
            .flat_map(|l| l.split('\0'))
            .filter(|t| !t.is_empty() && *t != "tip")
            .map(str::to_string)
            .collect())
    }

    async fn descends_from(&self, dir: &Path, hash: &str, tag: &str) -> Result<bool, GitError> {
        let text = self
            .log(
                dir,
                &format!("ancestors({}) and {}", symbol(hash), symbol(tag)),
                "{node}\\n",
            )
            .await?;
        Ok(!text.trim().is_empty())
    }

    /// One `hg cat` per file, as the go command reads them.
    async fn read_files(
        &self,
        dir: &Path,
        specs: &[(String, String)],
    ) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        super::read_each(&self.hg, dir, specs, |rev, path| {
            vec![
                "cat".into(),
                format!("--rev={}", symbol(rev)),
                "--".into(),
                format!("path:{path}"),
            ]
        })
        .await
    }

    /// `hg archive -t zip --no-decode`, as the go command runs it; the archive's own
    /// `.hg_archival.txt` is left to the module zip's rules, which drop it.
    async fn archive(
        &self,
        dir: &Path,
        hash: &str,
        subdir: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<(), ArchiveError> {
        let rev = format!("--rev={}", symbol(hash));
        let include = format!("--include=path:{subdir}");
        let mut args = vec![
            "archive",
            "-t",
            "zip",
            "--no-decode",
            rev.as_str(),
            "--prefix=prefix/",
        ];
        if !subdir.is_empty() {
            args.push(&include);
        }
        args.extend(["--", "-"]);
        let out = self
            .hg
            .output(dir, &args, None, Sink::File(dest, limit))
            .await?;
        if !out.status.success() {
            return Err(ArchiveError::Refused(format!(
                "hg archive: {}",
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
    fn revisions_are_quoted_symbols() {
        for (rev, want) in [
            ("v1.0.0", "'v1.0.0'"),
            ("all()", "'all()'"),
            ("a' or all() or '", "'a\\' or all() or \\''"),
            ("back\\slash", "'back\\\\slash'"),
            ("", "''"),
        ] {
            assert_eq!(symbol(rev), want, "{rev}");
        }
    }

    #[test]
    fn named_node_lines() {
        let node = "3f0cc5937f64212fe321432a66659246650a6978";
        let out = format!("tip\0{node}\nv1.0.0\0{node}\nbad line\n\0{node}\nshort\0abc\n");
        assert_eq!(
            named_nodes(out.as_bytes()),
            [
                ("tip".to_string(), node.to_string()),
                ("v1.0.0".to_string(), node.to_string())
            ]
        );
    }
}
