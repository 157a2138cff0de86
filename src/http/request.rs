//! Turning a request path into a proxy request: percent-decode, split at `/@v/` or `/@latest`,
//! then `!`-unescape and validate the module path and version.

use gomod::module::{self, ModulePath};

/// URLs longer than this are refused before any parsing.
pub const MAX_PATH_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyRequest {
    List(ModulePath),
    Latest(ModulePath),
    /// `.info` of a version or any query (branch, hash, non-canonical version).
    Info(ModulePath, String),
    Mod(ModulePath, String),
    Zip(ModulePath, String),
}

impl ProxyRequest {
    pub fn module(&self) -> &ModulePath {
        match self {
            Self::List(m)
            | Self::Latest(m)
            | Self::Info(m, _)
            | Self::Mod(m, _)
            | Self::Zip(m, _) => m,
        }
    }

    pub fn version(&self) -> Option<&str> {
        match self {
            Self::Info(_, v) | Self::Mod(_, v) | Self::Zip(_, v) => Some(v),
            Self::List(_) | Self::Latest(_) => None,
        }
    }

    /// The endpoint kind, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::List(_) => "list",
            Self::Latest(_) => "latest",
            Self::Info(..) => "info",
            Self::Mod(..) => "mod",
            Self::Zip(..) => "zip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not a proxy URL at all.
    #[error("not found: unknown endpoint")]
    UnknownEndpoint,
    #[error("bad request: {0}")]
    Malformed(String),
}

/// Parses the raw (still percent-encoded) request path.
pub fn parse(raw_path: &str) -> Result<ProxyRequest, RequestError> {
    if raw_path.len() > MAX_PATH_LEN {
        return Err(RequestError::Malformed(format!(
            "path longer than {MAX_PATH_LEN} bytes"
        )));
    }
    let decoded = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| {
            RequestError::Malformed("path is not valid UTF-8 after percent-decoding".into())
        })?;
    if decoded.contains('\0') {
        return Err(RequestError::Malformed("path contains NUL".into()));
    }
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);

    if let Some(escaped) = path.strip_suffix("/@latest") {
        return Ok(ProxyRequest::Latest(module_path(escaped)?));
    }
    let Some((escaped, rest)) = path.split_once("/@v/") else {
        return Err(RequestError::UnknownEndpoint);
    };
    let module = module_path(escaped)?;
    if rest == "list" {
        return Ok(ProxyRequest::List(module));
    }
    let Some((escaped_version, ext)) = rest.rsplit_once('.') else {
        return Err(RequestError::UnknownEndpoint);
    };
    let make = match ext {
        "info" => ProxyRequest::Info,
        "mod" => ProxyRequest::Mod,
        "zip" => ProxyRequest::Zip,
        _ => return Err(RequestError::UnknownEndpoint),
    };
    if escaped_version.is_empty() || escaped_version.contains('/') {
        return Err(RequestError::Malformed(format!(
            "invalid version {escaped_version:?}"
        )));
    }
    let version = module::unescape_version(escaped_version).map_err(|e| {
        RequestError::Malformed(format!("invalid escaped version {escaped_version:?}: {e}"))
    })?;
    // Only what the go command itself could send: a query it cannot escape never came from it.
    module::escape_version(&version).map_err(|e| {
        RequestError::Malformed(format!("invalid version {escaped_version:?}: {e}"))
    })?;
    Ok(make(module, version))
}

