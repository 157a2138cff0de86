//! The checksum database through the proxy (`/sumdb/<name>/…`), for the databases configured in
//! `sumdb.names`.
//!
//! Lookups and tiles are kept in the store: a lookup's record never changes, and a tile's bytes
//! are fixed by its path (a partial tile `.p/W` holds the first W hashes, which never change
//! either). So once fetched they are served from the store, and clients can verify while the
//! upstream is unreachable. `latest` is always asked of the upstream first, and the last copy is
//! served only when the upstream fails. Upstream 404/410 answers (a partial tile the database no
//! longer serves, an unknown module) are passed through unchanged and never stored. Nothing is
//! ever made up: a lookup answer is the upstream's bytes or an error.
//!
//! Lookups of private modules (`private` and `sumdb.private`) are refused with 403 and a reason
//! telling the user to set `GONOSUMDB`, so private paths never reach a public database.
//!
//! [`verify`] checks fetched zips against the first database before they are stored.

pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gomod::module::ModulePath;
use gomod::module::{
    check, escape_path, escape_version, match_prefix_patterns, unescape_path, unescape_version,
};
use gomod::version::Version;

use crate::config::Settings;
use crate::error::Error;
use crate::store::SumdbCache;
use crate::telemetry::metrics::METRICS;
use crate::upstream::UpstreamError;

/// Largest answer accepted from a checksum database (tiles are 8 KiB, lookups far smaller).
const MAX_BODY: usize = 1 << 20;

/// One answer to a `/sumdb/` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumdbAnswer {
    pub status: u16,
    pub body: Bytes,
    /// The bytes can never change (lookups and tiles): cache forever.
    pub immutable: bool,
}

impl SumdbAnswer {
    fn ok(body: Bytes, immutable: bool) -> Self {
        Self {
            status: 200,
            body,
            immutable,
        }
    }
}

/// What a path under a database asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Supported,
    Latest,
    /// A lookup of a valid module path at a canonical version: the path (unescaped, for the
    /// private check) and the lookup's canonical tail (`lookup/<escaped>@<escaped>`), the only
    /// form asked upstream and kept in the store.
    Lookup {
        module: String,
        tail: String,
    },
    Tile,
}

pub struct SumdbProxy {
    /// (name, base URL) of each database.
    dbs: Vec<(String, String)>,
    private: String,
    client: reqwest::Client,
    store: Arc<dyn SumdbCache>,
}

