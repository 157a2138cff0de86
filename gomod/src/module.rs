//! Module paths, import paths and file paths, their `!` case-escaping, and the major-version
//! suffix rules, after `golang.org/x/mod/module`.
//!
//! Error messages read like the go command's (`malformed module path "x": missing dot in first
//! path element`), so they can be shown to Go users as they are.

use std::fmt;
use std::str::FromStr;

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::semver;

mod escape;
mod pattern;

pub use escape::{escape_path, escape_version, unescape_path, unescape_version};
pub use pattern::{match_prefix_patterns, path_match};

/// The three kinds of paths the go command checks, from strictest to loosest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathKind {
    /// A module path (`CheckPath`): ASCII letters, digits and `-._~`, plus the domain rule.
    Module,
    /// An import path (`CheckImportPath`): the module set plus `+`, no domain rule.
    Import,
    /// A file path inside a module zip (`CheckFilePath`): Unicode letters and most punctuation.
    File,
}

impl fmt::Display for PathKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathKind::Module => "module",
            PathKind::Import => "import",
            PathKind::File => "file",
        })
    }
}

/// What exactly is wrong; the `Display` text is the go command's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    #[error("empty string")]
    Empty,
    #[error("leading dash")]
    LeadingDash,
    #[error("double slash")]
    DoubleSlash,
    #[error("trailing slash")]
    TrailingSlash,
    #[error("empty path element")]
    EmptyElement,
    /// An element made only of dots (`.`, `..`).
    #[error("invalid path element {}", go_quote(.0))]
    DotsOnly(String),
    #[error("leading dot in path element")]
    LeadingDot,
    #[error("trailing dot in path element")]
    TrailingDot,
    #[error("invalid char {}", go_quote_char(*.0))]
    InvalidChar(char),
    /// The part of an element before its first dot is a reserved Windows device name.
    #[error("{} disallowed as path element component on Windows", go_quote(.0))]
    WindowsReserved(String),
    /// `~` followed only by digits before the first dot (a Windows short name, `PROGRA~1`).
    #[error("trailing tilde and digits in path element")]
    TildeDigits,
    #[error("leading slash")]
    LeadingSlash,
    #[error("missing dot in first path element")]
    NoDotInFirstElement,
    #[error("leading dash in first path element")]
    LeadingDashInFirstElement,
    #[error("invalid char {} in first path element", go_quote_char(*.0))]
    InvalidCharInFirstElement(char),
    /// A malformed major-version suffix (`/v1`, `/v02`, `/v2.0`, gopkg.in without `.vN`).
    #[error("invalid version")]
    BadMajorSuffix,
    /// The version cannot be used in a URL or file name (`EscapeVersion`).
    #[error("disallowed version string")]
    DisallowedVersion,
    /// Raw uppercase, `!` not followed by `a`-`z`, a trailing `!`, or non-ASCII in an escaped form.
    #[error("bad escape")]
    BadEscape,
    #[error("not a semantic version")]
    NotSemver,
    /// The version's major does not fit the path's major suffix.
    #[error("should be {want}, not {got}")]
    WrongMajor { want: String, got: String },
    /// The unescaped text is itself invalid.
    #[error("{0}")]
    Nested(Box<InvalidPath>),
}

/// What was being checked, which decides the message's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `malformed <kind> path "<input>": <reason>`
    Path(PathKind),
    /// `version "<input>" invalid: <reason>`
    Version,
    /// `invalid escaped module path "<input>"[: <reason>]`
    EscapedPath,
    /// `invalid escaped version "<input>"[: <reason>]`
    EscapedVersion,
    /// `<path>@<input>: invalid version: <reason>` (from [`check`])
    ModuleVersion { path: String },
}

/// Why a module path, import path, file path or version was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPath {
    pub subject: Subject,
    /// The text that was refused (a path, a version, or an escaped form).
    pub input: String,
    pub reason: Reason,
}

impl InvalidPath {
    fn new(subject: Subject, input: &str, reason: Reason) -> Self {
        Self {
            subject,
            input: input.to_string(),
            reason,
        }
    }
}

impl fmt::Display for InvalidPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = &self.input;
        let reason = &self.reason;
        match &self.subject {
            Subject::Path(kind) => write!(f, "malformed {kind} path {}: {reason}", go_quote(input)),
            Subject::Version => write!(f, "version {} invalid: {reason}", go_quote(input)),
            Subject::EscapedPath | Subject::EscapedVersion => {
                let what = if self.subject == Subject::EscapedPath {
                    "module path"
                } else {
                    "version"
                };
                write!(f, "invalid escaped {what} {}", go_quote(input))?;
                if *reason != Reason::BadEscape {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            Subject::ModuleVersion { path } => {
                write!(f, "{path}@{input}: invalid version: {reason}")
            }
        }
    }
}

impl std::error::Error for InvalidPath {}

