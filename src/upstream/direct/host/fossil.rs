//! Fossil, as the go command's `codehost` drives it: a local clone (`fossil clone`, then
//! `fossil pull`), `fossil info` for check-ins, `fossil cat` for files, `fossil zip` for
//! archives. The go command's tag pattern for Fossil is a placeholder that matches nothing, so
//! Fossil has no versions, only `v0.0.0-` pseudo-versions of check-ins; and it reads only SHA-1
//! check-in hashes. Agora answers the same.

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

/// The clone inside a cache directory.
const CLONE: &str = "repo.fossil";

#[derive(Clone)]
pub struct FossilHost {
    pub fossil: Git,
    guard: Arc<Guard>,
    /// Started with the first repository fossil reaches over http(s).
    egress: Arc<tokio::sync::OnceCell<Egress>>,
}

/// `fossil info`: the check-in's hash and time, from its `hash:` (older fossils: `uuid:`) line,
/// `hash: <40 hex digits> YYYY-MM-DD HH:MM:SS UTC`; anything else (a SHA3 hash) is no answer,
/// as for the go command.
pub fn parse_info(out: &str) -> Option<Commit> {
    let line = out
        .lines()
        .find(|l| l.starts_with("hash:") || l.starts_with("uuid:"))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let [_, hash, day, clock, "UTC"] = f[..] else {
        return None;
    };
    if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let t = time::PrimitiveDateTime::parse(&format!("{day} {clock}"), &format).ok()?;
    Some(Commit {
        hash: hash.to_string(),
        time: t.assume_utc().unix_timestamp(),
        nanos: 0,
    })
}

/// `https://host[:port]/…` as `http://host:port/…` (the port always named, 443 by default),
/// for the egress listener that sends plain http on over TLS; `None` for any other URL.
pub fn upgraded(url: &str) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    if u.scheme() != "https" {
        return None;
    }
    let port = u.port_or_known_default()?;
    u.set_scheme("http").ok()?;
    u.set_port(Some(port)).ok()?;
    Some(u.to_string())
}

impl FossilHost {
    pub fn new(fossil: Git, guard: Arc<Guard>) -> Self {
        Self {
            fossil,
            guard,
            egress: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    async fn info(&self, dir: &Path, rev: &str) -> Result<Option<Commit>, GitError> {
        let out = self
            .fossil
            .output(
                dir,
                &["info", "-R", CLONE, "--", rev],
                None,
                Sink::Memory(1 << 20),
            )
            .await?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(parse_info(&String::from_utf8_lossy(&out.stdout)))
    }
}

#[async_trait]
impl Mirror for FossilHost {
    fn kind(&self) -> Kind {
        Kind::Fossil
    }

    fn present(&self, dir: &Path) -> bool {
        dir.join(CLONE).is_file()
    }

    /// fossil reaches https and ssh (plain http for `direct.insecure` modules), at addresses
    /// the guard allows. Over http(s) it goes through agora's egress proxy (`--proxy`, which
    /// wins over any proxy setting), which checks the host and connects to the checked
    /// addresses. fossil follows a redirect by itself and connects to its target directly,
    /// never through the proxy again, so this proxy answers a redirect with an error instead.
    /// To let that proxy see https answers, fossil is given `http://host:port` for
    /// `https://host:port` and a proxy listener that speaks TLS to the host ([`upgraded`]):
    /// fossil's own TLS through a proxy is unusable (2.21 names the port twice in CONNECT and
    /// puts it in the server name).
    /// Over ssh the host is checked, then resolved again by ssh.
    async fn confine(
        &self,
        _scratch: &Path,
        url: &str,
        insecure: bool,
        guard: &dyn RemoteGuard,
    ) -> Result<Vec<String>, RepoError> {
        super::check_scheme("fossil", url, insecure, &["https", "ssh"], &["http"])?;
        guard.confine(url, insecure).await?;
        if url.to_ascii_lowercase().starts_with("ssh://") {
            return Ok(Vec::new());
        }
        let egress = self
            .egress
            .get_or_try_init(|| Egress::inspecting(self.guard.clone()))
            .await
            .map_err(|e| RepoError::Io(format!("egress proxy: {e}")))?;
        let proxy = match egress.upgrading() {
            Some(tls) if upgraded(url).is_some() => tls,
            _ => egress.addr(insecure),
        };
        Ok(vec!["--proxy".to_string(), format!("http://{proxy}")])
    }

    /// The clone is made by the first sync.
    async fn create(&self, _dir: &Path, _url: &str) -> Result<(), RepoError> {
        Ok(())
    }

    async fn sync(
        &self,
        dir: &Path,
        url: &str,
        net: &[String],
        fresh: bool,
    ) -> Result<bool, RepoError> {
        let before = if fresh {
            None
        } else {
            self.info(dir, "tip").await?
        };
        let cloned = dir.join(CLONE).is_file();
        let mut args: Vec<&str> = if cloned {
            vec!["pull", "-R", CLONE]
        } else {
            vec!["clone"]
        };
        args.extend(net.iter().map(String::as_str));
        // Through the proxy, https is sent as http that the proxy sends on over TLS.
        let sent = match upgraded(url) {
            Some(u) if !net.is_empty() => u,
            _ => url.to_string(),
        };
        if !cloned {
            args.extend(["--", sent.as_str(), CLONE]);
        }
        let out = self
            .fossil
            .output(dir, &args, None, Sink::Memory(run::MAX_OUTPUT))
            .await?;
        if !out.status.success() {
            let _ = tokio::fs::remove_file(dir.join(CLONE)).await;
            return Err(RepoError::Unreachable {
                url: redact(url).into_owned(),
                reason: run::summary(&out),
            });
        }
        Ok(fresh || self.info(dir, "tip").await? != before)
    }

    /// Branches (the go command has no branch list for Fossil, but `fossil info` resolves
    /// their names) and `trunk` as the head.
    async fn refs(&self, dir: &Path) -> Result<Refs, RepoError> {
        let out = self
            .fossil
            .run(dir, &["branch", "list", "--all", "-R", CLONE])
            .await?;
        let mut map = BTreeMap::new();
        let mut times = HashMap::new();
        for name in String::from_utf8_lossy(&out).lines() {
            let name = name.trim().trim_start_matches('*').trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                continue;
            }
            if let Some(c) = self.info(dir, name).await? {
                times.insert(c.hash.clone(), c.time);
                if name == "trunk" {
                    map.insert("HEAD".to_string(), c.hash.clone());
                }
                map.insert(format!("refs/heads/{name}"), c.hash);
            }
        }
        Ok(Refs { map, times })
    }
}

#[async_trait]
impl Host for FossilHost {
    fn kind(&self) -> Kind {
        Kind::Fossil
    }

