//! The go command's rules from tags to module versions (its `modfetch.codeRepo`), as pure
//! functions: which tags name versions of a module, which `+incompatible` versions are listed, the
//! base of a pseudo-version, and where in the repository a version's go.mod must be.

use crate::module::{check_path_major, path_major_prefix, split_path_version};
use crate::{pseudo, semver};

/// Where a module lives inside its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The module path.
    pub module: String,
    /// The directory holding the module, relative to the repository root ("" for the root); the
    /// prefix of its version tags. Never includes a `/vN` major subdirectory.
    pub code_dir: String,
    /// The path's major suffix (`/v2`, `.v1`, or "").
    pub path_major: String,
    /// The major of pseudo-versions (`v2` for `/v2`, "" for none).
    pub pseudo_major: String,
    /// Whether the repository root is the module path itself.
    pub root_is_path: bool,
}

impl Layout {
    /// `newCodeRepo`: the layout of `module` in the repository rooted at import path `root`,
    /// with an extra meta-tag `subdir` joined after.
    pub fn new(module: &str, root: &str, subdir: &str) -> Result<Self, String> {
        if !has_path_prefix(module, root) {
            return Err(format!("mismatched repo: found {root} for {module}"));
        }
        let (mut prefix, major) =
            split_path_version(module).ok_or_else(|| format!("invalid module path {module:?}"))?;
        if root == module {
            prefix = module;
        }
        let pseudo_major = path_major_prefix(major).unwrap_or("").to_string();
        let mut code_dir = String::new();
        if root != module {
            if !has_path_prefix(prefix, root) {
                return Err(format!(
                    "repository rooted at {root} cannot contain module {module}"
                ));
            }
            code_dir = prefix[root.len()..].trim_matches('/').to_string();
        }
        let subdir = subdir.trim_matches('/');
        if !subdir.is_empty() {
            code_dir = if code_dir.is_empty() {
                subdir.to_string()
            } else {
                format!("{code_dir}/{subdir}")
            };
        }
        Ok(Self {
            module: module.to_string(),
            code_dir,
            path_major: major.to_string(),
            pseudo_major,
            root_is_path: root == module,
        })
    }

    /// `codeDir + "/"`, or "" at the root.
    pub fn tag_prefix(&self) -> String {
        if self.code_dir.is_empty() {
            String::new()
        } else {
            format!("{}/", self.code_dir)
        }
    }

    /// Whether `+incompatible` versions are possible at all (before looking at go.mod files).
    pub fn may_be_incompatible(&self) -> bool {
        self.code_dir.is_empty() && self.path_major.is_empty()
    }

    /// `revToRev`: the git revision a version or query names.
    pub fn rev_to_rev(&self, rev: &str) -> String {
        if !semver::is_valid(rev) {
            return rev.to_string();
        }
        if pseudo::is_pseudo_version(rev) {
            return pseudo::pseudo_version_rev(rev).unwrap_or_default();
        }
        let rev = rev.strip_suffix("+incompatible").unwrap_or(rev);
        format!("{}{rev}", self.tag_prefix())
    }

    /// The `vN/` directory a major-subdirectory module may live in, if the path allows one.
    pub fn major_dir(&self) -> Option<String> {
        if self.path_major.is_empty() || self.root_is_path || self.path_major.starts_with('.') {
            return None;
        }
        Some(join(&self.code_dir, &self.path_major[1..]))
    }
}

/// `str.HasPathPrefix`.
pub fn has_path_prefix(s: &str, prefix: &str) -> bool {
    match s.strip_prefix(prefix) {
        None => false,
        Some("") => true,
        Some(rest) => prefix.ends_with('/') || rest.starts_with('/'),
    }
}

/// `path.Join` of two clean relative paths.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

fn sort_versions(list: &mut [String]) {
    list.sort_by(|a, b| semver::compare(a, b).then_with(|| a.cmp(b)));
}

