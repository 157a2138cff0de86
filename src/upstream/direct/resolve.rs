//! From a module path to its repository, as the go command's `RepoRootForImportPath` does: the
//! known hosting sites, the `.git` VCS-suffix rule, then `?go-get=1` meta-tag discovery. Discovery
//! requests only reach addresses the operator allows: loopback, link-local, private and other
//! special ranges are refused unless listed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::cache::{RemoteGuard, RepoError};
use super::versions::has_path_prefix;
use crate::config::net::Cidr;
use crate::upstream::UpstreamError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vcs {
    Git,
    /// A GOPROXY base URL serving the module.
    Mod,
}

/// Where a module path's code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRoot {
    /// The import path of the repository root.
    pub root: String,
    pub url: String,
    pub vcs: Vcs,
    /// A meta tag's subdirectory (Go 1.25+).
    pub subdir: String,
}

fn word_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

const VCS_SUFFIXES: [&str; 5] = [".git", ".hg", ".svn", ".bzr", ".fossil"];

fn https(root: &str) -> String {
    format!("https://{root}")
}

/// The static table (`vcsPaths`): `None` when no entry's prefix matches; `Some(Err)` when one
/// does but the path does not fit it (the go command stops there).
pub fn known_host(path: &str) -> Option<Result<RepoRoot, String>> {
    let elems: Vec<&str> = path.split('/').collect();
    let git = |root: String| {
        Ok(RepoRoot {
            url: https(&root),
            root,
            vcs: Vcs::Git,
            subdir: String::new(),
        })
    };
    let invalid = |host: &str| Err(format!("invalid {host} import path {path:?}"));
    match elems[0] {
        host @ ("github.com" | "bitbucket.org") => {
            if elems.len() < 3 || !elems[1..].iter().all(|e| word_chars(e)) {
                return Some(invalid(host));
            }
            let repo = elems[2];
            if let Some(s) = VCS_SUFFIXES.iter().find(|s| repo.ends_with(*s)) {
                return Some(Err(format!(
                    "invalid version control suffix in {host} path {path:?}: {s}"
                )));
            }
            Some(git(elems[..3].join("/")))
        }
        "hub.jazz.net" => {
            let ok = elems.len() >= 4
                && elems[1] == "git"
                && elems[2]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && !elems[2].is_empty()
                && elems[3..].iter().all(|e| word_chars(e));
            if !ok {
                return Some(invalid("hub.jazz.net"));
            }
            Some(git(elems[..4].join("/")))
        }
        "git.openstack.org" => {
            if elems.len() < 3 || !elems[1..].iter().all(|e| word_chars(e)) {
                return Some(invalid("git.openstack.org"));
            }
            Some(git(elems[..3].join("/")))
        }
        "git.apache.org" => {
            let Some(i) = elems.iter().position(|e| e.ends_with(".git")) else {
                return Some(invalid("git.apache.org"));
            };
            if i == 0 {
                return Some(invalid("git.apache.org"));
            }
            Some(git(elems[..=i].join("/")))
        }
        "chiselapp.com" => Some(Err(format!(
            "{path}: fossil repositories are not supported"
        ))),
        _ => vcs_suffix(path).map(|r| {
            r.map(|(root, repo)| RepoRoot {
                url: https(&repo),
                root,
                vcs: Vcs::Git,
                subdir: String::new(),
            })
        }),
    }
}

/// The generic `<host>/<path>.git` rule: (root, repository without `.git`).
fn vcs_suffix(path: &str) -> Option<Result<(String, String), String>> {
    let elems: Vec<&str> = path.split('/').collect();
    let host = elems[0];
    let host_ok = host.contains('.')
        && host.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b':'
        });
    if !host_ok || elems.len() < 2 {
        return None;
    }
    for (i, e) in elems.iter().enumerate().skip(1) {
        let e2 = e.strip_prefix('~').unwrap_or(e);
        if !word_chars(e2) {
            return None;
        }
        for s in VCS_SUFFIXES {
            if let Some(stem) = e.strip_suffix(s)
                && !stem.is_empty()
            {
                if s != ".git" {
                    return Some(Err(format!(
                        "{path}: version control system {} is not supported",
                        &s[1..]
                    )));
                }
                let root = elems[..=i].join("/");
                let repo = format!("{}/{stem}", elems[..i].join("/"));
                return Some(Ok((root, repo)));
            }
        }
    }
    None
}

