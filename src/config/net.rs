//! Address settings of direct mode, parsed once: blocks the guard allows anyway
//! (`direct.allowed_cidrs`) and host address overrides (`direct.hosts`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

/// A CIDR block (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a.trim().parse().map_err(|e| format!("{s:?}: {e}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = if b.is_empty() {
            max
        } else {
            b.trim().parse::<u8>().map_err(|e| format!("{s:?}: {e}"))?
        };
        if bits > max {
            return Err(format!("{s:?}: prefix longer than {max} bits"));
        }
        Ok(Self { addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Comma-separated CIDR blocks (`10.0.0.0/8, fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Cidrs(pub Vec<Cidr>);

impl TryFrom<String> for Cidrs {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(Cidr::parse)
            .collect::<Result<_, _>>()
            .map(Cidrs)
    }
}

impl Cidrs {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

/// The server's public origin (`https://host[:port]`), or none. A path, query, fragment or
/// credentials are refused: an origin is all a browser's `Origin` header can be compared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PublicUrl(Option<String>);

impl PublicUrl {
    /// `scheme://host[:port]`, lower-case, without a trailing slash.
    pub fn origin(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl TryFrom<String> for PublicUrl {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self(None));
        }
        let url = url::Url::parse(s).map_err(|e| format!("public_url {s:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("public_url {s:?}: want http:// or https://"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("public_url may not carry credentials".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "public_url {s:?}: an origin only (scheme, host, port), no path"
            ));
        }
        let origin = url.origin().ascii_serialization();
        if origin == "null" {
            return Err(format!("public_url {s:?}: no host"));
        }
        Ok(Self(Some(origin)))
    }
}

/// Host → address overrides, `host=ip:port` separated by commas (like curl's `--resolve`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HostMap(pub HashMap<String, SocketAddr>);

impl TryFrom<String> for HostMap {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let mut map = HashMap::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (host, addr) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: want host=ip:port"))?;
            let addr: SocketAddr = addr.trim().parse().map_err(|e| format!("{item:?}: {e}"))?;
            map.insert(host.trim().to_ascii_lowercase(), addr);
        }
        Ok(HostMap(map))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blocks_and_hosts() {
        let c = Cidrs::try_from("127.0.0.0/8, fd00::/8".to_string()).unwrap();
        assert!(c.0[0].contains("127.0.0.1".parse().unwrap()));
        assert!(c.0[1].contains("fd12::1".parse().unwrap()));
        assert!(!c.0[0].contains("10.0.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "fd00::/129", "not-an-ip", "10.0.0.0/x"] {
            assert!(Cidrs::try_from(bad.to_string()).is_err(), "{bad}");
        }
        assert_eq!(Cidrs::try_from(String::new()).unwrap(), Cidrs::default());
        let origins = [
            ("", Some(None)),
            (
                "https://Proxy.Example.com",
                Some(Some("https://proxy.example.com")),
            ),
            (
                "https://proxy.example.com/",
                Some(Some("https://proxy.example.com")),
            ),
            (
                "https://proxy.example.com:443",
                Some(Some("https://proxy.example.com")),
            ),
            ("http://10.0.0.1:3000", Some(Some("http://10.0.0.1:3000"))),
            ("https://proxy.example.com/go", None),
            ("https://u:p@proxy.example.com", None),
            ("ftp://proxy.example.com", None),
            ("proxy.example.com", None),
        ];
        for (input, want) in origins {
            let got = PublicUrl::try_from(input.to_string()).ok();
            assert_eq!(got.as_ref().map(|p| p.origin()), want, "{input}");
        }
        let h =
            HostMap::try_from("Vanity.Test=127.0.0.1:8080, b.test=[::1]:1".to_string()).unwrap();
        assert_eq!(h.0["vanity.test"], "127.0.0.1:8080".parse().unwrap());
        assert_eq!(h.0["b.test"], "[::1]:1".parse().unwrap());
        assert!(HostMap::try_from("nohost".to_string()).is_err());
        assert!(HostMap::try_from("a=1.2.3.4".to_string()).is_err());
    }
}