/// `Versions` before the go.mod checks: (compatible versions, `+incompatible` candidates without
/// their suffix), both sorted, from tag names.
pub fn tag_versions<'a>(
    layout: &Layout,
    tags: impl IntoIterator<Item = &'a str>,
) -> (Vec<String>, Vec<String>) {
    if layout.module.starts_with("gopkg.in/") && layout.module.ends_with("-unstable") {
        return (Vec::new(), Vec::new());
    }
    let prefix = layout.tag_prefix();
    let (mut list, mut incompatible) = (Vec::new(), Vec::new());
    for tag in tags {
        let Some(v) = tag.strip_prefix(prefix.as_str()) else {
            continue;
        };
        if v.is_empty() || v != crate::module::canonical_version(v) || pseudo::is_pseudo_version(v)
        {
            continue;
        }
        if check_path_major(v, &layout.path_major).is_err() {
            if layout.may_be_incompatible() && semver::major(v) > "v1" {
                incompatible.push(v.to_string());
            }
            continue;
        }
        list.push(v.to_string());
    }
    sort_versions(&mut list);
    sort_versions(&mut incompatible);
    (list, incompatible)
}

/// The versions whose go.mod [`append_incompatible`] may ask about.
pub fn go_mod_questions(list: &[String], incompatible: &[String]) -> Vec<String> {
    let mut out: Vec<String> = list.last().cloned().into_iter().collect();
    for (i, v) in incompatible.iter().enumerate() {
        let last_of_major = incompatible
            .get(i + 1)
            .is_none_or(|next| semver::major(next) != semver::major(v));
        if last_of_major {
            out.push(v.clone());
        }
    }
    out
}

/// `appendIncompatibleVersions`: none if the highest compatible version has a go.mod; else, per
/// major, all or nothing depending on whether that major's highest tag has a go.mod.
pub fn append_incompatible(
    mut list: Vec<String>,
    incompatible: &[String],
    has_go_mod: impl Fn(&str) -> bool,
) -> Vec<String> {
    if incompatible.is_empty() {
        return list;
    }
    if let Some(last) = list.last()
        && has_go_mod(last)
    {
        return list;
    }
    let mut i = 0;
    while i < incompatible.len() {
        let major = semver::major(&incompatible[i]);
        let end = incompatible[i..]
            .iter()
            .position(|v| semver::major(v) != major)
            .map_or(incompatible.len(), |j| i + j);
        if !has_go_mod(&incompatible[end - 1]) {
            list.extend(
                incompatible[i..end]
                    .iter()
                    .map(|v| format!("{v}+incompatible")),
            );
        }
        i = end;
    }
    list
}

/// The `tagToVersion` of `convert`: the version a tag names for this module (with
/// `+incompatible` when allowed), and whether the tag is exactly canonical. "" when the tag does
/// not name a usable version (wrong prefix, invalid, incomplete, pseudo-like, retracted, wrong
/// major).
pub fn tag_to_version(
    layout: &Layout,
    tag: &str,
    is_retracted: &dyn Fn(&str) -> bool,
    can_use_incompatible: bool,
) -> (String, bool) {
    let prefix = layout.tag_prefix();
    let Some(trimmed) = tag.strip_prefix(prefix.as_str()) else {
        return (String::new(), false);
    };
    if pseudo::is_pseudo_version(tag) {
        return (String::new(), false);
    }
    let v = semver::canonical(trimmed);
    if v.is_empty() || !trimmed.starts_with(&v) || is_retracted(&v) {
        return (String::new(), false);
    }
    let canonical = v == trimmed;
    if check_path_major(&v, &layout.path_major).is_err() {
        if can_use_incompatible {
            return (format!("{v}+incompatible"), canonical);
        }
        return (String::new(), false);
    }
    (v, canonical)
}

