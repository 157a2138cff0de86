//! `GOVCS`: which version control systems may be used for which module paths, as the go command
//! reads it (`cmd/go/internal/vcs`: `parseGOVCS`, `checkGOVCS`). Rules are `pattern:vcs|vcs`,
//! comma-separated; the first whose pattern matches decides; `private` and `public` match by
//! whether the path is private (GOPRIVATE); the go command's default rules
//! (`private:all,public:git|hg`) come after the given ones.

use crate::module::match_prefix_patterns;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    pattern: String,
    /// `None`: `all`.
    allowed: Option<Vec<String>>,
}

/// A parsed `GOVCS` value, the default rules included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Govcs {
    rules: Vec<Rule>,
}

impl Default for Govcs {
    fn default() -> Self {
        Self {
            rules: default_rules(),
        }
    }
}

fn default_rules() -> Vec<Rule> {
    vec![
        Rule {
            pattern: "private".into(),
            allowed: None,
        },
        Rule {
            pattern: "public".into(),
            allowed: Some(vec!["git".into(), "hg".into()]),
        },
    ]
}

impl Govcs {
    /// Parses a `GOVCS` value; the errors are the go command's.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let mut rules: Vec<Rule> = Vec::new();
        if !value.is_empty() {
            let mut seen: Vec<(String, String)> = Vec::new();
            for item in value.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    return Err("empty entry in GOVCS".into());
                }
                let Some((pattern, list)) = item.split_once(':') else {
                    return Err(format!(
                        "malformed entry in GOVCS (missing colon): {item:?}"
                    ));
                };
                let (pattern, list) = (pattern.trim(), list.trim());
                if pattern.is_empty() {
                    return Err(format!("empty pattern in GOVCS: {item:?}"));
                }
                if list.is_empty() {
                    return Err(format!("empty VCS list in GOVCS: {item:?}"));
                }
                let relative = matches!(pattern, "." | "..")
                    || pattern.starts_with("./")
                    || pattern.starts_with("../");
                if relative {
                    return Err(format!(
                        "relative pattern not allowed in GOVCS: {pattern:?}"
                    ));
                }
                if let Some((_, old)) = seen.iter().find(|(p, _)| p == pattern) {
                    return Err(format!(
                        "unreachable pattern in GOVCS: {item:?} after {old:?}"
                    ));
                }
                seen.push((pattern.to_string(), item.to_string()));
                let names: Vec<String> = list.split('|').map(|v| v.trim().to_string()).collect();
                if names.iter().any(String::is_empty) {
                    return Err(format!("empty VCS name in GOVCS: {item:?}"));
                }
                let allowed = (!names.iter().any(|n| n == "all")).then_some(names);
                rules.push(Rule {
                    pattern: pattern.to_string(),
                    allowed,
                });
            }
        }
        rules.extend(default_rules());
        Ok(Self { rules })
    }

    /// Whether `vcs` may be used for the repository at import path `root` (`private`: whether
    /// it is a private module path). No matching rule means no.
    pub fn allows(&self, vcs: &str, root: &str, private: bool) -> bool {
        for rule in &self.rules {
            let matches = match rule.pattern.as_str() {
                "private" => private,
                "public" => !private,
                pattern => match_prefix_patterns(pattern, root),
            };
            if matches {
                return rule
                    .allowed
                    .as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == vcs));
            }
        }
        false
    }

    /// The go command's words for a refusal.
    pub fn refusal(vcs: &str, root: &str, private: bool) -> String {
        let which = if private { "private" } else { "public" };
        format!("GOVCS disallows using {vcs} for {which} {root}; see 'go help vcs'")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decides_like_the_go_command() {
        let cases: &[(&str, &str, &str, bool, bool)] = &[
            // (GOVCS, vcs, root, private, allowed)
            ("", "git", "example.com/r", false, true),
            ("", "hg", "example.com/r", false, true),
            ("", "svn", "example.com/r", false, false),
            ("", "fossil", "example.com/r", true, true),
            ("", "hg", "corp.example/r", true, true),
            ("example.com:git", "hg", "example.com/r", false, false),
            ("example.com:git", "hg", "other.example/r", false, true),
            (
                "*.corp.example:hg|git",
                "hg",
                "src.corp.example/r",
                false,
                true,
            ),
            (
                "*.corp.example:hg|git",
                "svn",
                "src.corp.example/r",
                true,
                false,
            ),
            ("public:all", "svn", "example.com/r", false, true),
            ("private:git", "hg", "corp.example/r", true, false),
            ("example.com:all", "fossil", "example.com/a/b", false, true),
        ];
        for (govcs, vcs, root, private, want) in cases {
            let g = Govcs::parse(govcs).unwrap();
            assert_eq!(g.allows(vcs, root, *private), *want, "{govcs} {vcs} {root}");
        }
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in [
            "example.com",
            ",",
            "example.com:git,",
            ":git",
            "example.com:",
            "example.com:git||hg",
            "example.com:git,example.com:hg",
            "./rel:git",
            "..:git",
        ] {
            assert!(Govcs::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Govcs::refusal("svn", "example.com/r", false),
            "GOVCS disallows using svn for public example.com/r; see 'go help vcs'"
        );
    }
}
