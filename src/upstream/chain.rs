//! The upstream list in the go command's GOPROXY syntax, and walking it the way the go command does:
//! after an entry followed by `,` the walk goes on only on "not found" (404/410); after `|` it goes
//! on after any error. Like `off`, `direct` ends the list.

use std::fmt;

use async_trait::async_trait;
use url::Url;

use super::{Info, Upstream, UpstreamError, ZipDownload};
use gomod::module::ModulePath;
use gomod::version::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Proxy(Url),
    Direct,
    Off,
}

/// When the walk may move past an entry that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// `,`: only after 404/410.
    OnNotFound,
    /// `|`: after any error.
    OnAnyError,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamList {
    pub entries: Vec<(Entry, Fallback)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListError {
    #[error("no upstream given (use `off` to serve only what is stored)")]
    Empty,
    #[error("invalid upstream {entry:?}: {reason}")]
    Invalid { entry: String, reason: String },
}

impl UpstreamList {
    /// Parses `https://a,https://b|direct`-style lists. Like the go command, an entry without a
    /// scheme gets `https://`, `off` and `direct` end the list, and empty entries are skipped.
    pub fn parse(s: &str) -> Result<Self, ListError> {
        let mut entries = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let (item, sep, tail) = match rest.find([',', '|']) {
                Some(i) => (&rest[..i], &rest[i..i + 1], &rest[i + 1..]),
                None => (rest, ",", ""),
            };
            rest = tail;
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let fallback = if sep == "|" {
                Fallback::OnAnyError
            } else {
                Fallback::OnNotFound
            };
            let entry = match item {
                "off" => Entry::Off,
                "direct" => Entry::Direct,
                _ => Entry::Proxy(parse_proxy_url(item)?),
            };
            let ends = entry == Entry::Off || entry == Entry::Direct;
            entries.push((entry, fallback));
            if ends {
                break;
            }
        }
        if entries.is_empty() {
            return Err(ListError::Empty);
        }
        Ok(Self { entries })
    }
}

fn parse_proxy_url(item: &str) -> Result<Url, ListError> {
    let invalid = |reason: &str| ListError::Invalid {
        entry: item.to_string(),
        reason: reason.to_string(),
    };
    let text = if item.contains(":/") {
        item.to_string()
    } else {
        format!("https://{item}")
    };
    let url = Url::parse(&text).map_err(|e| invalid(&e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(invalid(&format!(
                "unsupported scheme {other:?} (want http or https)"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a proxy URL takes no query or fragment"));
    }
    Ok(url)
}

impl fmt::Display for UpstreamList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (entry, fallback)) in self.entries.iter().enumerate() {
            if i > 0 {
                let prev = self.entries[i - 1].1;
                f.write_str(if prev == Fallback::OnAnyError {
                    "|"
                } else {
                    ","
                })?;
            }
            let _ = fallback;
            match entry {
                Entry::Proxy(u) => write!(
                    f,
                    "{}",
                    crate::redact::redact(u.as_str().trim_end_matches('/'))
                )?,
                Entry::Direct => f.write_str("direct")?,
                Entry::Off => f.write_str("off")?,
            }
        }
        Ok(())
    }
}

/// Upstreams walked in order with GOPROXY fallback rules.
pub struct Chain {
    links: Vec<(Box<dyn Upstream>, Fallback)>,
}

impl Chain {
    pub fn new(links: Vec<(Box<dyn Upstream>, Fallback)>) -> Self {
        Self { links }
    }

    async fn walk<'a, T, F>(&'a self, op: F) -> Result<T, UpstreamError>
    where
        F: Fn(&'a dyn Upstream) -> futures::future::BoxFuture<'a, Result<T, UpstreamError>>,
    {
        // Like the go command, report the most useful error: a real failure over "not found".
        let mut best: Option<UpstreamError> = None;
        for (upstream, fallback) in &self.links {
            match op(upstream.as_ref()).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let go_on = e.is_not_found() || *fallback == Fallback::OnAnyError;
                    best = Some(match best {
                        Some(prev) if !prev.is_not_found() && e.is_not_found() => prev,
                        _ => e,
                    });
                    if !go_on {
                        break;
                    }
                }
            }
        }
        Err(best.unwrap_or_else(|| UpstreamError::NotFound("no upstream configured".into())))
    }
}

