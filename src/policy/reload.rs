//! The live rules: read at start (an invalid file stops the start), then checked every few
//! seconds; a changed file replaces the rules only if it is valid as a whole, otherwise the
//! error is logged and the previous rules stay.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::rules::{Decision, Rules, RulesError};

pub struct LiveRules {
    current: RwLock<Arc<Rules>>,
    path: Option<PathBuf>,
    /// The file as `load` read it.
    loaded: Option<Seen>,
}

/// What the last look at the file saw, so an unchanged file is not parsed (or logged) again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    modified: Option<SystemTime>,
    len: u64,
    text: String,
}

impl LiveRules {
    /// No file: everything is allowed and fetched on a miss.
    pub fn fixed(rules: Rules) -> Self {
        Self {
            current: RwLock::new(Arc::new(rules)),
            path: None,
            loaded: None,
        }
    }

    /// Reads and checks `path`; an unreadable or invalid file is an error.
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let read = || -> std::io::Result<Seen> {
            let meta = std::fs::metadata(path)?;
            Ok(Seen {
                modified: meta.modified().ok(),
                len: meta.len(),
                text: std::fs::read_to_string(path)?,
            })
        };
        let seen = read().map_err(|e| RulesError(format!("rules file {}: {e}", path.display())))?;
        let rules = Rules::parse(&seen.text)
            .map_err(|e| RulesError(format!("rules file {}: {e}", path.display())))?;
        Ok(Self {
            current: RwLock::new(Arc::new(rules)),
            path: Some(path.to_path_buf()),
            loaded: Some(seen),
        })
    }

    pub fn get(&self) -> Arc<Rules> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn decide(&self, module: &str, version: Option<&str>) -> Decision {
        self.get().decide(module, version)
    }

    fn set(&self, rules: Rules) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
    }

    /// Checks the file every `every` for as long as `self` lives elsewhere.
    pub fn watch(self: &Arc<Self>, every: Duration) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: the rules file will not be reloaded");
            return;
        };
        let weak = Arc::downgrade(self);
        let every = every.max(Duration::from_millis(100));
        runtime.spawn(async move {
            let mut seen = weak.upgrade().and_then(|live| live.loaded.clone());
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(live) = weak.upgrade() else {
                    return;
                };
                live.check(&path, &mut seen).await;
            }
        });
    }

    async fn check(&self, path: &Path, seen: &mut Option<Seen>) {
        let now = match look(path).await {
            Ok(now) => now,
            Err(e) => {
                if seen.is_some() {
                    tracing::error!(path = %path.display(), error = %e, "cannot read the rules file; keeping the previous rules");
                }
                *seen = None;
                return;
            }
        };
        if seen.as_ref() == Some(&now) {
            return;
        }
        match Rules::parse(&now.text) {
            Ok(rules) => {
                tracing::info!(path = %path.display(), "rules file reloaded");
                self.set(rules);
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "rules file refused; keeping the previous rules");
            }
        }
        *seen = Some(now);
    }
}

async fn look(path: &Path) -> std::io::Result<Seen> {
    let meta = tokio::fs::metadata(path).await?;
    let text = tokio::fs::read_to_string(path).await?;
    Ok(Seen {
        modified: meta.modified().ok(),
        len: meta.len(),
        text,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::policy::rules::Action;

    #[tokio::test]
    async fn reload_swaps_valid_files_and_keeps_the_rules_on_invalid_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(
            &path,
            "[[rule]]\npattern = \"a.example\"\naction = \"deny\"\n",
        )
        .unwrap();
        let live = Arc::new(LiveRules::load(&path).unwrap());
        let action = |live: &LiveRules| live.decide("a.example/m", None).action;
        assert_eq!(action(&live), Action::Deny);

        let mut seen = look(&path).await.ok();
        std::fs::write(
            &path,
            "[[rule]]\npattern = \"a.example\"\naction = \"allow\"\n",
        )
        .unwrap();
        live.check(&path, &mut seen).await;
        assert_eq!(action(&live), Action::Allow);

        // Invalid as a whole: the second rule is wrong, so the first (deny) is not taken either.
        std::fs::write(
            &path,
            "[[rule]]\npattern = \"a.example\"\naction = \"deny\"\n[[rule]]\npattern = \"b\"\nmode = \"soon\"\n",
        )
        .unwrap();
        live.check(&path, &mut seen).await;
        assert_eq!(action(&live), Action::Allow);

        std::fs::remove_file(&path).unwrap();
        live.check(&path, &mut seen).await;
        assert_eq!(action(&live), Action::Allow);

        std::fs::write(&path, "[default]\naction = \"deny\"\n").unwrap();
        live.check(&path, &mut seen).await;
        assert_eq!(action(&live), Action::Deny);

        assert!(LiveRules::load(&dir.path().join("missing.toml")).is_err());
        std::fs::write(&path, "[[rule]]\n").unwrap();
        let err = LiveRules::load(&path).err().unwrap();
        assert!(err.0.contains("rules.toml"), "{err}");
    }

    #[tokio::test]
    async fn the_watcher_picks_up_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, "").unwrap();
        let live = Arc::new(LiveRules::load(&path).unwrap());
        live.watch(Duration::from_millis(100));
        std::fs::write(&path, "[default]\naction = \"deny\"\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while live.decide("x.example", None).action != Action::Deny {
            assert!(std::time::Instant::now() < deadline, "not reloaded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
