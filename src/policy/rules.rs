//! The rules file: per module pattern (and optional version constraint) an action (`allow`,
//! `deny`, `direct`) and a download mode (`sync`, `async`, `redirect`, `none`).
//!
//! Precedence: rules are tried in file order and the first one that matches decides everything
//! (its action, and its mode or the default mode); when none matches, `[default]` decides. A
//! rule with `versions` only matches requests that name a version, so module-wide requests
//! (`list`, `@latest`, queries) see only the rules without `versions`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use url::Url;

use gomod::module::{match_prefix_patterns, path_match};

/// What a matching rule does with a module version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    /// 403 with the rule's reason.
    Deny,
    /// Allowed, and fetched from version control only, never from a proxy upstream.
    Direct,
}

/// What a miss does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeName {
    Sync,
    Async,
    Redirect,
    None,
}

/// A mode with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Fetch, store, then answer.
    Sync,
    /// Answer 404 now and fill the store in the background.
    Async,
    /// Send the client to this base URL; store nothing.
    Redirect(String),
    /// Serve only what is stored.
    None,
}

/// The verdict for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// For `deny`: the one-line reason the client sees.
    pub reason: String,
    pub mode: Mode,
    /// Index of the deciding rule in the file (None: the default).
    pub rule: Option<usize>,
}

const DEFAULT_REASON: &str = "denied by policy";

/// Version constraints: a string is comparisons that must all hold (`">= v1.2.0, < v2.0.0"`;
/// a bare version means `=`); a list holds when any of its strings does
/// (`["v1.0.0", ">= v1.5.0, < v1.6.0"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    any_of: Vec<Vec<(Op, String)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Versions {
    pub fn parse_list(items: &[String]) -> Result<Self, String> {
        if items.is_empty() {
            return Err("versions: an empty list matches nothing".into());
        }
        let any_of = items
            .iter()
            .map(|s| parse_clauses(s))
            .collect::<Result<_, _>>()?;
        Ok(Self { any_of })
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_list(&[s.to_string()])
    }

    pub fn matches(&self, version: &str) -> bool {
        self.any_of.iter().any(|all| {
            all.iter().all(|(op, v)| {
                let ord = gomod::semver::compare(version, v);
                match op {
                    Op::Eq => ord.is_eq(),
                    Op::Ne => ord.is_ne(),
                    Op::Lt => ord.is_lt(),
                    Op::Le => ord.is_le(),
                    Op::Gt => ord.is_gt(),
                    Op::Ge => ord.is_ge(),
                }
            })
        })
    }
}

fn parse_clauses(s: &str) -> Result<Vec<(Op, String)>, String> {
    let mut out = Vec::new();
    for clause in s.split(',') {
        let clause = clause.trim();
        if clause.is_empty() {
            return Err(format!("versions {s:?}: empty comparison"));
        }
        let (op, rest) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("==", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
        ]
        .iter()
        .find_map(|(p, op)| clause.strip_prefix(p).map(|r| (*op, r)))
        .unwrap_or((Op::Eq, clause));
        let v = rest.trim();
        if !gomod::semver::is_valid(v) {
            return Err(format!(
                "versions {s:?}: {v:?} is not a semantic version like v1.2.3"
            ));
        }
        out.push((op, v.to_string()));
    }
    Ok(out)
}

/// One rule as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    /// GOPRIVATE-style globs, comma-separated.
    pattern: String,
    versions: Option<RawVersions>,
    action: Option<Action>,
    reason: Option<String>,
    mode: Option<ModeName>,
    upstream: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawVersions {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefault {
    action: Option<Action>,
    reason: Option<String>,
    mode: Option<ModeName>,
    upstream: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    upstreams: BTreeMap<String, String>,
    #[serde(default)]
    default: RawDefault,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    pattern: String,
    versions: Option<Versions>,
    action: Action,
    reason: String,
    mode: Option<Mode>,
}

/// A parsed, valid rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    rules: Vec<Rule>,
    default_action: Action,
    default_reason: String,
    default_mode: Mode,
}

/// Why a rules file was refused (as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError(pub String);

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RulesError {}

impl Default for Rules {
    /// Everything allowed, fetched on a miss: no rules file.
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            default_action: Action::Allow,
            default_reason: DEFAULT_REASON.into(),
            default_mode: Mode::Sync,
        }
    }
}

