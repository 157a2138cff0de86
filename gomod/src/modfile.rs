//! The few go.mod directives a proxy reads, parsed like `modfile.ParseLax` (how the go command
//! reads the go.mod files of dependencies): `module` (with its `// Deprecated:` text), `go`, and
//! `retract`. `require` and `ignore` lines are checked as `ParseLax` checks them (quoting, the
//! version's form, the path's major suffix) and then dropped; every other directive and block
//! (`replace`, `exclude`, `tool`, `godebug`, `toolchain`, unknown verbs) is skipped unread.
//!
//! A file `ParseLax` rejects is an error here too, with the go command's message, which matters:
//! a dependency whose go.mod the go command cannot parse breaks every build using it, and the zip
//! rules read the `go` line only from a go.mod that parses.

use std::fmt;

use crate::module::{
    canonical_version, check_path_major, go_quote, go_quote_char, split_path_version,
};
use crate::semver;

/// One problem in a go.mod, at a 1-based line and rune column. Like the go command, the column
/// is shown only past the first (`go.mod:3:2: ...` for an indented block member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModFileProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ModFileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column > 1 {
            write!(f, "go.mod:{}:{}: {}", self.line, self.column, self.message)
        } else {
            write!(f, "go.mod:{}: {}", self.line, self.message)
        }
    }
}

/// A go.mod that could not be parsed: one syntax error, or every directive error in file order
/// (the go command reports them all, one a line). Never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ModFileError {
    pub problems: Vec<ModFileProblem>,
}

impl ModFileError {
    fn one(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            problems: vec![ModFileProblem {
                line: pos.line,
                column: pos.col,
                message: message.into(),
            }],
        }
    }

    /// The line of the first problem.
    pub fn line(&self) -> usize {
        self.problems.first().map_or(0, |p| p.line)
    }
}

impl fmt::Display for ModFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
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

/// A position: 1-based line and rune column, counted as the go command counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    col: usize,
}

/// A lexical token.
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

    /// The token as written.
    fn text(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::Punct(c) => c.to_string(),
        }
    }
}

/// Go's `isIdent`: printable runes (`unicode.IsPrint`) except spaces and `( ) [ ] { } ,`.
fn is_ident_char(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup as G, UnicodeGeneralCategory};
    !matches!(c, ' ' | '(' | ')' | '[' | ']' | '{' | '}' | ',')
        && !c.is_whitespace()
        && matches!(
            c.general_category_group(),
            G::Letter | G::Mark | G::Number | G::Punctuation | G::Symbol
        )
}