/// One `<meta name="go-import" content="prefix vcs url [subdir]">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaImport {
    pub prefix: String,
    pub vcs: String,
    pub url: String,
    pub subdir: String,
}

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

/// `parseMetaGoImports`: the go-import tags in the page's head (reading stops at `<body>` or
/// `</head>`), `mod` entries first.
pub fn parse_meta_imports(html: &str) -> Vec<MetaImport> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix("!--") {
            rest = r.find("-->").map_or("", |j| &r[j + 3..]);
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end.min(rest.len())..];
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        if name == "body" || name == "/head" {
            break;
        }
        if name != "meta" {
            continue;
        }
        let attrs = parse_attrs(&tag[name_end..]);
        if attrs.get("name").map(String::as_str) != Some("go-import") {
            continue;
        }
        let Some(content) = attrs.get("content") else {
            continue;
        };
        let f: Vec<&str> = content.split_whitespace().collect();
        if f.len() != 3 && f.len() != 4 {
            continue;
        }
        out.push(MetaImport {
            prefix: f[0].to_string(),
            vcs: f[1].to_string(),
            url: f[2].to_string(),
            subdir: f.get(3).map(|s| s.to_string()).unwrap_or_default(),
        });
    }
    // Stable: mod entries before the others.
    out.sort_by_key(|m| m.vcs != "mod");
    out
}

fn parse_attrs(s: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = unescape_html(&s[vs..i]);
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = unescape_html(&s[vs..i]);
            }
        }
        if !name.is_empty() {
            map.entry(name).or_insert(value);
        }
    }
    map
}

/// `matchGoImport`: the tag whose prefix is a path prefix of `path`.
pub fn match_go_import(imports: &[MetaImport], path: &str) -> Result<Option<MetaImport>, String> {
    let mut found: Option<&MetaImport> = None;
    for im in imports {
        if !has_path_prefix(path, &im.prefix) {
            continue;
        }
        if let Some(m) = found {
            if m.vcs == "mod" && im.vcs != "mod" {
                break;
            }
            return Err(format!("multiple meta tags match import path {path:?}"));
        }
        found = Some(im);
    }
    Ok(found.cloned())
}

/// Addresses that are not the public internet: loopback, private, link-local, shared, unique
/// local, multicast, unspecified, documentation and other reserved ranges.
pub fn is_special(ip: IpAddr) -> bool {
    const SPECIAL: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        // IPv4-compatible (deprecated), NAT64 and 6to4 addresses embed an IPv4 address that may
        // be private; site-local is the deprecated private range.
        "::/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    ];
    SPECIAL
        .iter()
        .filter_map(|c| Cidr::parse(c).ok())
        .any(|c| c.contains(ip))
}

/// Which addresses and schemes discovery may use.
#[derive(Debug, Clone, Default)]
pub struct NetPolicy {
    /// Allow every address, special ranges included.
    pub allow_private_networks: bool,
    /// Special-range blocks allowed anyway.
    pub allowed_cidrs: Vec<Cidr>,
    /// GOINSECURE-style globs: module paths whose discovery may use plain http.
    pub insecure: String,
    /// Host → address overrides (like curl's `--resolve`), port included.
    pub hosts: HashMap<String, SocketAddr>,
}

impl NetPolicy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private_networks
            || !is_special(ip)
            || self.allowed_cidrs.iter().any(|c| c.contains(ip))
    }
}

/// Meta-tag discovery over HTTP(S), with the address guard.
pub struct Discovery {
    pub policy: NetPolicy,
    pub timeout: Duration,
}

/// Most bytes of a discovery page read.
const MAX_PAGE: usize = 1 << 20;

