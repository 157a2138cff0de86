//! The few go.mod directives a proxy reads, parsed like `modfile.ParseLax` (how the go command
//! reads the go.mod files of dependencies): `module` (with its `// Deprecated:` text), `go`, and
//! `retract`. `require` and `ignore` lines are checked for shape, as `ParseLax` does, and then
//! dropped; every other directive and block (`replace`, `exclude`, `tool`, `godebug`, `toolchain`,
//! unknown verbs) is skipped.
//!
//! A file `ParseLax` rejects is an error here too (as far as these rules go), which matters: the
//! zip rules read the `go` line only from a go.mod that parses.

use std::fmt;

use crate::module::canonical_version;
use crate::semver;

/// A go.mod that could not be parsed; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("go.mod:{line}: {message}")]
pub struct ModFileError {
    pub line: usize,
    pub message: String,
}

/// The `module` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDirective {
    pub path: String,
    /// The text of a `Deprecated:` paragraph in the comments on the directive, if any.
    pub deprecated: Option<String>,
}

/// One `retract` directive: the closed interval `[low, high]` (equal for a single version), with
/// canonical versions, and the rationale from its comments ("" if none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retraction {
    pub low: String,
    pub high: String,
    pub rationale: String,
}

/// What a proxy needs from a go.mod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModFile {
    pub module: Option<ModuleDirective>,
    /// The `go` line's version, as written (`1.21`, `1.22.3`, `1.23rc1`).
    pub go: Option<String>,
    pub retract: Vec<Retraction>,
}

impl ModFile {
    /// The module path, if there is a `module` directive.
    pub fn module_path(&self) -> Option<&str> {
        self.module.as_ref().map(|m| m.path.as_str())
    }

    /// Whether some `retract` directive covers `version` (compared by Go's semver precedence).
    pub fn is_retracted(&self, version: &str) -> bool {
        self.retraction(version).is_some()
    }

    /// The rationale of the first `retract` directive covering `version` ("" if it has none),
    /// or `None` if the version is not retracted.
    pub fn retraction_rationale(&self, version: &str) -> Option<&str> {
        self.retraction(version).map(|r| r.rationale.as_str())
    }

    fn retraction(&self, version: &str) -> Option<&Retraction> {
        if !semver::is_valid(version) {
            return None;
        }
        self.retract.iter().find(|r| {
            semver::compare(&r.low, version).is_le() && semver::compare(version, &r.high).is_le()
        })
    }

    /// Whether the `go` line says at least `major.minor` (see [`go_version_ge`]); false without one.
    pub fn go_at_least(&self, major: u32, minor: u32) -> bool {
        self.go
            .as_deref()
            .is_some_and(|g| go_version_ge(g, major, minor))
    }
}

/// A lexical token of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A bare word or a quoted string, exactly as written.
    Word(String),
    /// One of `( ) [ ] { } ,`.
    Punct(char),
}

impl Tok {
    fn is(&self, c: char) -> bool {
        *self == Tok::Punct(c)
    }
}

/// Go's `unicode.IsPrint`, restricted to what an identifier can hold.
fn is_ident_char(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup as G, UnicodeGeneralCategory};
    !matches!(c, ' ' | '(' | ')' | '[' | ']' | '{' | '}' | ',')
        && !c.is_whitespace()
        && matches!(
            c.general_category_group(),
            G::Letter | G::Mark | G::Number | G::Punctuation | G::Symbol
        )
}

/// Splits one line into tokens and its `//` comment (without the slashes).
fn lex_line(line: &str, n: usize) -> Result<(Vec<Tok>, Option<&str>), ModFileError> {
    let err = |message: &str| ModFileError {
        line: n,
        message: message.to_string(),
    };
    let mut toks = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r']);
        let Some(c) = rest.chars().next() else {
            return Ok((toks, None));
        };
        if let Some(comment) = rest.strip_prefix("//") {
            return Ok((toks, Some(comment)));
        }
        if rest.starts_with("/*") {
            return Err(err("mod files must use // comments (not /* */ comments)"));
        }
        match c {
            '(' | ')' | '[' | ']' | '{' | '}' | ',' => {
                toks.push(Tok::Punct(c));
                rest = &rest[1..];
            }
            '"' | '`' => {
                let mut end = None;
                let mut escaped = false;
                for (i, d) in rest.char_indices().skip(1) {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' && c == '"' {
                        escaped = true;
                    } else if d == c {
                        end = Some(i + 1);
                        break;
                    }
                }
                let end = end.ok_or_else(|| err("unexpected newline in string"))?;
                toks.push(Tok::Word(rest[..end].to_string()));
                rest = &rest[end..];
            }
            c if is_ident_char(c) => {
                let mut end = rest.len();
                for (i, d) in rest.char_indices() {
                    if !is_ident_char(d) || rest[i..].starts_with("//") {
                        end = i;
                        break;
                    }
                    if rest[i..].starts_with("/*") {
                        return Err(err("mod files must use // comments (not /* */ comments)"));
                    }
                }
                toks.push(Tok::Word(rest[..end].to_string()));
                rest = &rest[end..];
            }
            c => return Err(err(&format!("unexpected input character {c:?}"))),
        }
    }
}

