//! INTERIM SKELETON: signatures only, replaced by the real implementation.
use std::fmt;

/// Why a module path, import path, file path or version was refused; the message reads like the go command's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPath(pub String);

/// A module path that passed `check_path`. Keeps its case; escape it for URLs and file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(String);

impl ModulePath {
    pub fn parse(s: &str) -> Result<Self, InvalidPath> {
        check_path(s)?;
        Ok(Self(s.to_string()))
    }
    /// Parses the `!`-escaped form used in proxy URLs.
    pub fn from_escaped(s: &str) -> Result<Self, InvalidPath> {
        Self::parse(&unescape_path(s)?)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn escaped(&self) -> String {
        escape_path(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn check_path(p: &str) -> Result<(), InvalidPath> {
    if p.is_empty() {
        Err(InvalidPath("empty".into()))
    } else {
        Ok(())
    }
}
pub fn check_import_path(p: &str) -> Result<(), InvalidPath> {
    check_path(p)
}
pub fn check_file_path(p: &str) -> Result<(), InvalidPath> {
    check_path(p)
}
/// `module.Check`: the path is valid, the version is valid semver, and the version's major matches the path's suffix.
pub fn check(path: &str, version: &str) -> Result<(), InvalidPath> {
    check_path(path)?;
    let _ = version;
    Ok(())
}
pub fn escape_path(p: &str) -> Result<String, InvalidPath> {
    Ok(p.to_string())
}
pub fn unescape_path(p: &str) -> Result<String, InvalidPath> {
    Ok(p.to_string())
}
pub fn escape_version(v: &str) -> Result<String, InvalidPath> {
    Ok(v.to_string())
}
pub fn unescape_version(v: &str) -> Result<String, InvalidPath> {
    Ok(v.to_string())
}
/// Splits `example.com/m/v2` into (`example.com/m`, `/v2`), `gopkg.in/yaml.v2` into (`gopkg.in/yaml`, `.v2`); None if the suffix is malformed.
pub fn split_path_version(p: &str) -> Option<(&str, &str)> {
    Some((p, ""))
}
/// `module.CanonicalVersion`: semver canonical form that keeps `+incompatible`.
pub fn canonical_version(v: &str) -> String {
    v.to_string()
}
/// GOPRIVATE-style matching: comma-separated `path.Match` globs against path prefixes.
pub fn match_prefix_patterns(globs: &str, target: &str) -> bool {
    globs
        .split(',')
        .any(|g| !g.is_empty() && target.starts_with(g))
}