/// The tokens up to one end of line (a newline, a `//` comment, or the end of the file). A line
/// is usually one line of text, but a quoted string may run on past a backslash-newline, as in
/// the go command's lexer.
struct Lexed<'a> {
    toks: Vec<Tok>,
    /// Where each token starts, and where the lexer stands after it.
    starts: Vec<Pos>,
    ends: Vec<Pos>,
    /// The `//` comment ending the line, without the slashes.
    comment: Option<&'a str>,
    /// A lexical error met after the tokens above. The go command reads one token ahead, so
    /// whether this error or a syntax error in the tokens before it is reported depends on where.
    error: Option<ModFileError>,
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
    pos: Pos,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            at: 0,
            pos: Pos { line: 1, col: 1 },
        }
    }

    fn eof(&self) -> bool {
        self.at >= self.text.len()
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn read(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }

    /// The next line's tokens, or `None` at the end of the file.
    fn line(&mut self) -> Option<Lexed<'a>> {
        if self.eof() {
            return None;
        }
        let mut out = Lexed {
            toks: Vec::new(),
            starts: Vec::new(),
            ends: Vec::new(),
            comment: None,
            error: None,
        };
        loop {
            while let Some(' ' | '\t' | '\r') = self.peek() {
                self.read();
            }
            let rest = self.rest();
            if let Some(comment) = rest.strip_prefix("//") {
                let len = comment.find('\n').unwrap_or(comment.len());
                out.comment = Some(&comment[..len]);
                while self.read().is_some_and(|c| c != '\n') {}
                return Some(out);
            }
            let start = self.pos;
            let fail = |at: Pos, message: String| Some(ModFileError::one(at, message));
            if rest.starts_with("/*") {
                out.error = fail(start, COMMENT_STYLE.into());
                return Some(out);
            }
            let Some(c) = self.peek() else {
                return Some(out);
            };
            let from = self.at;
            match c {
                '\n' => {
                    self.read();
                    return Some(out);
                }
                '(' | ')' | '[' | ']' | '{' | '}' | ',' => {
                    self.read();
                    out.toks.push(Tok::Punct(c));
                }
                '"' | '`' => {
                    self.read();
                    loop {
                        match self.peek() {
                            None => {
                                out.error = fail(start, "unexpected EOF in string".into());
                                return Some(out);
                            }
                            Some('\n') => {
                                out.error = fail(self.pos, "unexpected newline in string".into());
                                return Some(out);
                            }
                            Some(_) => {}
                        }
                        let d = self.read();
                        if d == Some(c) {
                            break;
                        }
                        // An escaped character is skipped whatever it is, a newline too.
                        if d == Some('\\') && c == '"' && self.read().is_none() {
                            out.error = fail(start, "unexpected EOF in string".into());
                            return Some(out);
                        }
                    }
                    out.toks
                        .push(Tok::Word(self.text[from..self.at].to_string()));
                }
                c if is_ident_char(c) => {
                    while let Some(d) = self.peek() {
                        if !is_ident_char(d) || self.rest().starts_with("//") {
                            break;
                        }
                        if self.rest().starts_with("/*") {
                            out.error = fail(self.pos, COMMENT_STYLE.into());
                            return Some(out);
                        }
                        self.read();
                    }
                    out.toks
                        .push(Tok::Word(self.text[from..self.at].to_string()));
                }
                c => {
                    let message = format!("unexpected input character {}", go_quote_char(c));
                    out.error = fail(start, message);
                    return Some(out);
                }
            }
            out.starts.push(start);
            out.ends.push(self.pos);
        }
    }
}

const COMMENT_STYLE: &str = "mod files must use // comments (not /* */ comments)";