impl SumdbProxy {
    pub fn new(settings: &Settings, client: reqwest::Client, store: Arc<dyn SumdbCache>) -> Self {
        let dbs = settings
            .sumdb
            .names()
            .into_iter()
            .map(|n| {
                let url = settings.sumdb.upstream_of(&n);
                (n, url)
            })
            .collect();
        let private = [settings.private.trim(), settings.sumdb.private.trim()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        Self {
            dbs,
            private,
            client,
            store,
        }
    }

    /// The patterns whose lookups are refused (what users should put in `GONOSUMDB`).
    pub fn private_patterns(&self) -> &str {
        &self.private
    }

    /// Whether lookups of `module` are refused.
    pub fn is_private(&self, module: &str) -> bool {
        !self.private.is_empty() && match_prefix_patterns(&self.private, module)
    }

    /// The first configured database's name, the one zips are verified against.
    pub fn first_name(&self) -> Option<&str> {
        self.dbs.first().map(|(n, _)| n.as_str())
    }

    /// `tail` (`lookup/<escaped module>@<escaped version>`) in the first database, from the store
    /// or else the database (whose 200 is stored), as a client's lookup would be answered.
    pub async fn lookup(&self, tail: &str) -> Result<SumdbAnswer, Error> {
        let (name, base) = self
            .dbs
            .first()
            .ok_or_else(|| Error::not_found("no checksum database configured"))?;
        self.immutable(name, base, tail, "lookup").await
    }

    /// The name of the first database if it has a record of `module@version`; `None` when it
    /// has none, when the module is private (never asked) or when no database is configured. An
    /// error when the database cannot say.
    pub async fn knows(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<String>, Error> {
        let Some(name) = self.first_name() else {
            return Ok(None);
        };
        if self.is_private(module.as_str()) {
            return Ok(None);
        }
        let tail = format!(
            "lookup/{}@{}",
            module.escaped(),
            escape_version(version.as_str()).map_err(|e| Error::invalid(e.to_string()))?
        );
        let answer = self.lookup(&tail).await?;
        match answer.status {
            200 => Ok(Some(name.to_string())),
            404 | 410 => Ok(None),
            s => Err(Error::Upstream(UpstreamError::Status {
                url: format!("checksum database {name}"),
                status: s,
            })),
        }
    }

    /// Answers `path` (the request path, starting with `/sumdb/`).
    pub async fn serve(&self, path: &str) -> Result<SumdbAnswer, Error> {
        let decoded = percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| Error::invalid("sumdb path is not UTF-8"))?;
        let rest = decoded
            .strip_prefix("/sumdb/")
            .ok_or_else(|| Error::not_found("unknown endpoint"))?;
        let Some((name, base, tail)) = self.dbs.iter().find_map(|(name, base)| {
            rest.strip_prefix(name.as_str())
                .and_then(|t| t.strip_prefix('/'))
                .map(|t| (name.as_str(), base.as_str(), t))
        }) else {
            return Err(Error::not_found(
                "this proxy does not serve that checksum database",
            ));
        };
        let endpoint = parse_endpoint(tail)?;
        match endpoint {
            Endpoint::Supported => Ok(SumdbAnswer::ok(Bytes::new(), false)),
            Endpoint::Latest => self.latest(name, base, tail).await,
            Endpoint::Lookup { module, tail } => {
                if self.is_private(&module) {
                    METRICS
                        .sumdb
                        .with_label_values(&["lookup", "private"])
                        .inc();
                    return Err(Error::denied(format!(
                        "{module} is private: this proxy does not ask the checksum database {name} about it; set GONOSUMDB={} (or GOPRIVATE) in your environment",
                        self.private
                    )));
                }
                self.immutable(name, base, &tail, "lookup").await
            }
            Endpoint::Tile => self.immutable(name, base, tail, "tile").await,
        }
    }

    /// Lookups and tiles: the store first, then the upstream (whose 200 is stored).
    async fn immutable(
        &self,
        name: &str,
        base: &str,
        tail: &str,
        kind: &'static str,
    ) -> Result<SumdbAnswer, Error> {
        if let Some(body) = self.store.sumdb_get(name, tail).await? {
            METRICS.sumdb.with_label_values(&[kind, "hit"]).inc();
            return Ok(SumdbAnswer::ok(body, true));
        }
        let answer = self.fetch(base, tail).await?;
        if answer.status == 200 {
            if kind == "lookup" && !looks_like_lookup(&answer.body) {
                return Err(Error::Upstream(UpstreamError::Invalid(format!(
                    "checksum database {name} sent a malformed lookup answer"
                ))));
            }
            self.store.sumdb_put(name, tail, &answer.body).await?;
            METRICS.sumdb.with_label_values(&[kind, "miss"]).inc();
            return Ok(SumdbAnswer::ok(answer.body, true));
        }
        METRICS.sumdb.with_label_values(&[kind, "not_found"]).inc();
        Ok(answer)
    }

    /// `latest`: the upstream first; the last stored copy only when the upstream fails.
    async fn latest(&self, name: &str, base: &str, tail: &str) -> Result<SumdbAnswer, Error> {
        match self.fetch(base, tail).await {
            Ok(answer) if answer.status == 200 => {
                self.store.sumdb_put(name, tail, &answer.body).await?;
                Ok(SumdbAnswer::ok(answer.body, false))
            }
            Ok(answer) => Ok(answer),
            Err(e) => match self.store.sumdb_get(name, tail).await? {
                Some(body) => {
                    tracing::warn!(error = %e, db = name, "checksum database unreachable: serving the stored latest");
                    Ok(SumdbAnswer::ok(body, false))
                }
                None => Err(e),
            },
        }
    }

    /// One upstream request: 200 and 404/410 are answers, anything else an error. `tail` was
    /// checked by [`parse_endpoint`]: it holds no character a URL would read as a delimiter.
    async fn fetch(&self, base: &str, tail: &str) -> Result<SumdbAnswer, Error> {
        let target = format!("{base}/{tail}");
        let url = crate::redact::redact(&target).into_owned();
        let resp = self
            .client
            .get(&target)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        let status = resp.status().as_u16();
        if !matches!(status, 200 | 404 | 410) {
            return Err(Error::Upstream(UpstreamError::Status { url, status }));
        }
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(too_large(&url));
        }
        let body = resp.bytes().await.map_err(|e| transport(&url, e))?;
        if body.len() > MAX_BODY {
            return Err(too_large(&url));
        }
        Ok(SumdbAnswer {
            status,
            body,
            immutable: false,
        })
    }
}

fn transport(url: &str, e: reqwest::Error) -> Error {
    Error::Upstream(if e.is_timeout() {
        UpstreamError::Timeout(url.to_string())
    } else {
        UpstreamError::Transport {
            url: url.to_string(),
            reason: e.without_url().to_string(),
        }
    })
}

fn too_large(url: &str) -> Error {
    Error::Upstream(UpstreamError::Invalid(format!(
        "{url}: answer larger than {MAX_BODY} bytes"
    )))
}

/// `<id>\n<record lines>\n<signed note>`: at least a numeric first line.
fn looks_like_lookup(body: &[u8]) -> bool {
    let first = body.split(|b| *b == b'\n').next().unwrap_or_default();
    !first.is_empty() && first.iter().all(u8::is_ascii_digit) && body.len() > first.len() + 1
}