/// Go's `strconv.Unquote` for a double-quoted string, or the body of a backquoted one.
fn unquote(s: &str) -> Option<String> {
    if let Some(body) = s.strip_prefix('`') {
        return body
            .strip_suffix('`')
            .filter(|b| !b.contains('`'))
            .map(str::to_string);
    }
    let body = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut it = body.chars();
    let hex = |it: &mut std::str::Chars<'_>, n: usize| -> Option<u32> {
        let digits: String = it.by_ref().take(n).collect();
        (digits.len() == n).then_some(())?;
        u32::from_str_radix(&digits, 16).ok()
    };
    while let Some(c) = it.next() {
        if c == '"' {
            return None;
        }
        if c != '\\' {
            flush(&mut out, &mut bytes)?;
            out.push(c);
            continue;
        }
        let e = it.next()?;
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(ch) = simple {
            flush(&mut out, &mut bytes)?;
            out.push(ch);
            continue;
        }
        match e {
            'x' => bytes.push(u8::try_from(hex(&mut it, 2)?).ok()?),
            '0'..='7' => {
                let rest: String = it.by_ref().take(2).collect();
                let digits = format!("{e}{rest}");
                (digits.len() == 3).then_some(())?;
                bytes.push(u8::try_from(u32::from_str_radix(&digits, 8).ok()?).ok()?);
            }
            'u' | 'U' => {
                flush(&mut out, &mut bytes)?;
                out.push(char::from_u32(hex(&mut it, if e == 'u' { 4 } else { 8 })?)?);
            }
            _ => return None,
        }
    }
    flush(&mut out, &mut bytes)?;
    Some(out)
}

/// Appends pending `\x`/octal bytes, which must form valid UTF-8 in a Rust string.
fn flush(out: &mut String, bytes: &mut Vec<u8>) -> Option<()> {
    if !bytes.is_empty() {
        out.push_str(std::str::from_utf8(bytes).ok()?);
        bytes.clear();
    }
    Some(())
}

/// The value of an argument: bare words as they are, quoted strings unquoted.
fn arg_string(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(w) if w.starts_with('"') || w.starts_with('`') => unquote(w),
        Tok::Word(w) => Some(w.clone()),
        Tok::Punct(c) => Some(c.to_string()),
    }
}