impl Discovery {
    /// The addresses `host[:port]` may be reached at, refused if any is not allowed.
    async fn addresses(
        &self,
        host: &str,
        default_port: u16,
    ) -> Result<Vec<SocketAddr>, UpstreamError> {
        let (name, port) = match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
                (h, p.parse().unwrap_or(default_port))
            }
            _ => (host, default_port),
        };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> =
            if let Some(a) = self.policy.hosts.get(&name.to_ascii_lowercase()) {
                vec![*a]
            } else if let Ok(ip) = name.parse::<IpAddr>() {
                vec![SocketAddr::new(ip, port)]
            } else {
                tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|e| {
                        UpstreamError::NotFound(format!(
                            "unrecognized import path: looking up {name}: {e}"
                        ))
                    })?
                    .collect()
            };
        if addrs.is_empty() {
            return Err(UpstreamError::NotFound(format!(
                "unrecognized import path: {name} has no address"
            )));
        }
        if let Some(bad) = addrs.iter().find(|a| !self.policy.allows(a.ip())) {
            return Err(refused(name, bad.ip()));
        }
        Ok(addrs)
    }

    /// Checks that a repository URL a meta tag names points at allowed addresses.
    pub async fn check_url(&self, url: &str) -> Result<(), UpstreamError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| UpstreamError::NotFound(format!("invalid repository URL {url:?}: {e}")))?;
        let Some(host) = parsed.host_str() else {
            return Err(UpstreamError::NotFound(format!(
                "repository URL {url:?} has no host"
            )));
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        self.addresses(host, port).await.map(|_| ())
    }

    /// GETs `https://{path}?go-get=1` (or http when `insecure` matches), following redirects
    /// itself so each hop passes the address guard.
    async fn page(&self, path: &str) -> Result<String, UpstreamError> {
        let insecure = gomod::module::match_prefix_patterns(&self.policy.insecure, path);
        let schemes: &[&str] = if insecure {
            &["https", "http"]
        } else {
            &["https"]
        };
        let mut last = None;
        for scheme in schemes {
            match self
                .fetch(&format!("{scheme}://{path}?go-get=1"), insecure)
                .await
            {
                Ok(body) => return Ok(body),
                Err(e @ UpstreamError::Status { status: 403, .. }) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            UpstreamError::NotFound(format!("unrecognized import path {path:?}"))
        }))
    }

    async fn fetch(&self, start: &str, insecure: bool) -> Result<String, UpstreamError> {
        let mut url = url::Url::parse(start).map_err(|e| {
            UpstreamError::NotFound(format!("unrecognized import path: {start}: {e}"))
        })?;
        for _ in 0..10 {
            let host = url
                .host_str()
                .ok_or_else(|| UpstreamError::NotFound(format!("{url}: no host")))?
                .to_string();
            let default_port = url.port_or_known_default().unwrap_or(443);
            let addrs = self.addresses(&host, default_port).await?;
            let mut request_url = url.clone();
            let pinned = addrs[0];
            if self.policy.hosts.contains_key(&host.to_ascii_lowercase()) && url.port().is_none() {
                let _ = request_url.set_port(Some(pinned.port()));
            }
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(self.timeout)
                .resolve_to_addrs(&host, &addrs)
                .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| UpstreamError::Io(e.to_string()))?;
            let resp = client.get(request_url.as_str()).send().await.map_err(|e| {
                if e.is_timeout() {
                    UpstreamError::Timeout(request_url.to_string())
                } else {
                    UpstreamError::NotFound(format!("unrecognized import path: {request_url}: {e}"))
                }
            })?;
            if resp.status().is_redirection() {
                let Some(loc) = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                else {
                    return Err(UpstreamError::NotFound(format!(
                        "{url}: redirect without location"
                    )));
                };
                let next = url
                    .join(loc)
                    .map_err(|e| UpstreamError::NotFound(format!("{url}: bad redirect: {e}")))?;
                if url.scheme() == "https" && next.scheme() != "https" && !insecure {
                    return Err(UpstreamError::NotFound(format!(
                        "{url}: redirect to insecure {next}"
                    )));
                }
                url = next;
                continue;
            }
            // The status is ignored: a 404 page carrying the tag works.
            let mut body = Vec::new();
            let mut resp = resp;
            while let Some(chunk) = resp.chunk().await.map_err(|e| {
                UpstreamError::NotFound(format!("unrecognized import path: {url}: {e}"))
            })? {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_PAGE {
                    break;
                }
            }
            return Ok(String::from_utf8_lossy(&body).into_owned());
        }
        Err(UpstreamError::NotFound(format!(
            "{start}: too many redirects"
        )))
    }

    /// `repoRootForImportDynamic`.
    pub async fn discover(&self, path: &str) -> Result<RepoRoot, UpstreamError> {
        let page = self.page(path).await?;
        let imports = parse_meta_imports(&page);
        let nf =
            |m: String| UpstreamError::NotFound(format!("unrecognized import path {path:?}: {m}"));
        let Some(im) = match_go_import(&imports, path).map_err(nf)? else {
            return Err(nf("no go-import meta tags".into()));
        };
        if im.prefix != path {
            let page2 = self.page(&im.prefix).await?;
            let again = match_go_import(&parse_meta_imports(&page2), &im.prefix).map_err(nf)?;
            if again.as_ref() != Some(&im) {
                return Err(nf(format!(
                    "meta tags at {} and {} disagree",
                    im.prefix, path
                )));
            }
        }
        let parsed = url::Url::parse(&im.url)
            .map_err(|e| nf(format!("invalid repo URL {:?}: {e}", im.url)))?;
        if parsed.scheme() == "file" {
            return Err(nf(format!("file:// repo URL {:?} is not allowed", im.url)));
        }
        if im.subdir.starts_with('/') || im.subdir.starts_with('-') {
            return Err(nf(format!("invalid subdir {:?}", im.subdir)));
        }
        let vcs = match im.vcs.as_str() {
            "git" => Vcs::Git,
            "mod" => Vcs::Mod,
            other => {
                return Err(nf(format!(
                    "version control system {other} is not supported"
                )));
            }
        };
        self.check_url(&im.url).await?;
        Ok(RepoRoot {
            root: im.prefix,
            url: im.url,
            vcs,
            subdir: im.subdir,
        })
    }
}