fn parse_endpoint(tail: &str) -> Result<Endpoint, Error> {
    let bad = || Error::not_found(format!("no checksum database path {tail:?}"));
    match tail {
        "supported" => return Ok(Endpoint::Supported),
        "latest" => return Ok(Endpoint::Latest),
        _ => {}
    }
    if let Some(modver) = tail.strip_prefix("lookup/") {
        return lookup(modver);
    }
    if let Some(tile) = tail.strip_prefix("tile/") {
        return if valid_tile(tile) {
            Ok(Endpoint::Tile)
        } else {
            Err(bad())
        };
    }
    Err(bad())
}

/// `lookup/<escaped module>@<escaped version>`: the database only knows valid module paths at
/// canonical versions (the go command looks up nothing else), so anything else is refused before
/// it can reach the upstream or the store.
fn lookup(modver: &str) -> Result<Endpoint, Error> {
    let bad = |why: String| Error::invalid(format!("lookup: {why}"));
    let (emod, ever) = modver
        .rsplit_once('@')
        .ok_or_else(|| bad("want <module>@<version>".into()))?;
    let module = unescape_path(emod).map_err(|e| bad(e.to_string()))?;
    let version = unescape_version(ever).map_err(|e| bad(e.to_string()))?;
    let version = Version::parse(&version).map_err(|e| bad(e.to_string()))?;
    check(&module, version.as_str()).map_err(|e| bad(e.to_string()))?;
    let tail = format!(
        "lookup/{}@{}",
        escape_path(&module).map_err(|e| bad(e.to_string()))?,
        escape_version(version.as_str()).map_err(|e| bad(e.to_string()))?
    );
    Ok(Endpoint::Lookup { module, tail })
}

/// `H/L/[x###/]*###[.p/W]` with L a number or `data`, as `tlog.Tile.Path` writes them.
fn valid_tile(tile: &str) -> bool {
    let (tile, width) = match tile.split_once(".p/") {
        Some((t, w)) => (t, Some(w)),
        None => (tile, None),
    };
    if let Some(w) = width {
        match w.parse::<u32>() {
            Ok(n) if (1..256).contains(&n) && !w.starts_with('0') => {}
            _ => return false,
        }
    }
    let parts: Vec<&str> = tile.split('/').collect();
    if parts.len() < 3 {
        return false;
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(parts[0]) || !(parts[1] == "data" || digits(parts[1])) {
        return false;
    }
    let index = &parts[2..];
    let last = index.len() - 1;
    index.iter().enumerate().all(|(i, p)| {
        let group = if i == last {
            Some(*p)
        } else {
            p.strip_prefix('x')
        };
        group.is_some_and(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("supported").ok(), Some(Endpoint::Supported));
        assert_eq!(parse_endpoint("latest").ok(), Some(Endpoint::Latest));
        assert_eq!(
            parse_endpoint("lookup/github.com/!azure/x@v1.0.0-!r!c1").ok(),
            Some(Endpoint::Lookup {
                module: "github.com/Azure/x".into(),
                tail: "lookup/github.com/!azure/x@v1.0.0-!r!c1".into()
            })
        );
        for bad in [
            "lookup/github.com/Azure/x@v1.0.0",
            "lookup/nover",
            "lookup/example.com/m@v1.0.0#x",
            "lookup/example.com/m@v1.0.0?x",
            "lookup/example.com/m@v1.0.0%2523",
            "lookup/example.com/m@v1.0",
            "lookup/example.com/m@master",
            "lookup/example.com/m@v2.0.0",
            "lookup/example.com/m/v2@v1.0.0",
            "lookup/example.com/m@v1.0.0/go.mod",
            "lookup/example.com/../m@v1.0.0",
        ] {
            assert!(
                matches!(parse_endpoint(bad), Err(Error::Invalid { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_endpoint("lookup/example.com/m@v2.0.0+incompatible"),
            Ok(Endpoint::Lookup { .. })
        ));
        for ok in [
            "tile/8/0/000",
            "tile/8/0/x001/234",
            "tile/8/1/x001/x002/003.p/17",
            "tile/8/data/000.p/3",
        ] {
            assert_eq!(parse_endpoint(ok).ok(), Some(Endpoint::Tile), "{ok}");
        }
        for bad in [
            "tile/8/0/1",
            "tile/8/0/001/234",
            "tile/8/0/000.p/0",
            "tile/8/0/000.p/256",
            "tile/8/x/000",
            "tile/8/0",
            "tile/8/0/../000",
            "other",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lookups() {
        assert!(looks_like_lookup(
            b"12\nexample.com/m v1.0.0 h1:x\n\ngo.sum database tree\n"
        ));
        assert!(!looks_like_lookup(b"<html>\n"));
        assert!(!looks_like_lookup(b"12"));
    }
}
