//! Private modules (`private`, GOPRIVATE-style globs): they go to the direct upstream only, so
//! their paths never reach a proxy upstream. Everything else takes the configured chain.

use super::router::Route;
use gomod::module::{ModulePath, match_prefix_patterns};

/// The `private` patterns, as a route to the direct upstream.
pub struct PrivatePatterns(pub String);

impl PrivatePatterns {
    /// Whether `module` matches the private patterns.
    pub fn is_private(&self, module: &ModulePath) -> bool {
        match_prefix_patterns(&self.0, module.as_str())
    }
}

impl Route for PrivatePatterns {
    fn name(&self) -> &'static str {
        "private-split"
    }

    fn direct(&self, module: &ModulePath, _version: Option<&str>) -> bool {
        self.is_private(module)
    }
}
