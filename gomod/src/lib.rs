//! Go's module rules, exactly as the go command applies them: module paths and their `!` escaping,
//! Go's semver and pseudo-versions, the few go.mod directives a proxy reads, module zips and their
//! `h1:` hashes (shaped after golang.org/x/mod), and the go command's own rules for finding a
//! module's repository (`vcs`) and its versions in it (`coderepo`).
//!
//! Nothing here knows about HTTP, databases or async runtimes: the server, the git fetcher and the
//! command line all stand on it.

pub mod coderepo;
pub mod dirhash;
pub mod latest;
pub mod modfile;
pub mod module;
pub mod pseudo;
pub mod semver;
pub mod vcs;
pub mod version;
pub mod zip;