/// Joins the `//` comments of a directive into one text, one trimmed line per comment.
fn comment_text(comments: &[&str]) -> String {
    comments
        .iter()
        .map(|c| c.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Go's `Deprecated:` paragraph rule: a paragraph starting `Deprecated:` at the start of the text
/// or after a blank comment line, running to the end or the next blank line.
fn deprecation(text: &str) -> Option<String> {
    let mut start = None;
    if let Some(r) = text.strip_prefix("Deprecated:") {
        start = Some(r);
    } else if let Some(i) = text.find("\n\nDeprecated:") {
        start = Some(&text[i + "\n\nDeprecated:".len()..]);
    }
    let body = start?.trim_start_matches(' ');
    Some(body.split("\n\n").next().unwrap_or(body).to_string())
}

#[derive(Default)]
struct Parser<'a> {
    file: ModFile,
    /// Comments above the current line (top level: since the last blank line).
    pending: Vec<&'a str>,
}

impl<'a> Parser<'a> {
    fn directive(
        &mut self,
        n: usize,
        verb: &str,
        args: &[Tok],
        mut comments: Vec<&'a str>,
        block_comments: &[&'a str],
    ) -> Result<(), ModFileError> {
        let err = |message: String| ModFileError { line: n, message };
        if comments.is_empty() {
            comments = block_comments.to_vec();
        }
        match verb {
            "module" => {
                if self.file.module.is_some() {
                    return Err(err("repeated module statement".into()));
                }
                let [arg] = args else {
                    return Err(err("usage: module module/path".into()));
                };
                let path = arg_string(arg).ok_or_else(|| err("invalid quoted string".into()))?;
                let deprecated = deprecation(&comment_text(&comments));
                self.file.module = Some(ModuleDirective { path, deprecated });
            }
            "go" => {
                if self.file.go.is_some() {
                    return Err(err("repeated go statement".into()));
                }
                let [Tok::Word(v)] = args else {
                    return Err(err("go directive expects exactly one argument".into()));
                };
                let v = if go_version::go_lang(v).is_some() {
                    v.clone()
                } else {
                    lax_go_version(v).ok_or_else(|| {
                        err(format!(
                            "invalid go version '{v}': must match format 1.23.0"
                        ))
                    })?
                };
                self.file.go = Some(v);
            }
            "require" => {
                let [path, version] = args else {
                    return Err(err(format!("usage: {verb} module/path v1.2.3")));
                };
                let path = arg_string(path).ok_or_else(|| err("invalid quoted string".into()))?;
                let v = arg_string(version).unwrap_or_default();
                if canonical_version(&v).is_empty() {
                    return Err(err(format!(
                        "{verb} {path}: version {v:?} invalid: must be of the form v1.2.3"
                    )));
                }
            }
            "ignore" => {
                let [path] = args else {
                    return Err(err(format!("usage: {verb} path")));
                };
                arg_string(path).ok_or_else(|| err("invalid quoted string".into()))?;
            }
            "retract" => {
                // Malformed intervals are dropped silently, as ParseLax does.
                if let Some((low, high)) = retract_interval(args) {
                    let rationale = comment_text(&comments);
                    self.file.retract.push(Retraction {
                        low,
                        high,
                        rationale,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Go's `laxGoVersionRE`: `v?1.N` followed by something that does not start with a digit.
fn lax_go_version(v: &str) -> Option<String> {
    let s = v.strip_prefix('v').unwrap_or(v);
    let dot = s.find('.')?;
    let (major, rest) = (&s[..dot], &s[dot + 1..]);
    let end = rest.bytes().position(|b| !b.is_ascii_digit())?;
    let minor = &rest[..end];
    let ok_num = |n: &str| !n.is_empty() && (n == "0" || !n.starts_with('0'));
    (ok_num(major) && !major.starts_with('0') && ok_num(minor) && end > 0)
        .then(|| format!("{major}.{minor}"))
}

fn canonical_arg(t: &Tok) -> Option<String> {
    let v = canonical_version(&arg_string(t)?);
    (!v.is_empty()).then_some(v)
}

/// `v` or `[low, high]`, canonicalised; trailing tokens are ignored (lax mode).
fn retract_interval(args: &[Tok]) -> Option<(String, String)> {
    match args {
        [open, low, comma, high, close, ..] if open.is('[') && comma.is(',') && close.is(']') => {
            Some((canonical_arg(low)?, canonical_arg(high)?))
        }
        [first, ..] if !first.is('[') => {
            let v = canonical_arg(first)?;
            Some((v.clone(), v))
        }
        _ => None,
    }
}

/// Parses go.mod bytes the way the go command parses dependencies' go.mod files (`ParseLax`).
pub fn parse_lax(data: &[u8]) -> Result<ModFile, ModFileError> {
    let text = std::str::from_utf8(data).map_err(|e| ModFileError {
        line: 1 + data[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        message: "invalid UTF-8 encoding".into(),
    })?;
    let mut p = Parser::default();
    // (verb or None for a block of unknown shape, comments on the block, starting line)
    let mut block: Option<(Option<String>, Vec<&str>, usize)> = None;
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let (toks, comment) = lex_line(line, n)?;
        let syntax = |what: &str| ModFileError {
            line: n,
            message: format!("syntax error ({what})"),
        };
        if toks.is_empty() {
            match comment {
                Some(c) => p.pending.push(c),
                // A blank line separates free-standing comments from the next directive at top
                // level; inside a block, comments above a member stay attached to it.
                None if block.is_none() => p.pending.clear(),
                None => {}
            }
            continue;
        }
        let mut comments = std::mem::take(&mut p.pending);
        comments.extend(comment);
        if let Some((verb, block_comments, _)) = &block {
            // Inside a block, `)` first on a line closes it; any other line is a member whose
            // tokens (parentheses included) are the arguments of the block's verb.
            if toks[0].is(')') {
                if toks.len() > 1 {
                    return Err(syntax("expected newline after closing paren"));
                }
                block = None;
            } else if let Some(verb) = verb {
                p.directive(n, verb, &toks, comments, block_comments)?;
            }
            continue;
        }
        // At top level, a line ending in `(` opens a block and one ending in `( )` is an empty
        // block; parentheses anywhere else are ordinary tokens.
        let len = toks.len();
        if len >= 3 && toks[len - 2].is('(') && toks[len - 1].is(')') {
            continue;
        }
        if len >= 2 && toks[len - 1].is('(') {
            let verb = match &toks[..len - 1] {
                [Tok::Word(w)] => Some(w.clone()),
                _ => None,
            };
            block = Some((verb, comments, n));
            continue;
        }
        if let Tok::Word(verb) = &toks[0] {
            p.directive(n, verb, &toks[1..], comments, &[])?;
        }
    }
    if let Some((_, _, start)) = block {
        return Err(ModFileError {
            line: start,
            message: "syntax error (unterminated block)".into(),
        });
    }
    Ok(p.file)
}

/// `modfile.ModulePath`: a quick scan for the module path without parsing the whole file.
/// `None` if there is no `module` line or its quoted path is malformed; lines that are not UTF-8
/// are skipped.
pub fn module_path(data: &[u8]) -> Option<String> {
    for line in data.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let line = line.find("//").map_or(line, |i| &line[..i]).trim();
        let Some(rest) = line.strip_prefix("module") else {
            continue;
        };
        let trimmed = rest.trim();
        if trimmed.len() == rest.len() || trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('"') || trimmed.starts_with('`') {
            return unquote(trimmed);
        }
        return Some(trimmed.to_string());
    }
    None
}

impl fmt::Display for Retraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            f.write_str(&self.low)
        } else {
            write!(f, "[{}, {}]", self.low, self.high)
        }
    }
}

mod declares;
mod go_version;
pub use declares::{Declared, NotDeclared, declares};
pub use go_version::go_version_ge;

#[cfg(test)]
mod tests;