/// Where git would go for a URL (after its `insteadOf` rules).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Remote {
    /// A path or `file://`: no network; git's own `protocol.file.allow` decides.
    Local,
    /// `http://` or `https://`: host and port.
    Http {
        secure: bool,
        host: String,
        port: u16,
    },
    /// `ssh://` or `[user@]host:path`: host and port.
    Ssh { host: String, port: u16 },
    /// Anything else (`git://`, `ext::`, helpers): never.
    Other(String),
}

fn classify(url: &str) -> Remote {
    if url.starts_with('/') || url.starts_with("./") || url.starts_with("../") {
        return Remote::Local;
    }
    if let Some((scheme, _)) = url.split_once("://") {
        let Ok(parsed) = url::Url::parse(url) else {
            return Remote::Other(scheme.to_string());
        };
        let host = parsed
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        return match parsed.scheme() {
            "file" => Remote::Local,
            "https" | "http" => Remote::Http {
                secure: parsed.scheme() == "https",
                host,
                port: parsed.port_or_known_default().unwrap_or(443),
            },
            "ssh" | "git+ssh" | "ssh+git" => Remote::Ssh {
                host,
                port: parsed.port().unwrap_or(22),
            },
            other => Remote::Other(other.to_string()),
        };
    }
    // `<transport>::<address>` runs a remote helper.
    if let Some((helper, _)) = url.split_once("::") {
        return Remote::Other(format!("{helper}::"));
    }
    // scp-like syntax: `[user@]host:path`, the colon before any slash.
    match url.split_once(':') {
        Some((head, _)) if !head.contains('/') && !head.is_empty() => {
            let host = head.rsplit_once('@').map_or(head, |(_, h)| h);
            Remote::Ssh {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: 22,
            }
        }
        _ => Remote::Other(url.chars().take(20).collect()),
    }
}