/// `RecentTag`: among `tags` (names reachable from the commit), the semantically highest one with
/// `prefix` whose version is valid and complete and `allowed`; returned with its prefix.
pub fn recent_tag<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    prefix: &str,
    allowed: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let mut highest: Option<&str> = None;
    for tag in tags {
        let Some(sem) = tag.strip_prefix(prefix) else {
            continue;
        };
        let c = semver::canonical(sem);
        if c.is_empty() || !sem.starts_with(&c) || !allowed(sem) {
            continue;
        }
        if highest.is_none_or(|h| semver::compare(sem, h).is_gt()) {
            highest = Some(sem);
        }
    }
    highest.map(|h| format!("{prefix}{h}"))
}

/// `isMajor`: whether go.mod module path `mpath` fits the path's major suffix.
pub fn is_major(mpath: &str, path_major: &str) -> bool {
    if mpath.is_empty() {
        return false;
    }
    let Some((_, mmajor)) = split_path_version(mpath) else {
        return false;
    };
    if path_major.is_empty() {
        return matches!(path_major_prefix(mmajor), Some("" | "v0" | "v1"));
    }
    if mmajor.is_empty() {
        return false;
    }
    path_major[1..] == mmajor[1..]
}

/// Where a version's module is: the directory and its go.mod (`None`: implicit, synthesized).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub dir: String,
    pub go_mod: Option<Vec<u8>>,
}

/// `findDir` once the candidate go.mod files are read: `file1` is `codeDir/go.mod`, `file2` the
/// major subdirectory's (`None` when absent or not asked).
pub fn find_dir(
    layout: &Layout,
    version: &str,
    file1: Option<Vec<u8>>,
    file2: Option<Vec<u8>>,
) -> Result<Found, String> {
    let path_prefix = split_path_version(&layout.module).map_or("", |(p, _)| p);
    let mpath1 = file1.as_deref().and_then(crate::modfile::module_path);
    let found1 = file1.is_some()
        && mpath1.as_deref().is_some_and(|m| {
            is_major(m, &layout.path_major)
                || (layout.path_major.is_empty() && m.starts_with("gopkg.in/"))
        });
    let file1_name = join(&layout.code_dir, "go.mod");
    if let Some(dir2) = layout.major_dir() {
        let mpath2 = file2.as_deref().and_then(crate::modfile::module_path);
        let found2 = mpath2
            .as_deref()
            .is_some_and(|m| is_major(m, &layout.path_major));
        if found1 && found2 {
            return Err(format!(
                "{path_prefix}/{file1_name} and ...{}/go.mod both have ...{} module paths",
                layout.path_major, layout.path_major
            ));
        }
        if found2 {
            return Ok(Found {
                dir: dir2,
                go_mod: file2,
            });
        }
        if file2.is_some() {
            return Err(match mpath2 {
                None => format!("{path_prefix}/{dir2}/go.mod is missing module path"),
                Some(m) => format!(
                    "{path_prefix}/{dir2}/go.mod has non-...{} module path {m:?}",
                    layout.path_major
                ),
            });
        }
    }
    if found1 {
        return Ok(Found {
            dir: layout.code_dir.clone(),
            go_mod: file1,
        });
    }
    if file1.is_some() {
        return Err(match mpath1 {
            None => format!("{file1_name} is missing module path"),
            Some(m) if !layout.path_major.is_empty() => format!(
                "{file1_name} has non-...{} module path {m:?}",
                layout.path_major
            ),
            Some(m) => format!(
                "{file1_name} has post-{} module path {m:?}",
                semver::major(version)
            ),
        });
    }
    if layout.code_dir.is_empty()
        && (layout.path_major.is_empty() || layout.path_major.starts_with('.'))
    {
        return Ok(Found {
            dir: String::new(),
            go_mod: None,
        });
    }
    if layout.major_dir().is_some() {
        return Err(format!(
            "missing {path_prefix}/go.mod and ...{}/go.mod",
            layout.path_major
        ));
    }
    Err(format!("missing {path_prefix}/go.mod"))
}

/// `LegacyGoMod`: the go.mod served for a module without one.
pub fn legacy_go_mod(module: &str) -> Vec<u8> {
    format!("module {module}\n").into_bytes()
}

#[cfg(test)]
mod tests;
