//! Where a module's code is, by the go command's rules (`cmd/go/internal/vcs`): the static table
//! of code hosts, the VCS-suffix rule, and `<meta name="go-import">` tags. Only the parsing and
//! the rules are here; fetching pages and guarding addresses is the server's job.

mod govcs;
mod hosts;
mod meta;

pub use govcs::Govcs;

pub use hosts::known_host;
pub use meta::{MetaImport, match_go_import, parse_meta_imports};

/// A version control system (or a GOPROXY, for `mod` meta tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vcs {
    Git,
    Hg,
    Svn,
    Fossil,
    /// A GOPROXY base URL serving the module.
    Mod,
}

impl Vcs {
    /// The system a meta tag or a path suffix names, by the go command's names: `None` for
    /// those it does not know (Bazaar left it in Go 1.27).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "git" => Some(Vcs::Git),
            "hg" => Some(Vcs::Hg),
            "svn" => Some(Vcs::Svn),
            "fossil" => Some(Vcs::Fossil),
            "mod" => Some(Vcs::Mod),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Vcs::Git => "git",
            Vcs::Hg => "hg",
            Vcs::Svn => "svn",
            Vcs::Fossil => "fossil",
            Vcs::Mod => "mod",
        }
    }
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