#[async_trait::async_trait]
impl RemoteGuard for Discovery {
    /// Checks every address the host of `url` resolves to; for http(s), pins git's connection to
    /// those addresses (`http.curloptResolve`), so a name that resolves elsewhere a moment later
    /// (DNS rebinding) cannot move it. Ssh resolves the name itself: checked, not pinned.
    async fn confine(&self, url: &str, insecure: bool) -> Result<Vec<String>, RepoError> {
        let refused = |e: UpstreamError| RepoError::Refused(e.to_string());
        match classify(url) {
            Remote::Local => Ok(Vec::new()),
            Remote::Other(scheme) => Err(RepoError::Refused(format!(
                "refused: git may not use {scheme:?} URLs (only https and ssh)"
            ))),
            Remote::Http { secure, host, port } => {
                if !secure && !insecure {
                    return Err(RepoError::Refused(format!(
                        "refused: {host} is reached over plain http; list the module in direct.insecure to allow it"
                    )));
                }
                let addrs = self.addresses(&host, port).await.map_err(refused)?;
                if host.parse::<IpAddr>().is_ok() {
                    return Ok(Vec::new());
                }
                let list: Vec<String> = addrs
                    .iter()
                    .map(|a| match a.ip() {
                        IpAddr::V4(ip) => ip.to_string(),
                        IpAddr::V6(ip) => format!("[{ip}]"),
                    })
                    .collect();
                Ok(vec![format!(
                    "http.curloptResolve={host}:{port}:{}",
                    list.join(",")
                )])
            }
            Remote::Ssh { host, port } => {
                self.addresses(&host, port).await.map_err(refused)?;
                Ok(Vec::new())
            }
        }
    }
}

