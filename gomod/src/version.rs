//! INTERIM SKELETON: replaced by the real implementation.
use std::fmt;
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(String);
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidVersion(pub String);
impl Version {
    pub fn parse(s: &str) -> Result<Self, InvalidVersion> {
        if crate::semver::is_valid(s) && crate::module::canonical_version(s) == s { Ok(Self(s.to_string())) } else { Err(InvalidVersion(s.to_string())) }
    }
    pub fn as_str(&self) -> &str { &self.0 }
    pub fn is_pseudo(&self) -> bool { false }
}
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
}