    fn latest_rev(&self) -> &'static str {
        "trunk"
    }

    /// Fossil resolves a hash prefix of at least 4 digits.
    fn is_hash_prefix(&self, rev: &str) -> bool {
        (4..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
    }

    fn origin_ref(&self, full: &str) -> String {
        full.strip_prefix("refs/heads/").unwrap_or(full).to_string()
    }

    async fn commit(&self, dir: &Path, rev: &str) -> Result<Option<Commit>, GitError> {
        self.info(dir, rev).await
    }

    /// The go command lists no Fossil tags.
    async fn merged_tags(&self, _dir: &Path, _hash: &str) -> Result<Vec<String>, GitError> {
        Ok(Vec::new())
    }

    async fn descends_from(&self, _dir: &Path, _hash: &str, _tag: &str) -> Result<bool, GitError> {
        Ok(false)
    }

    /// One `fossil cat -r=REV` per file.
    async fn read_files(
        &self,
        dir: &Path,
        specs: &[(String, String)],
    ) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        super::read_each(&self.fossil, dir, specs, |rev, path| {
            ["cat", "-R", CLONE, &format!("-r={rev}"), "--", path]
                .map(str::to_string)
                .to_vec()
        })
        .await
    }

    /// `fossil zip --name prefix [--include=SUBDIR]`, as the go command runs it (the include
    /// only when the directory has no glob characters).
    async fn archive(
        &self,
        dir: &Path,
        hash: &str,
        subdir: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<(), ArchiveError> {
        let include = format!("--include={subdir}");
        let target = dest.display().to_string();
        let mut args = vec!["zip", "-R", CLONE, "--name", "prefix"];
        if !subdir.is_empty() && !subdir.contains(['*', '?', '[', ']', ',']) {
            args.push(&include);
        }
        args.extend(["--", hash, &target]);
        let out = self
            .fossil
            .output(dir, &args, None, Sink::Memory(1 << 20))
            .await?;
        if !out.status.success() {
            return Err(ArchiveError::Refused(format!(
                "fossil zip: {}",
                run::summary(&out)
            )));
        }
        // fossil writes the file itself: its size is checked after.
        let size = tokio::fs::metadata(dest)
            .await
            .map(|m| m.len())
            .map_err(|e| ArchiveError::Refused(format!("fossil zip: {e}")))?;
        if size > limit {
            return Err(ArchiveError::Run(GitError::TooLarge {
                args: "fossil zip".into(),
                limit,
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_sent_through_the_upgrading_proxy() {
        let cases = [
            ("https://f.test/r", Some("http://f.test:443/r")),
            (
                "https://f.test:8443/a/b?x=1",
                Some("http://f.test:8443/a/b?x=1"),
            ),
            ("HTTPS://F.test/r", Some("http://f.test:443/r")),
            ("https://[::1]:9/r", Some("http://[::1]:9/r")),
            ("http://f.test/r", None),
            ("ssh://f.test/r", None),
            ("not a url", None),
        ];
        for (url, want) in cases {
            assert_eq!(upgraded(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn info_answers() {
        let sha1 = "7f10cec94183d939d5a8a2f7562f6758e723f747";
        let out = format!(
            "hash:         {sha1} 2024-03-04 05:06:07 UTC\nparent:       bc09 2024-03-04 05:06:00 UTC\ntags:         trunk\n"
        );
        assert_eq!(
            parse_info(&out),
            Some(Commit {
                hash: sha1.into(),
                time: 1_709_528_767,
                nanos: 0,
            })
        );
        let old = format!("uuid:         {sha1} 2024-03-04 05:06:07 UTC\n");
        assert!(parse_info(&old).is_some());
        let sha3 = "a".repeat(64);
        for bad in [
            String::new(),
            format!("hash: {sha3} 2024-03-04 05:06:07 UTC"),
            format!("hash: {sha1} 2024-03-04 05:06:07"),
            format!("hash: {sha1} yesterday noon UTC"),
        ] {
            assert_eq!(parse_info(&bad), None, "{bad}");
        }
    }
}
