//! The `!` case escaping of module paths and versions in proxy URLs and file names
//! (`module.EscapePath`, `EscapeVersion` and their inverses).

use super::{InvalidPath, PathKind, Reason, Subject, check_elem, check_path};

/// Case escaping of text known to be ASCII without `!`.
pub(super) fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes [`escape_string`]; `None` for raw uppercase, a bad or trailing `!`, or non-ASCII.
fn unescape_string(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if !c.is_ascii() {
            return None;
        }
        if bang {
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// `module.EscapePath`: the module path with each uppercase letter written `!` + lowercase.
/// Fails if the path is not a valid module path.
pub fn escape_path(path: &str) -> Result<String, InvalidPath> {
    check_path(path)?;
    Ok(escape_string(path))
}

/// `module.UnescapePath`: the module path a `!`-escaped path stands for.
pub fn unescape_path(escaped: &str) -> Result<String, InvalidPath> {
    let path = unescape_string(escaped)
        .ok_or_else(|| InvalidPath::new(Subject::EscapedPath, escaped, Reason::BadEscape))?;
    check_path(&path).map_err(|e| {
        InvalidPath::new(Subject::EscapedPath, escaped, Reason::Nested(Box::new(e)))
    })?;
    Ok(path)
}

/// `module.EscapeVersion`: the version (or any query such as a branch name) escaped for a proxy
/// URL. It must be a valid file-path element without `!`. Go refuses non-ASCII here with an
/// "internal error"; this refuses it as a disallowed version string.
pub fn escape_version(v: &str) -> Result<String, InvalidPath> {
    if check_elem(v, PathKind::File).is_err() || v.contains('!') || !v.is_ascii() {
        return Err(InvalidPath::new(
            Subject::Version,
            v,
            Reason::DisallowedVersion,
        ));
    }
    Ok(escape_string(v))
}

/// `module.UnescapeVersion`: the version a `!`-escaped version stands for. The result is a valid
/// file-path element, not necessarily valid semver (it may be a branch name).
pub fn unescape_version(escaped: &str) -> Result<String, InvalidPath> {
    let v = unescape_string(escaped)
        .ok_or_else(|| InvalidPath::new(Subject::EscapedVersion, escaped, Reason::BadEscape))?;
    // Like Go, the message then quotes the unescaped text.
    check_elem(&v, PathKind::File).map_err(|r| InvalidPath::new(Subject::EscapedVersion, &v, r))?;
    Ok(v)
}