#[async_trait]
impl Upstream for Chain {
    fn name(&self) -> String {
        "chain".into()
    }

    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        self.walk(|u| u.list(module)).await
    }

    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        self.walk(|u| u.latest(module)).await
    }

    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        self.walk(|u| u.info(module, query)).await
    }

    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        self.walk(|u| u.go_mod(module, version)).await
    }

    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &std::path::Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        self.walk(|u| u.zip(module, version, dest, max_bytes)).await
    }
}

/// The `off` entry: every request fails, and the walk stops there.
pub struct Off;

#[async_trait]
impl Upstream for Off {
    fn name(&self) -> String {
        "off".into()
    }
    async fn list(&self, _: &ModulePath) -> Result<String, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn latest(&self, _: &ModulePath) -> Result<Info, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn info(&self, _: &ModulePath, _: &str) -> Result<Info, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn go_mod(&self, _: &ModulePath, _: &Version) -> Result<Vec<u8>, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
    async fn zip(
        &self,
        _: &ModulePath,
        _: &Version,
        _: &std::path::Path,
        _: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_lists() {
        let ok: &[(&str, &str, &[Fallback])] = &[
            (
                "https://proxy.golang.org",
                "https://proxy.golang.org",
                &[Fallback::OnNotFound],
            ),
            (
                "proxy.example.com",
                "https://proxy.example.com",
                &[Fallback::OnNotFound],
            ),
            (
                "http://a,http://b",
                "http://a,http://b",
                &[Fallback::OnNotFound, Fallback::OnNotFound],
            ),
            (
                "http://a|http://b",
                "http://a|http://b",
                &[Fallback::OnAnyError, Fallback::OnNotFound],
            ),
            (
                " http://a , ,http://b/x/ ",
                "http://a,http://b/x",
                &[Fallback::OnNotFound, Fallback::OnNotFound],
            ),
            (
                "http://a,off,http://b",
                "http://a,off",
                &[Fallback::OnNotFound, Fallback::OnNotFound],
            ),
            ("off", "off", &[Fallback::OnNotFound]),
            ("direct", "direct", &[Fallback::OnNotFound]),
            (
                "https://proxy.golang.org,direct,http://ignored",
                "https://proxy.golang.org,direct",
                &[Fallback::OnNotFound, Fallback::OnNotFound],
            ),
            (
                "http://127.0.0.1:8080/base",
                "http://127.0.0.1:8080/base",
                &[Fallback::OnNotFound],
            ),
        ];
        for (input, shown, fallbacks) in ok {
            let list =
                UpstreamList::parse(input).unwrap_or_else(|e| panic!("parse({input:?}): {e}"));
            assert_eq!(list.to_string(), *shown, "parse({input:?})");
            let got: Vec<Fallback> = list.entries.iter().map(|(_, f)| *f).collect();
            assert_eq!(got, *fallbacks, "parse({input:?})");
        }
    }

    #[test]
    fn parse_refusals() {
        let bad: &[(&str, ListError)] = &[("", ListError::Empty), (" , |", ListError::Empty)];
        for (input, want) in bad {
            assert_eq!(
                UpstreamList::parse(input).as_ref().err(),
                Some(want),
                "parse({input:?})"
            );
        }
        for input in [
            "ftp://a",
            "file:///srv/proxy",
            "http://a?x=1",
            "http://[::1",
        ] {
            assert!(
                matches!(UpstreamList::parse(input), Err(ListError::Invalid { .. })),
                "parse({input:?}) should be invalid"
            );
        }
    }
}
