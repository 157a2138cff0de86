//! Go's module rules, exactly as the go command applies them: module paths and their `!` escaping,
//! Go's semver and pseudo-versions, the few go.mod directives a proxy reads, module zips and their
//! `h1:` hashes. Shaped after golang.org/x/mod so each rule has an obvious counterpart there.
//!
//! Nothing here knows about HTTP, databases or async runtimes: the server, the git fetcher and the
//! command line all stand on it.

pub mod dirhash;
pub mod latest;
pub mod modfile;
pub mod module;
pub mod pseudo;
pub mod semver;
pub mod version;
pub mod zip;