/// Go's `strconv.Unquote`: a double-quoted string with Go's escapes, or a backquoted one (whose
/// carriage returns are dropped). Bytes written as `\x` or octal escapes need not form UTF-8 in
/// Go; here such bytes become U+FFFD, which no valid module path or version contains.
fn unquote(s: &str) -> Option<String> {
    if let Some(body) = s.strip_prefix('`') {
        return body
            .strip_suffix('`')
            .filter(|b| !b.contains('`'))
            .map(|b| b.replace('\r', ""));
    }
    let body = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut it = body.chars();
    let digits = |it: &mut std::str::Chars<'_>, n: usize, radix: u32| -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = v * radix + it.next()?.to_digit(radix)?;
        }
        Some(v)
    };
    while let Some(c) = it.next() {
        if c == '"' || c == '\n' {
            return None;
        }
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let e = it.next()?;
        let byte = match e {
            'a' => 0x07,
            'b' => 0x08,
            'f' => 0x0c,
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            'v' => 0x0b,
            '\\' => b'\\',
            '"' => b'"',
            'x' => u8::try_from(digits(&mut it, 2, 16)?).ok()?,
            '0'..='7' => {
                let low = digits(&mut it, 2, 8)?;
                u8::try_from(e.to_digit(8)? * 64 + low).ok()?
            }
            'u' | 'U' => {
                let r = char::from_u32(digits(&mut it, if e == 'u' { 4 } else { 8 }, 16)?)?;
                let mut buf = [0; 4];
                out.extend_from_slice(r.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.push(byte);
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `modfile.parseString`: a token starting with `"` is unquoted; any other token containing a
/// quote (`"`, `'` or a backquote, so a backquoted string too) is refused, the go command keeping
/// those for later syntax. The error is the go command's text.
fn parse_string(t: &Tok) -> Result<String, &'static str> {
    let w = match t {
        Tok::Word(w) => w,
        Tok::Punct(c) => return Ok(c.to_string()),
    };
    if w.starts_with('"') {
        unquote(w).ok_or("invalid syntax")
    } else if w.contains(['"', '\'', '`']) {
        Err("unquoted string cannot contain quote")
    } else {
        Ok(w.clone())
    }
}

/// `modfile.parseVersion` without a fixer (how dependencies' go.mod files are read): the token
/// must be a string naming a version that `module.CanonicalVersion` accepts; its canonical form.
fn parse_version(verb: &str, path: &str, t: &Tok) -> Result<String, String> {
    let v = parse_string(t).map_err(|e| {
        let raw = go_quote(&t.text());
        format!("{verb} {path}: version {raw} invalid: {e}")
    })?;
    let cv = canonical_version(&v);
    if cv.is_empty() {
        let v = go_quote(&v);
        return Err(format!(
            "{verb} {path}: version {v} invalid: must be of the form v1.2.3"
        ));
    }
    Ok(cv)
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
    /// Whether a `module` line was seen, valid or not (a second one is an error either way).
    module_seen: bool,
    /// Comments above the current line (top level: since the last blank line).
    pending: Vec<&'a str>,
    /// Directive errors so far; the go command reports them all, once the file has lexed and
    /// parsed (a syntax error anywhere is reported alone).
    errors: Vec<ModFileProblem>,
}

impl<'a> Parser<'a> {
    /// One directive, from a line starting at `at`. `ParseLax` keeps `module`, `go`, `retract`,
    /// `require` and `ignore` and skips every other verb unread.
    fn directive(
        &mut self,
        at: Pos,
        verb: &str,
        args: &[Tok],
        comments: Vec<&'a str>,
        block_comments: &[&'a str],
    ) {
        if let Err(message) = self.checked_directive(verb, args, &comments, block_comments) {
            self.errors.push(ModFileProblem {
                line: at.line,
                column: at.col,
                message,
            });
        }
    }

    fn checked_directive(
        &mut self,
        verb: &str,
        args: &[Tok],
        comments: &[&str],
        block_comments: &[&str],
    ) -> Result<(), String> {
        // A member without comments of its own takes the block's (Go's parseDirectiveComment).
        let comments = if comments.is_empty() {
            block_comments
        } else {
            comments
        };
        let quoted = |e: &str| format!("invalid quoted string: {e}");
        match verb {
            "module" => {
                if self.module_seen {
                    return Err("repeated module statement".into());
                }
                self.module_seen = true;
                let [arg] = args else {
                    return Err("usage: module module/path".into());
                };
                let path = parse_string(arg).map_err(quoted)?;
                let deprecated = deprecation(&comment_text(comments));
                self.file.module = Some(ModuleDirective { path, deprecated });
            }
            "go" => {
                if self.file.go.is_some() {
                    return Err("repeated go statement".into());
                }
                // The go line's version is read as written, quotes and all.
                let [arg] = args else {
                    return Err("go directive expects exactly one argument".into());
                };
                let v = arg.text();
                let v = if go_version::go_lang(&v).is_some() {
                    v
                } else {
                    lax_go_version(&v).ok_or_else(|| {
                        format!("invalid go version '{v}': must match format 1.23.0")
                    })?
                };
                self.file.go = Some(v);
            }
            "require" => {
                let [path, version] = args else {
                    return Err(format!("usage: {verb} module/path v1.2.3"));
                };
                let path = parse_string(path).map_err(quoted)?;
                let v = parse_version(verb, &path, version)?;
                let (_, major) =
                    split_path_version(&path).ok_or_else(|| "invalid module path".to_string())?;
                check_path_major(&v, major).map_err(|e| format!("{verb} {path}: {e}"))?;
            }
            "ignore" => {
                let [path] = args else {
                    return Err("ignore directive expects exactly one argument".into());
                };
                parse_string(path).map_err(quoted)?;
            }
            "retract" => {
                // Malformed intervals are dropped silently, as ParseLax does.
                if let Some((low, high)) = retract_interval(args) {
                    let rationale = comment_text(comments);
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

/// Go's `laxGoVersionRE`, `^v?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9].*)$`: the `1.N` it keeps.
fn lax_go_version(v: &str) -> Option<String> {
    let s = v.strip_prefix('v').unwrap_or(v);
    let (major, rest) = s.split_at(s.bytes().take_while(u8::is_ascii_digit).count());
    let rest = rest.strip_prefix('.')?;
    let (minor, tail) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
    let major_ok = !major.is_empty() && !major.starts_with('0');
    let minor_ok = minor == "0" || (!minor.is_empty() && !minor.starts_with('0'));
    // `.` does not match a newline (a quoted token can hold one after a backslash).
    let tail_ok = !tail.is_empty() && !tail.contains('\n');
    (major_ok && minor_ok && tail_ok).then(|| format!("{major}.{minor}"))
}

fn canonical_arg(t: &Tok) -> Option<String> {
    let v = canonical_version(&parse_string(t).ok()?);
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

/// Block verbs whose members the go command reads (`ParseLax` then keeps only the ones it wants);
/// blocks of any other verb (`go (`, `toolchain (`, unknown ones) are skipped whole.
const BLOCK_VERBS: &[&str] = &[
    "module", "godebug", "require", "exclude", "replace", "retract", "tool", "ignore",
];

/// An open block: its verb (`None` for one whose members are skipped), its comments, where it
/// started.
struct Block<'a> {
    verb: Option<String>,
    comments: Vec<&'a str>,
    start: Pos,
}

/// Parses go.mod bytes the way the go command parses dependencies' go.mod files (`ParseLax`).
/// Like the go command, bytes that are not UTF-8 are read as U+FFFD, not refused.
pub fn parse_lax(data: &[u8]) -> Result<ModFile, ModFileError> {
    let text = String::from_utf8_lossy(data);
    let mut lexer = Lexer::new(&text);
    let mut p = Parser::default();
    let mut block: Option<Block<'_>> = None;
    while let Some(lexed) = lexer.line() {
        let Lexed {
            toks,
            starts,
            ends,
            comment,
            error,
        } = lexed;
        if block.is_some() && toks.first().is_some_and(|t| t.is(')')) {
            // `)` first on a line closes the block; the go command has read one token past it.
            if let Some(&after) = ends.get(1) {
                return Err(ModFileError::one(
                    after,
                    "syntax error (expected newline after closing paren)",
                ));
            }
            if let Some(e) = error {
                return Err(e);
            }
            block = None;
            continue;
        }
        if let Some(e) = error {
            return Err(e);
        }
        let Some(&at) = starts.first() else {
            match comment {
                Some(c) => p.pending.push(c),
                // A blank line separates free-standing comments from the next directive at top
                // level; inside a block, comments above a member stay attached to it.
                None if block.is_none() => p.pending.clear(),
                None => {}
            }
            continue;
        };
        let mut comments = std::mem::take(&mut p.pending);
        comments.extend(comment);
        if let Some(b) = &block {
            // Any line but `)` is a member whose tokens (parentheses included) are the
            // arguments of the block's verb.
            if let Some(verb) = &b.verb {
                p.directive(at, verb, &toks, comments, &b.comments);
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
                [Tok::Word(w)] if BLOCK_VERBS.contains(&w.as_str()) => Some(w.clone()),
                _ => None,
            };
            block = Some(Block {
                verb,
                comments,
                start: at,
            });
            continue;
        }
        if let Tok::Word(verb) = &toks[0] {
            p.directive(at, verb, &toks[1..], comments, &[]);
        }
    }
    if let Some(b) = block {
        let message = format!(
            "syntax error (unterminated block started at go.mod:{}:{})",
            b.start.line, b.start.col
        );
        return Err(ModFileError::one(lexer.pos, message));
    }
    if !p.errors.is_empty() {
        return Err(ModFileError { problems: p.errors });
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
