//! Policy and private modules: rules per module pattern (deny, allow, direct, and the download
//! mode of a miss), hot-reloaded from a TOML file, and the validation hook asked before a new
//! version is stored. See docs/policy.md.

pub mod gate;
pub mod hook;
pub mod reload;
pub mod rules;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::config::Settings;
pub use gate::Passage;
use gomod::module::ModulePath;
use gomod::version::Version;
use hook::{Hook, HookOptions};
pub use reload::LiveRules;
pub use rules::{Action, Decision, Mode, Rules};

/// The rules file the settings name, checked now and watched from now on (None: no file).
pub fn rules_from(settings: &Settings) -> anyhow::Result<Option<Arc<LiveRules>>> {
    let file = settings.policy.rules_file.trim();
    if file.is_empty() {
        return Ok(None);
    }
    let live = Arc::new(LiveRules::load(Path::new(file)).map_err(anyhow::Error::msg)?);
    live.watch(Duration::from_secs(settings.policy.reload_secs.max(1)));
    Ok(Some(live))
}

/// The validation hook the settings name (None: no hook).
pub fn hook_from(settings: &Settings) -> anyhow::Result<Option<Arc<Hook>>> {
    let p = &settings.policy;
    let url = p.hook_url.expose_secret().trim();
    if url.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(Hook::new(HookOptions {
        url: url.to_string(),
        timeout: Duration::from_secs(p.hook_timeout_secs.max(1)),
        fail_open: p.hook_fail_open,
        cache_ttl: Duration::from_secs(p.hook_cache_secs),
    })?)))
}

/// The redirect target of `path` (`list`, `@latest`, `v1.0.0.info`…) of `module` under `base`.
/// `file` is already escaped for a URL path (`version_file`).
pub fn redirect_url(base: &str, module: &ModulePath, file: &str) -> String {
    let base = base.trim_end_matches('/');
    let module = crate::escape::escaped_path(module);
    if file == "@latest" {
        format!("{base}/{module}/@latest")
    } else {
        format!("{base}/{module}/@v/{file}")
    }
}

/// The escaped file name of a version's `.info`, `.mod` or `.zip`.
pub fn version_file(version: &Version, ext: &str) -> String {
    let v = gomod::module::escape_version(version.as_str())
        .unwrap_or_else(|_| version.as_str().to_string());
    format!("{v}.{ext}")
}
