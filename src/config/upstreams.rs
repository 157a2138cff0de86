//! The upstream list in the go command's GOPROXY syntax: URLs joined by `,` (the next is tried
//! only after 404/410) or `|` (after any error), `direct` and `off` ending the list. Parsed once,
//! when the settings are loaded. URLs may carry credentials: whatever shows the list masks them.

use std::fmt;

use serde::Deserialize;
use url::Url;

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

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct UpstreamList {
    pub entries: Vec<(Entry, Fallback)>,
}

impl TryFrom<String> for UpstreamList {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).map_err(|e| crate::redact::redact(&e.to_string()).into_owned())
    }
}

/// The list as it may be shown: credentials masked.
impl fmt::Debug for UpstreamList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpstreamList({self})")
    }
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
