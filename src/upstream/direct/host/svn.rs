//! Subversion, as the go command's `codehost` drives it: no local copy (every question goes to
//! the server), `svn log --xml` for revisions, `svn cat` for files, and `svn list` + `svn export`
//! for archives. The go command lists no tags for Subversion (its tag pattern keeps the `/` that
//! `svn list` prints after a directory), so every version is a `v0.0.0-` pseudo-version of a
//! revision number; agora answers the same.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;

use super::{ArchiveError, Commit, Host, Kind, Mirror};
use crate::redact::redact;
use crate::upstream::direct::cache::RepoError;
use crate::upstream::direct::confine::RemoteGuard;
use crate::upstream::direct::egress::Egress;
use crate::upstream::direct::git::{self as run, Git, GitError, Sink};
use crate::upstream::direct::guard::Guard;
use crate::upstream::direct::refs::Refs;

/// Where a cache directory keeps the repository URL it stands for (there is nothing else in it).
const URL_FILE: &str = "svn-url";

#[derive(Clone)]
pub struct SvnHost {
    pub svn: Git,
    guard: Arc<Guard>,
    /// Started with the first repository svn reaches over http(s).
    egress: Arc<tokio::sync::OnceCell<Egress>>,
}

#[derive(Debug, Deserialize)]
struct Log {
    logentry: Option<LogEntry>,
}

#[derive(Debug, Deserialize)]
struct LogEntry {
    #[serde(rename = "@revision")]
    revision: u64,
    date: String,
}

#[derive(Debug, Deserialize)]
struct Lists {
    #[serde(default)]
    list: Vec<List>,
}

#[derive(Debug, Deserialize)]
struct List {
    #[serde(default)]
    entry: Vec<ListEntry>,
}

#[derive(Debug, Deserialize)]
struct ListEntry {
    #[serde(rename = "@kind")]
    kind: String,
    name: String,
    #[serde(default)]
    size: u64,
}

/// `svn log -l1 --xml`: the revision and its time (with microseconds, which `.info` keeps).
pub fn parse_log(xml: &str) -> Option<Commit> {
    let log: Log = quick_xml::de::from_str(xml).ok()?;
    let entry = log.logentry?;
    let t =
        time::OffsetDateTime::parse(&entry.date, &time::format_description::well_known::Rfc3339)
            .ok()?;
    Some(Commit {
        hash: entry.revision.to_string(),
        time: t.unix_timestamp(),
        nanos: t.nanosecond(),
    })
}

/// `svn list --xml --incremental`: the files (not directories), with their sizes.
fn parse_list(xml: &str) -> Result<Vec<(String, u64)>, String> {
    let wrapped = format!("<lists>{xml}</lists>");
    let lists: Lists = quick_xml::de::from_str(&wrapped)
        .map_err(|e| format!("unexpected response from svn list --xml: {e}"))?;
    Ok(lists
        .list
        .into_iter()
        .flat_map(|l| l.entry)
        .filter(|e| e.kind == "file")
        .map(|e| (e.name, e.size))
        .collect())
}

/// The URL to check with the guard: svn's own schemes as the http and ssh hosts they name.
fn checkable(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "http" => Some(url.to_string()),
        "svn" => Some(format!("http://{rest}")),
        "svn+ssh" => Some(format!("ssh://{rest}")),
        _ => None,
    }
}

