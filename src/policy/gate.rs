//! What the rules mean for one request: refused (403 with the rule's reason), sent elsewhere
//! (mode `redirect`), or served in a mode.

use bytes::Bytes;

use super::{Action, Decision, LiveRules, Mode};
use crate::error::Error;
use gomod::module::ModulePath;

/// How a request the rules allow is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passage {
    /// From the store, filled (or not) as the mode says.
    Serve(Mode),
    /// From this URL instead (mode `redirect`).
    Redirect(String),
}

impl LiveRules {
    /// A module-wide request (`file` under the module, escaped, for a redirect).
    pub fn for_module(&self, module: &ModulePath, file: &str) -> Result<Passage, Error> {
        let decision = self.decide(module.as_str(), None);
        if decision.action == Action::Deny {
            return Err(Error::denied(format!("{module}: {}", decision.reason)));
        }
        Ok(match decision.mode {
            Mode::Redirect(base) => Passage::Redirect(super::redirect_url(&base, module, file)),
            mode => Passage::Serve(mode),
        })
    }

    /// One version: refused when denied, stored or not.
    pub fn for_version(&self, module: &ModulePath, version: &str) -> Result<Decision, Error> {
        let decision = self.decide(module.as_str(), Some(version));
        if decision.action == Action::Deny {
            return Err(Error::denied(format!(
                "{module}@{version}: {}",
                decision.reason
            )));
        }
        Ok(decision)
    }

    /// Refuses a version the rules deny.
    pub fn refuse_denied(&self, module: &ModulePath, version: &str) -> Result<(), Error> {
        self.for_version(module, version).map(|_| ())
    }

    /// A `list` body without the versions the rules deny.
    pub fn without_denied(&self, module: &ModulePath, body: Bytes) -> Bytes {
        let rules = self.get();
        if !rules.may_deny(module.as_str()) {
            return body;
        }
        let denied = |v: &str| rules.decide(module.as_str(), Some(v)).action == Action::Deny;
        if !body
            .split(|&b| b == b'\n')
            .any(|l| denied(&String::from_utf8_lossy(l)))
        {
            return body;
        }
        let text = String::from_utf8_lossy(&body);
        let kept: String = text
            .lines()
            .filter(|v| !denied(v))
            .map(|v| format!("{v}\n"))
            .collect();
        Bytes::from(kept)
    }
}
