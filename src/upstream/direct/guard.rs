//! The one guarded way to the network for direct mode. Every address agora, or its git, reaches
//! on a client's behalf passes here: `?go-get=1` discovery, the proxies `mod` meta tags name, and
//! the hosts git contacts. Loopback, link-local, private and other special ranges are refused
//! unless the operator allows them; what was checked is what gets connected to.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::cache::RepoError;
use super::confine::RemoteGuard;
use crate::config::net::Cidr;
use crate::upstream::UpstreamError;
use crate::upstream::trust::Trust;

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

/// The guard: which addresses may be reached, and the timeout of what it connects.
pub struct Guard {
    pub policy: NetPolicy,
    pub timeout: Duration,
    /// The authorities its TLS connections trust.
    pub trust: Trust,
}

impl Guard {
    /// The addresses `host[:port]` may be reached at, refused if any is not allowed.
    pub async fn addresses(
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
impl RemoteGuard for Guard {
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

impl Guard {
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
        self.trust
            .apply(reqwest::Client::builder())
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
        let d = Guard {
            policy: NetPolicy {
                hosts: HostMap::try_from(
                    "ok.test=93.184.216.34:443,in.test=10.0.0.1:443".to_string(),
                )
                .unwrap()
                .0,
                ..Default::default()
            },
            timeout: Duration::from_secs(1),
            trust: Trust::load("").unwrap(),
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