impl SvnHost {
    pub fn new(svn: Git, guard: Arc<Guard>) -> Self {
        Self {
            svn,
            guard,
            egress: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The options every svn command for `url` runs with. Every command reaches the server
    /// (there is no local copy), and svn follows a permanent move by itself, to any scheme: over
    /// http(s) it goes only through agora's egress proxy, which checks every host with the
    /// guard, connects to the checked addresses and answers a redirect with an error (no
    /// host is exempt from the proxy; https is intercepted there so its answers can be seen); plain http only when the repository's own URL is plain
    /// http, which only `direct.insecure` modules may use. Tunnels (`svn+ssh://`) are disabled
    /// for such a repository, so no answer can send svn anywhere through ssh. `svn://` and
    /// `svn+ssh://` repositories have no redirects.
    async fn network(&self, url: &str) -> Result<Vec<String>, String> {
        let scheme = url
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        if scheme != "http" && scheme != "https" {
            return Ok(Vec::new());
        }
        let egress = self
            .egress
            .get_or_try_init(|| Egress::inspecting(self.guard.clone()))
            .await
            .map_err(|e| format!("egress proxy: {e}"))?;
        let proxy = egress.addr(scheme == "http");
        let mut args = Vec::new();
        let mut options = Vec::new();
        if let Some(ca) = egress.ca_file() {
            // The proxy intercepts https: svn trusts its authority, and only it.
            options.push(format!(
                "servers:global:ssl-authority-files={}",
                ca.display()
            ));
            options.push("servers:global:ssl-trust-default-ca=no".to_string());
        }
        for option in options.into_iter().chain([
            format!("servers:global:http-proxy-host={}", proxy.ip()),
            format!("servers:global:http-proxy-port={}", proxy.port()),
            "servers:global:http-proxy-exceptions=".to_string(),
            "config:tunnels:ssh=false".to_string(),
        ]) {
            args.push("--config-option".to_string());
            args.push(option);
        }
        Ok(args)
    }

    /// [`SvnHost::network`] for a command that reads the repository (a cache directory's).
    async fn network_for(&self, url: &str) -> Result<Vec<String>, GitError> {
        self.network(url).await.map_err(|reason| GitError::Spawn {
            args: "svn".into(),
            reason,
        })
    }

    async fn url(dir: &Path) -> Result<String, GitError> {
        tokio::fs::read_to_string(dir.join(URL_FILE))
            .await
            .map(|s| s.trim().to_string())
            .map_err(|e| GitError::Spawn {
                args: "svn".into(),
                reason: format!("{}: {e}", dir.display()),
            })
    }
}

#[async_trait]
impl Mirror for SvnHost {
    fn kind(&self) -> Kind {
        Kind::Svn
    }

    fn present(&self, dir: &Path) -> bool {
        dir.join(URL_FILE).is_file()
    }

    /// svn reaches https and svn+ssh (plain http and `svn://` for modules `direct.insecure`
    /// names), at addresses the guard allows: over http(s) through the egress proxy (see
    /// [`SvnHost::network`]); `svn://` and ssh hosts checked but not pinned.
    async fn confine(
        &self,
        _scratch: &Path,
        url: &str,
        insecure: bool,
        guard: &dyn RemoteGuard,
    ) -> Result<Vec<String>, RepoError> {
        super::check_scheme(
            "svn",
            url,
            insecure,
            &["https", "svn+ssh"],
            &["http", "svn"],
        )?;
        let check = checkable(url)
            .ok_or_else(|| RepoError::Refused(format!("{}: not a URL", redact(url))))?;
        guard.confine(&check, insecure).await?;
        self.network(url).await.map_err(RepoError::Io)
    }

    async fn create(&self, dir: &Path, url: &str) -> Result<(), RepoError> {
        tokio::fs::write(dir.join(URL_FILE), url)
            .await
            .map_err(|e| RepoError::Io(format!("{}: {e}", dir.display())))
    }

    /// Nothing to fetch: one `svn info` tells whether the repository can be read at all.
    async fn sync(
        &self,
        dir: &Path,
        url: &str,
        net: &[String],
        _fresh: bool,
    ) -> Result<bool, RepoError> {
        let mut args: Vec<&str> = net.iter().map(String::as_str).collect();
        args.extend(["info", "--", url]);
        let out = self
            .svn
            .output(dir, &args, None, Sink::Memory(1 << 20))
            .await?;
        if !out.status.success() {
            return Err(RepoError::Unreachable {
                url: redact(url).into_owned(),
                reason: run::summary(&out),
            });
        }
        Ok(false)
    }

    async fn refs(&self, _dir: &Path) -> Result<Refs, RepoError> {
        Ok(Refs::default())
    }
}

#[async_trait]
impl Host for SvnHost {
    fn kind(&self) -> Kind {
        Kind::Svn
    }

    fn latest_rev(&self) -> &'static str {
        "latest"
    }

    /// Revision numbers (a pseudo-version's are zero-padded to 12 digits).
    fn is_hash_prefix(&self, rev: &str) -> bool {
        (1..=20).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_digit())
    }