impl Discovery {
    /// A client for a `mod` meta tag's GOPROXY: only to the checked addresses of its host, no
    /// redirects followed (a redirect is an error, its target never contacted), https unless
    /// `insecure`.
    pub async fn proxy_client(
        &self,
        url: &url::Url,
        insecure: bool,
    ) -> Result<reqwest::Client, UpstreamError> {
        if url.scheme() != "https" && !(insecure && url.scheme() == "http") {
            return Err(UpstreamError::NotFound(format!(
                "refused: mod URL {} is not https",
                crate::redact::redact(url.as_str())
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| UpstreamError::NotFound("mod URL has no host".into()))?
            .to_string();
        let addrs = self
            .addresses(&host, url.port_or_known_default().unwrap_or(443))
            .await?;
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .read_timeout(self.timeout)
            .resolve_to_addrs(host.trim_start_matches('[').trim_end_matches(']'), &addrs)
            .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UpstreamError::Io(e.to_string()))
    }
}

/// The error for an address the operator has not allowed: a 404 with a reason, so the go
/// command shows it and a GOPROXY list may go on.
pub fn refused(host: &str, ip: IpAddr) -> UpstreamError {
    UpstreamError::NotFound(format!(
        "refused: {host} resolves to {ip}, a private or special-purpose address; allow it with direct.allowed_cidrs or direct.allow_private_networks"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::net::{Cidrs, HostMap};

    #[test]
    fn known_hosts() {
        let ok = [
            ("github.com/o/r", "github.com/o/r", "https://github.com/o/r"),
            (
                "github.com/Agora-Test/Caps/sub/v2",
                "github.com/Agora-Test/Caps",
                "https://github.com/Agora-Test/Caps",
            ),
            (
                "bitbucket.org/o/r/x",
                "bitbucket.org/o/r",
                "https://bitbucket.org/o/r",
            ),
            (
                "hub.jazz.net/git/user1/r/x",
                "hub.jazz.net/git/user1/r",
                "https://hub.jazz.net/git/user1/r",
            ),
            (
                "git.apache.org/thrift.git/lib/go",
                "git.apache.org/thrift.git",
                "https://git.apache.org/thrift.git",
            ),
            (
                "example.com/foo.git/bar",
                "example.com/foo.git",
                "https://example.com/foo",
            ),
            (
                "example.com:8080/a/b.git",
                "example.com:8080/a/b.git",
                "https://example.com:8080/a/b",
            ),
        ];
        for (path, root, url) in ok {
            let r = known_host(path).unwrap().unwrap();
            assert_eq!((r.root.as_str(), r.url.as_str()), (root, url), "{path}");
        }
        for path in [
            "github.com/o",
            "github.com/o/r.git",
            "github.com/o/r/a b",
            "hub.jazz.net/git/User/r",
            "example.com/x.hg/y",
        ] {
            assert!(matches!(known_host(path), Some(Err(_))), "{path}");
        }
        for path in ["example.com/x", "golang.org/x/tools"] {
            assert!(known_host(path).is_none(), "{path}");
        }
    }

    #[test]
    fn meta_tags() {
        let html = r#"<!DOCTYPE html><html><head>
<!-- <meta name="go-import" content="c.example/x git https://wrong"> -->
<meta name="go-import" content="example.com/x git https://code.example/x">
<META NAME="go-import" CONTENT='example.com/y mod https://proxy.example'>
<meta name="go-import" content="example.com/z git https://code.example/z sub/dir"/>
<meta name="go-import" content="too few">
<meta name="go-source" content="example.com/x a b c">
</head><body><meta name="go-import" content="example.com/late git https://x"></body></html>"#;
        let got = parse_meta_imports(html);
        let prefixes: Vec<&str> = got.iter().map(|m| m.prefix.as_str()).collect();
        assert_eq!(
            prefixes,
            ["example.com/y", "example.com/x", "example.com/z"]
        );
        assert_eq!(got[2].subdir, "sub/dir");
        assert_eq!(
            match_go_import(&got, "example.com/x/pkg")
                .unwrap()
                .unwrap()
                .url,
            "https://code.example/x"
        );
        assert!(match_go_import(&got, "example.com/q").unwrap().is_none());
        let two = [got[1].clone(), got[1].clone()];
        assert!(match_go_import(&two, "example.com/x").is_err());
    }

    #[test]
    fn remotes() {
        let http = |secure, host: &str, port| Remote::Http {
            secure,
            host: host.into(),
            port,
        };
        let ssh = |host: &str, port| Remote::Ssh {
            host: host.into(),
            port,
        };
        let cases = [
            ("https://github.com/o/r", http(true, "github.com", 443)),
            ("http://h.test:8080/r", http(false, "h.test", 8080)),
            ("https://u:p@h.test/r", http(true, "h.test", 443)),
            ("https://[::1]:9/r", http(true, "::1", 9)),
            ("ssh://git@h.test:2222/r", ssh("h.test", 2222)),
            ("git+ssh://h.test/r", ssh("h.test", 22)),
            ("git@github.com:o/r.git", ssh("github.com", 22)),
            ("file:///srv/r", Remote::Local),
            ("/srv/r", Remote::Local),
            ("git://h.test/r", Remote::Other("git".into())),
            ("ext::sh -c x", Remote::Other("ext::".into())),
            ("fd::17", Remote::Other("fd::".into())),
            ("no-colon", Remote::Other("no-colon".into())),
        ];
        for (url, want) in cases {
            assert_eq!(classify(url), want, "{url}");
        }
    }

    #[tokio::test]
    async fn git_is_confined_to_checked_addresses() {
        let d = Discovery {
            policy: NetPolicy {
                hosts: HostMap::try_from(
                    "ok.test=93.184.216.34:443,in.test=10.0.0.1:443".to_string(),
                )
                .unwrap()
                .0,
                ..Default::default()
            },
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            d.confine("https://ok.test/r", false).await.unwrap(),
            ["http.curloptResolve=ok.test:443:93.184.216.34"]
        );
        assert!(d.confine("file:///srv/r", false).await.unwrap().is_empty());
        for (url, insecure) in [
            ("https://in.test/r", false),
            ("https://127.0.0.1/r", false),
            ("http://ok.test/r", false),
            ("ssh://[::1]/r", false),
            ("git://ok.test/r", true),
            ("ext::sh -c id", true),
        ] {
            assert!(
                matches!(d.confine(url, insecure).await, Err(RepoError::Refused(_))),
                "{url}"
            );
        }
        assert!(d.confine("http://ok.test/r", true).await.is_ok());
    }

    #[test]
    fn address_guard() {
        let p = NetPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "192.168.1.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "::7f00:1",
            "2002:7f00:1::1",
            "fec0::1",
        ] {
            assert!(!p.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111"] {
            assert!(p.allows(ip.parse().unwrap()), "{ip}");
        }
        let p = NetPolicy {
            allowed_cidrs: Cidrs::try_from("127.0.0.0/8, fd00::/8".to_string())
                .unwrap()
                .0,
            ..Default::default()
        };
        assert!(p.allows("127.0.0.1".parse().unwrap()));
        assert!(p.allows("fd12::1".parse().unwrap()));
        assert!(!p.allows("10.0.0.1".parse().unwrap()));
    }
}
