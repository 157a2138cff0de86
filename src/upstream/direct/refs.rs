//! The refs of a cached repository, and what `git ls-remote` says of the remote's.

use std::collections::{BTreeMap, HashMap};

/// The refs of a repository, each peeled to the commit it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs {
    /// Full ref name (`refs/tags/v1.0.0`, `refs/heads/main`, `HEAD`) → commit hash.
    pub map: BTreeMap<String, String>,
    /// Commit hash → committer time (Unix seconds), for the commits refs name.
    pub times: HashMap<String, i64>,
}

impl Refs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// Tag names (without `refs/tags/`) starting with `prefix`.
    pub fn tags(&self, prefix: &str) -> Vec<&str> {
        self.map
            .keys()
            .filter_map(|k| k.strip_prefix("refs/tags/"))
            .filter(|t| t.starts_with(prefix))
            .collect()
    }

    /// Tag names (without `refs/tags/`) naming `commit`, sorted.
    pub fn tags_at(&self, commit: &str) -> Vec<&str> {
        self.map
            .iter()
            .filter(|(_, h)| h.as_str() == commit)
            .filter_map(|(k, _)| k.strip_prefix("refs/tags/"))
            .collect()
    }
}

/// `ls-remote` output as ref → object, keeping branches, tags and `HEAD`, without peeled lines.
pub fn parse_ls_remote(out: &[u8]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in String::from_utf8_lossy(out).lines() {
        let Some((hash, name)) = line.split_once('\t') else {
            continue;
        };
        if name.ends_with("^{}") {
            continue;
        }
        if name == "HEAD" || name.starts_with("refs/heads/") || name.starts_with("refs/tags/") {
            map.insert(name.to_string(), hash.to_string());
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_lines() {
        let out = b"aaa\tHEAD\nbbb\trefs/heads/main\nccc\trefs/tags/v1.0.0\nddd\trefs/tags/v1.0.0^{}\neee\trefs/pull/1/head\n";
        let map = parse_ls_remote(out);
        let got: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("HEAD", "aaa"),
                ("refs/heads/main", "bbb"),
                ("refs/tags/v1.0.0", "ccc")
            ]
        );
    }
}