    fn origin_ref(&self, full: &str) -> String {
        full.to_string()
    }

    fn short(&self, hash: &str) -> String {
        match hash.parse::<u64>() {
            Ok(n) => format!("{n:012}"),
            Err(_) => hash.to_string(),
        }
    }

    fn origin_hash(&self) -> bool {
        false
    }

    /// `svn log -l1 --xml URL@REV` (no peg revision for `latest`): the last revision that
    /// changed something under the URL, as the go command reads it.
    async fn commit(&self, dir: &Path, rev: &str) -> Result<Option<Commit>, GitError> {
        let url = Self::url(dir).await?;
        let net = self.network_for(&url).await?;
        let target = if rev == "latest" {
            url
        } else {
            format!("{url}@{rev}")
        };
        let mut args: Vec<&str> = net.iter().map(String::as_str).collect();
        args.extend(["log", "-l1", "--xml", "--", &target]);
        let out = self
            .svn
            .output(dir, &args, None, Sink::Memory(1 << 20))
            .await?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(parse_log(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Subversion has no tags the go command can read.
    async fn merged_tags(&self, _dir: &Path, _hash: &str) -> Result<Vec<String>, GitError> {
        Ok(Vec::new())
    }

    async fn descends_from(&self, _dir: &Path, _hash: &str, _tag: &str) -> Result<bool, GitError> {
        Ok(false)
    }

    /// One `svn cat URL/FILE@REV` per file.
    async fn read_files(
        &self,
        dir: &Path,
        specs: &[(String, String)],
    ) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        let url = Self::url(dir).await?;
        let net = self.network_for(&url).await?;
        super::read_each(&self.svn, dir, specs, |rev, path| {
            let mut args = net.clone();
            args.extend(["cat".into(), "--".into(), format!("{url}/{path}@{rev}")]);
            args
        })
        .await
    }

    /// `svn list` for the exact file names, `svn export` for the bytes (LF line ends, no
    /// keywords, no externals), then a zip of the listed files under `prefix/`, as the go
    /// command builds it; a file whose exported size differs from its listed size is refused.
    async fn archive(
        &self,
        dir: &Path,
        hash: &str,
        subdir: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<(), ArchiveError> {
        let url = Self::url(dir).await?;
        let net = self.network_for(&url).await?;
        let remote = if subdir.is_empty() {
            url
        } else {
            format!("{url}/{subdir}")
        };
        let mut args: Vec<&str> = net.iter().map(String::as_str).collect();
        args.extend([
            "list",
            "--xml",
            "--incremental",
            "--recursive",
            "--revision",
            hash,
            "--",
            &remote,
        ]);
        let out = self
            .svn
            .output(dir, &args, None, Sink::Memory(run::MAX_OUTPUT))
            .await?;
        if !out.status.success() {
            return Err(ArchiveError::Refused(format!(
                "svn list: {}",
                run::summary(&out)
            )));
        }
        let files =
            parse_list(&String::from_utf8_lossy(&out.stdout)).map_err(ArchiveError::Refused)?;
        let listed: u64 = files.iter().map(|(_, n)| n).sum();
        if listed > limit {
            return Err(ArchiveError::Run(GitError::TooLarge {
                args: "svn list".into(),
                limit,
            }));
        }
        let export = tempfile::Builder::new()
            .prefix("export-")
            .tempdir_in(dir)
            .map_err(|e| ArchiveError::Refused(format!("export directory: {e}")))?;
        let target = export.path().join("tree");
        let target_arg = target.display().to_string();
        let mut args: Vec<&str> = net.iter().map(String::as_str).collect();
        args.extend([
            "export",
            "--quiet",
            "--native-eol",
            "LF",
            "--ignore-externals",
            "--ignore-keywords",
            "--revision",
            hash,
            "--",
            &remote,
            &target_arg,
        ]);
        let out = self
            .svn
            .output(dir, &args, None, Sink::Memory(1 << 20))
            .await?;
        if !out.status.success() {
            return Err(ArchiveError::Refused(format!(
                "svn export: {}",
                run::summary(&out)
            )));
        }
        let (dest, top) = (
            dest.to_path_buf(),
            if subdir.is_empty() {
                "prefix".to_string()
            } else {
                format!("prefix/{subdir}")
            },
        );
        tokio::task::spawn_blocking(move || zip_export(&target, &files, &top, &dest))
            .await
            .map_err(|e| ArchiveError::Refused(format!("zip task: {e}")))?
            .map_err(ArchiveError::Refused)
    }
}

/// Writes the listed files of an export into a zip, each as `top/<name>`.
fn zip_export(tree: &Path, files: &[(String, u64)], top: &str, dest: &Path) -> Result<(), String> {
    let out = std::fs::File::create(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(out));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, size) in files {
        let path = tree.join(name);
        // svn:special files (symlinks) and anything else that is not a plain file are refused,
        // as the go command's size check refuses them.
        let meta = std::fs::symlink_metadata(&path).map_err(|_| {
            format!("file reported by 'svn list', but not written by 'svn export': {name}")
        })?;
        if !meta.is_file() || meta.len() != *size {
            return Err(format!(
                "file size differs between 'svn list' and 'svn export': file {name} listed as {size} bytes, but exported as {} bytes",
                meta.len()
            ));
        }
        zip.start_file(format!("{top}/{name}"), options)
            .map_err(|e| e.to_string())?;
        let mut f = std::fs::File::open(&path).map_err(|e| format!("{name}: {e}"))?;
        std::io::copy(&mut f, &mut zip).map_err(|e| format!("{name}: {e}"))?;
    }
    let mut inner = zip.finish().map_err(|e| e.to_string())?;
    inner.flush().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_answers() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<log>
<logentry
   revision="12">
<author>someone</author>
<date>2017-09-22T01:12:45.861368Z</date>
<msg>a message &amp; more</msg>
</logentry>
</log>"#;
        assert_eq!(
            parse_log(xml),
            Some(Commit {
                hash: "12".into(),
                time: 1_506_042_765,
                nanos: 861_368_000,
            })
        );
        for bad in [
            "",
            "<log></log>",
            "<log><logentry revision=\"x\"><date>2017-09-22T01:12:45Z</date></logentry></log>",
            "<log><logentry revision=\"1\"><date>yesterday</date></logentry></log>",
        ] {
            assert_eq!(parse_log(bad), None, "{bad}");
        }
    }

    #[test]
    fn list_answers() {
        let xml = r#"<list path="svn://h/r/trunk">
<entry kind="dir"><name>sub</name><commit revision="2"><date>x</date></commit></entry>
<entry kind="file"><name>sub/a &amp; b.go</name><size>17</size><commit revision="2"><date>x</date></commit></entry>
<entry kind="file"><name>go.mod</name><size>30</size></entry>
</list>"#;
        assert_eq!(
            parse_list(xml).expect("list"),
            [("sub/a & b.go".to_string(), 17), ("go.mod".to_string(), 30)]
        );
    }

    #[test]
    fn guarded_urls() {
        for (url, want) in [
            ("svn://h:3690/r", Some("http://h:3690/r")),
            ("svn+ssh://u@h/r", Some("ssh://u@h/r")),
            ("https://h/r", Some("https://h/r")),
            ("file:///srv/r", None),
            ("/srv/r", None),
        ] {
            assert_eq!(checkable(url).as_deref(), want, "{url}");
        }
    }
}