impl Rules {
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            RulesError(format!(
                "invalid rules file: {}",
                e.to_string().trim().replace('\n', " ")
            ))
        })?;
        let mut upstreams = BTreeMap::new();
        for (name, url) in &raw.upstreams {
            let parsed = Url::parse(url)
                .map_err(|e| RulesError(format!("upstreams.{name}: {url:?}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(RulesError(format!(
                    "upstreams.{name}: {url:?}: want an http or https URL"
                )));
            }
            // Redirect targets are sent to every client as a Location header.
            if crate::redact::has_credentials(&parsed) {
                return Err(RulesError(format!(
                    "upstreams.{name}: {:?}: a redirect target is shown to clients, so it must not carry credentials",
                    crate::redact::redact(url)
                )));
            }
            upstreams.insert(name.clone(), url.trim_end_matches('/').to_string());
        }
        let ctx = |i: Option<usize>| match i {
            Some(i) => format!("rule {} ", i + 1),
            None => "default ".to_string(),
        };
        let d = &raw.default;
        let default_action = d.action.unwrap_or(Action::Allow);
        let default_reason = check_reason(d.reason.as_deref(), default_action)
            .map_err(|e| RulesError(format!("{}{e}", ctx(None))))?;
        let default_mode = build_mode(d.mode, d.upstream.as_deref(), default_action, &upstreams)
            .map_err(|e| RulesError(format!("{}{e}", ctx(None))))?
            .unwrap_or(Mode::Sync);
        let mut rules = Vec::with_capacity(raw.rule.len());
        for (i, r) in raw.rule.iter().enumerate() {
            let err = |e: String| RulesError(format!("{}({:?}): {e}", ctx(Some(i)), r.pattern));
            check_pattern(&r.pattern).map_err(err)?;
            let versions = match &r.versions {
                None => None,
                Some(RawVersions::One(s)) => Some(Versions::parse(s).map_err(err)?),
                Some(RawVersions::Many(list)) => Some(Versions::parse_list(list).map_err(err)?),
            };
            let action = r.action.unwrap_or(Action::Allow);
            let reason = check_reason(r.reason.as_deref(), action).map_err(err)?;
            let mode =
                build_mode(r.mode, r.upstream.as_deref(), action, &upstreams).map_err(err)?;
            rules.push(Rule {
                pattern: r.pattern.clone(),
                versions,
                action,
                reason,
                mode,
            });
        }
        Ok(Self {
            rules,
            default_action,
            default_reason,
            default_mode,
        })
    }

    /// Whether some rule fetches direct (so the direct upstream must exist).
    pub fn uses_direct(&self) -> bool {
        self.default_action == Action::Direct
            || self.rules.iter().any(|r| r.action == Action::Direct)
    }

    /// The decision for `module` (at `version`, when the request names one). The first matching
    /// rule wins; a rule with `versions` needs a version to match.
    ///
    /// A module-wide request (no version) is denied only when the module is denied at every
    /// version: if the deciding rule denies but an earlier rule with `versions` allows some
    /// versions of the module, that earlier rule decides instead (`list` then drops the denied
    /// versions, and `@latest` and queries are checked against the version they resolve to).
    /// Whether any version of `module` could be denied: a decision's action is a matching
    /// rule's or the default's, so only a matching deny rule or a denying default can deny.
    pub fn may_deny(&self, module: &str) -> bool {
        self.default_action == Action::Deny
            || self
                .rules
                .iter()
                .any(|r| r.action == Action::Deny && match_prefix_patterns(&r.pattern, module))
    }

    pub fn decide(&self, module: &str, version: Option<&str>) -> Decision {
        let mut partly_allowed = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if !match_prefix_patterns(&rule.pattern, module) {
                continue;
            }
            match (&rule.versions, version) {
                (None, _) => {}
                (Some(c), Some(v)) if c.matches(v) => {}
                (Some(_), None) => {
                    if rule.action != Action::Deny && partly_allowed.is_none() {
                        partly_allowed = Some(i);
                    }
                    continue;
                }
                _ => continue,
            }
            if rule.action == Action::Deny
                && let Some(j) = partly_allowed
            {
                return self.decision_of(j);
            }
            return self.decision_of(i);
        }
        match partly_allowed {
            Some(j) if self.default_action == Action::Deny => self.decision_of(j),
            _ => Decision {
                action: self.default_action,
                reason: self.default_reason.clone(),
                mode: self.default_mode.clone(),
                rule: None,
            },
        }
    }

    fn decision_of(&self, i: usize) -> Decision {
        let rule = &self.rules[i];
        Decision {
            action: rule.action,
            reason: rule.reason.clone(),
            mode: rule
                .mode
                .clone()
                .unwrap_or_else(|| self.default_mode.clone()),
            rule: Some(i),
        }
    }
}

fn check_pattern(pattern: &str) -> Result<(), String> {
    let globs: Vec<&str> = pattern
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    if globs.is_empty() {
        return Err("pattern is empty".into());
    }
    for g in globs {
        if path_match(g, "x").is_none() {
            return Err(format!("pattern {g:?} is not a valid glob"));
        }
    }
    Ok(())
}

fn check_reason(reason: Option<&str>, action: Action) -> Result<String, String> {
    match reason {
        None => Ok(DEFAULT_REASON.into()),
        Some(_) if action != Action::Deny => Err("reason is only for action = \"deny\"".into()),
        Some(r) if r.trim().is_empty() => Err("reason is empty".into()),
        Some(r) if r.contains(['\n', '\r']) || r.chars().any(char::is_control) => {
            Err("reason must be one line of printable text (the go command prints it)".into())
        }
        Some(r) if r.len() > 300 => Err("reason is longer than 300 bytes".into()),
        Some(r) => Ok(r.trim().to_string()),
    }
}

fn build_mode(
    mode: Option<ModeName>,
    upstream: Option<&str>,
    action: Action,
    upstreams: &BTreeMap<String, String>,
) -> Result<Option<Mode>, String> {
    if action == Action::Deny && mode.is_some() {
        return Err("mode has no meaning for action = \"deny\"".into());
    }
    let mode = match (mode, upstream) {
        (None, None) => None,
        (Some(ModeName::Redirect), Some(name)) => match upstreams.get(name) {
            Some(url) => Some(Mode::Redirect(url.clone())),
            None => {
                return Err(format!(
                    "upstream {name:?} is not named in [upstreams] (known: {})",
                    upstreams.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        },
        (Some(ModeName::Redirect), None) => {
            return Err("mode = \"redirect\" needs upstream = \"<name from [upstreams]>\"".into());
        }
        (_, Some(_)) => return Err("upstream is only for mode = \"redirect\"".into()),
        (Some(ModeName::Sync), None) => Some(Mode::Sync),
        (Some(ModeName::Async), None) => Some(Mode::Async),
        (Some(ModeName::None), None) => Some(Mode::None),
    };
    if action == Action::Direct && matches!(mode, Some(Mode::Redirect(_))) {
        return Err("action = \"direct\" cannot redirect to a proxy".into());
    }
    Ok(mode)
}

#[cfg(test)]
mod tests;