/// Quotes like Go's `strconv.Quote` (`%q` of a string).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Quotes like Go's `strconv.QuoteRune` (`%q` of a rune).
pub(crate) fn go_quote_char(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
fn go_is_print(c: char) -> bool {
    c == ' '
        || matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter
                | GeneralCategoryGroup::Mark
                | GeneralCategoryGroup::Number
                | GeneralCategoryGroup::Punctuation
                | GeneralCategoryGroup::Symbol
        )
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if go_is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// A module path that passed [`check_path`]. Keeps its case; escape it for URLs and file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(String);

impl ModulePath {
    pub fn parse(s: &str) -> Result<Self, InvalidPath> {
        check_path(s)?;
        Ok(Self(s.to_string()))
    }

    /// Parses the `!`-escaped form used in proxy URLs.
    pub fn from_escaped(s: &str) -> Result<Self, InvalidPath> {
        Ok(Self(unescape_path(s)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `!`-escaped form for proxy URLs and cache file names.
    pub fn escaped(&self) -> String {
        // A checked path is ASCII without `!`, so this is plain case escaping.
        escape::escape_string(&self.0)
    }

    /// Splits into (prefix, major suffix): `example.com/m/v2` gives (`example.com/m`, `/v2`),
    /// `gopkg.in/yaml.v3` gives (`gopkg.in/yaml`, `.v3`), `example.com/m` gives (`example.com/m`, "").
    pub fn split_major(&self) -> (&str, &str) {
        split_path_version(&self.0).unwrap_or((&self.0, ""))
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ModulePath {
    type Err = InvalidPath;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for ModulePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn char_ok(c: char, kind: PathKind) -> bool {
    match kind {
        PathKind::Module => c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'),
        PathKind::Import => c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+'),
        PathKind::File => {
            if c.is_ascii() {
                c.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(c)
            } else {
                // Go's unicode.IsLetter: general categories Lu, Ll, Lt, Lm, Lo.
                c.general_category_group() == GeneralCategoryGroup::Letter
            }
        }
    }
}

/// The rules for one path element (`checkElem`).
fn check_elem(elem: &str, kind: PathKind) -> Result<(), Reason> {
    if elem.is_empty() {
        return Err(Reason::EmptyElement);
    }
    if elem.bytes().all(|b| b == b'.') {
        return Err(Reason::DotsOnly(elem.to_string()));
    }
    if elem.starts_with('.') && kind == PathKind::Module {
        return Err(Reason::LeadingDot);
    }
    if elem.ends_with('.') {
        return Err(Reason::TrailingDot);
    }
    if let Some(c) = elem.chars().find(|&c| !char_ok(c, kind)) {
        return Err(Reason::InvalidChar(c));
    }
    let short = elem.split('.').next().unwrap_or(elem);
    if WINDOWS_RESERVED
        .iter()
        .any(|bad| bad.eq_ignore_ascii_case(short))
    {
        return Err(Reason::WindowsReserved(short.to_string()));
    }
    if kind != PathKind::File
        && let Some(tilde) = short.rfind('~')
    {
        let digits = &short[tilde + 1..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Reason::TildeDigits);
        }
    }
    Ok(())
}

/// The rules for every kind of path (`checkPath`), without the error wrapping.
fn check_any(path: &str, kind: PathKind) -> Result<(), Reason> {
    if path.is_empty() {
        return Err(Reason::Empty);
    }
    if path.starts_with('-') && kind != PathKind::File {
        return Err(Reason::LeadingDash);
    }
    if path.contains("//") {
        return Err(Reason::DoubleSlash);
    }
    if path.ends_with('/') {
        return Err(Reason::TrailingSlash);
    }
    path.split('/').try_for_each(|elem| check_elem(elem, kind))
}

fn check_module_path(path: &str) -> Result<(), Reason> {
    check_any(path, PathKind::Module)?;
    let first = path.split('/').next().unwrap_or(path);
    if first.is_empty() {
        return Err(Reason::LeadingSlash);
    }
    if !first.contains('.') {
        return Err(Reason::NoDotInFirstElement);
    }
    if first.starts_with('-') {
        return Err(Reason::LeadingDashInFirstElement);
    }
    if let Some(c) = first
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
    {
        return Err(Reason::InvalidCharInFirstElement(c));
    }
    if split_path_version(path).is_none() {
        return Err(Reason::BadMajorSuffix);
    }
    Ok(())
}

/// `module.CheckPath`: whether `path` is a valid module path.
pub fn check_path(path: &str) -> Result<(), InvalidPath> {
    check_module_path(path).map_err(|r| InvalidPath::new(Subject::Path(PathKind::Module), path, r))
}

/// `module.CheckImportPath`: whether `path` is a valid import path.
pub fn check_import_path(path: &str) -> Result<(), InvalidPath> {
    check_any(path, PathKind::Import)
        .map_err(|r| InvalidPath::new(Subject::Path(PathKind::Import), path, r))
}

/// `module.CheckFilePath`: whether `path` may name a file in a module zip (relative to its root).
pub fn check_file_path(path: &str) -> Result<(), InvalidPath> {
    check_any(path, PathKind::File)
        .map_err(|r| InvalidPath::new(Subject::Path(PathKind::File), path, r))
}

/// `module.SplitPathVersion`: splits `example.com/m/v2` into (`example.com/m`, `/v2`) and
/// `gopkg.in/yaml.v2` into (`gopkg.in/yaml`, `.v2`). A path without a suffix gives (path, "").
/// `None` if the suffix is malformed: `/v0`, `/v1`, `/v02`, `/v2.1`, or a gopkg.in path not
/// ending in `.vN` or `.vN-unstable`.
pub fn split_path_version(path: &str) -> Option<(&str, &str)> {
    if path.starts_with("gopkg.in/") {
        return split_gopkg_in(path);
    }
    let b = path.as_bytes();
    let mut i = b.len();
    let mut dot = false;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        dot |= b[i - 1] == b'.';
        i -= 1;
    }
    if i <= 1 || i == b.len() || b[i - 1] != b'v' || b[i - 2] != b'/' {
        return Some((path, ""));
    }
    let (prefix, major) = path.split_at(i - 2);
    if dot || major.as_bytes()[2] == b'0' || major == "/v1" {
        return None;
    }
    Some((prefix, major))
}

fn split_gopkg_in(path: &str) -> Option<(&str, &str)> {
    let b = path.as_bytes();
    let mut i = path.strip_suffix("-unstable").unwrap_or(path).len();
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i <= 1 || b[i - 1] != b'v' || b[i - 2] != b'.' {
        return None;
    }
    let (prefix, major) = path.split_at(i - 2);
    if major.len() <= 2 || (major.as_bytes()[2] == b'0' && major != ".v0") {
        return None;
    }
    Some((prefix, major))
}

/// `module.PathMajorPrefix`: the major version a suffix stands for (`/v2` → `v2`, `.v1` and
/// `.v1-unstable` → `v1`, "" → ""), the major used in pseudo-versions. `None` for a suffix that
/// [`split_path_version`] never returns (Go panics there).
pub fn path_major_prefix(path_major: &str) -> Option<&str> {
    if path_major.is_empty() {
        return Some("");
    }
    let trimmed = if path_major.starts_with(".v") {
        path_major.strip_suffix("-unstable").unwrap_or(path_major)
    } else {
        path_major
    };
    let m = trimmed
        .strip_prefix('/')
        .or_else(|| trimmed.strip_prefix('.'))?;
    (semver::major(m) == m).then_some(m)
}

/// `module.CheckPathMajor`: whether version `v` fits the major suffix `path_major` (as returned by
/// [`split_path_version`]). No suffix takes v0, v1 and `+incompatible`; `/vN` and `.vN` take
/// `vN` only, except that `.v1` also takes the old `v0.0.0-` pseudo-versions.
pub fn check_path_major(v: &str, path_major: &str) -> Result<(), InvalidPath> {
    let pm = if path_major.starts_with(".v") {
        path_major.strip_suffix("-unstable").unwrap_or(path_major)
    } else {
        path_major
    };
    if v.starts_with("v0.0.0-") && pm == ".v1" {
        return Ok(());
    }
    let m = semver::major(v);
    let want = if pm.is_empty() {
        if m == "v0" || m == "v1" || semver::build(v) == "+incompatible" {
            return Ok(());
        }
        "v0 or v1"
    } else if let Some(want) = pm.strip_prefix('/').or_else(|| pm.strip_prefix('.')) {
        if m == want {
            return Ok(());
        }
        want
    } else {
        pm
    };
    Err(InvalidPath::new(
        Subject::Version,
        v,
        Reason::WrongMajor {
            want: want.to_string(),
            got: m.to_string(),
        },
    ))
}

/// `module.Check`: the path is valid, the version is valid semver, and the version's major
/// matches the path's suffix.
pub fn check(path: &str, version: &str) -> Result<(), InvalidPath> {
    check_path(path)?;
    let subject = Subject::ModuleVersion {
        path: path.to_string(),
    };
    if !semver::is_valid(version) {
        return Err(InvalidPath::new(subject, version, Reason::NotSemver));
    }
    let (_, major) = split_path_version(path).unwrap_or((path, ""));
    check_path_major(version, major).map_err(|e| InvalidPath::new(subject, version, e.reason))
}

/// `module.CanonicalVersion`: [`semver::canonical`], keeping a `+incompatible` suffix. "" if invalid.
pub fn canonical_version(v: &str) -> String {
    let mut cv = semver::canonical(v);
    if semver::build(v) == "+incompatible" {
        cv.push_str("+incompatible");
    }
    cv
}

#[cfg(test)]
mod tests;