fn module_path(escaped: &str) -> Result<ModulePath, RequestError> {
    ModulePath::from_escaped(escaped).map_err(|e| {
        RequestError::Malformed(format!("invalid escaped module path {escaped:?}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(p: &str) -> ModulePath {
        ModulePath::parse(p).unwrap()
    }

    #[test]
    fn routes() {
        let ok: Vec<(&str, ProxyRequest)> = vec![
            (
                "/golang.org/x/text/@v/list",
                ProxyRequest::List(m("golang.org/x/text")),
            ),
            (
                "/golang.org/x/text/@latest",
                ProxyRequest::Latest(m("golang.org/x/text")),
            ),
            (
                "/golang.org/x/text/@v/v0.3.0.info",
                ProxyRequest::Info(m("golang.org/x/text"), "v0.3.0".into()),
            ),
            (
                "/golang.org/x/text/@v/v0.3.0.mod",
                ProxyRequest::Mod(m("golang.org/x/text"), "v0.3.0".into()),
            ),
            (
                "/golang.org/x/text/@v/v0.3.0.zip",
                ProxyRequest::Zip(m("golang.org/x/text"), "v0.3.0".into()),
            ),
            (
                "/github.com/!azure/sdk/@v/list",
                ProxyRequest::List(m("github.com/Azure/sdk")),
            ),
            (
                "/github.com/%21azure/sdk/@v/list",
                ProxyRequest::List(m("github.com/Azure/sdk")),
            ),
            (
                "/example.com/m/@v/v1.0.0-!r!c1.info",
                ProxyRequest::Info(m("example.com/m"), "v1.0.0-RC1".into()),
            ),
            (
                "/example.com/m/@v/v2.0.0+incompatible.zip",
                ProxyRequest::Zip(m("example.com/m"), "v2.0.0+incompatible".into()),
            ),
            (
                "/example.com/m/@v/master.info",
                ProxyRequest::Info(m("example.com/m"), "master".into()),
            ),
            (
                "/example.com/m/@v/v1.0.0%23x.info",
                ProxyRequest::Info(m("example.com/m"), "v1.0.0#x".into()),
            ),
            (
                "/example.com/m/v2/@v/v2.1.0.mod",
                ProxyRequest::Mod(m("example.com/m/v2"), "v2.1.0".into()),
            ),
            (
                "/gopkg.in/yaml.v2/@v/v2.4.0.info",
                ProxyRequest::Info(m("gopkg.in/yaml.v2"), "v2.4.0".into()),
            ),
        ];
        for (path, want) in ok {
            assert_eq!(parse(path), Ok(want), "parse({path:?})");
        }
    }

    #[test]
    fn unknown_endpoints() {
        for path in [
            "/",
            "/favicon.ico",
            "/golang.org/x/text",
            "/golang.org/x/text/@v/",
            "/golang.org/x/text/@v/v1.0.0",
            "/golang.org/x/text/@v/v1.0.0.tar",
            "/golang.org/x/text/@v/list.txt",
        ] {
            assert_eq!(
                parse(path),
                Err(RequestError::UnknownEndpoint),
                "parse({path:?})"
            );
        }
    }

    #[test]
    fn malformed() {
        let long = format!("/example.com/{}/@v/list", "a".repeat(MAX_PATH_LEN));
        for path in [
            "/github.com/Azure/sdk/@v/list",
            "/example.com/../x/@v/list",
            "/example.com/m/@v/v1.0.0%00.info",
            "/example.com/m%00/@v/list",
            "/example.com/m/@v/%ff.info",
            "/example.com/m/@v/V1.0.0.info",
            "/example.com/m/@v/v1.0.0!.info",
            "/example.com/m/@v/.info",
            "/example.com/m/@v/a/b.info",
            "/Example.com/m/@v/list",
            "/nodot/m/@v/list",
            "/example.com/m//x/@latest",
            "/example.com/m/!!x/@v/list",
            "/example.com/m/@v/v1.0.0-%C3%BC.info",
            "/example.com/m/@v/ma%22ster.info",
            "/example.com/m/@v/a%3Fb.info",
            "/example.com/m/@v/..info",
            long.as_str(),
        ] {
            assert!(
                matches!(parse(path), Err(RequestError::Malformed(_))),
                "parse({path:?}) = {:?}",
                parse(path)
            );
        }
    }
}
