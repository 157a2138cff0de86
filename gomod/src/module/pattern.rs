//! Go's `path.Match` glob syntax, and `module.MatchPrefixPatterns` (GOPRIVATE, GONOSUMDB, …).
//!
//! Syntax: `*` is any run of characters other than `/`, `?` is one character other than `/`,
//! `[...]` is a non-empty class of characters or `lo-hi` ranges (`[^...]` negates it), and `\c`
//! stands for `c` itself, also inside a class. A malformed pattern matches nothing.
//!
//! The name is walked character by character where Go walks bytes while a `*` skips ahead; the
//! two only differ for names that are not valid UTF-8, which a `&str` never is.

/// One pattern piece.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`
    Star,
    /// `?`
    Any,
    /// A literal character (escaped or not).
    Lit(char),
    /// `[...]`: inclusive ranges; `negated` for `[^...]`.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    /// Whether this non-star token matches `c`.
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Star => false,
            Token::Any => c != '/',
            Token::Lit(l) => *l == c,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// Reads one class bound (`c` or `\c`); a bound may not be `-` or `]`, nor end the pattern.
fn class_char(it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    let c = match it.next()? {
        '-' | ']' => return None,
        '\\' => it.next()?,
        c => c,
    };
    // Something (at least the closing `]`) must follow.
    it.peek()?;
    Some(c)
}

/// Splits a pattern into tokens; `None` if it is malformed.
fn tokenize(pattern: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        let tok = match c {
            '*' => Token::Star,
            '?' => Token::Any,
            '\\' => Token::Lit(it.next()?),
            '[' => {
                let negated = it.next_if_eq(&'^').is_some();
                let mut ranges = Vec::new();
                loop {
                    if !ranges.is_empty() && it.next_if_eq(&']').is_some() {
                        break;
                    }
                    let lo = class_char(&mut it)?;
                    let hi = if it.next_if_eq(&'-').is_some() {
                        class_char(&mut it)?
                    } else {
                        lo
                    };
                    ranges.push((lo, hi));
                }
                Token::Class { negated, ranges }
            }
            c => Token::Lit(c),
        };
        out.push(tok);
    }
    Some(out)
}

/// Matches a star-free run of tokens at the start of `name`, returning what is left.
fn match_run<'n>(run: &[Token], name: &'n [char]) -> Option<&'n [char]> {
    if name.len() < run.len() {
        return None;
    }
    run.iter()
        .zip(name)
        .all(|(t, &c)| t.matches(c))
        .then(|| &name[run.len()..])
}

/// Go's `path.Match`: whether `pattern` matches all of `name`. A malformed pattern is `None`.
pub fn path_match(pattern: &str, name: &str) -> Option<bool> {
    let tokens = tokenize(pattern)?;
    let name: Vec<char> = name.chars().collect();
    Some(match_tokens(&tokens, &name))
}

fn match_tokens(mut tokens: &[Token], mut name: &[char]) -> bool {
    while !tokens.is_empty() {
        let stars = tokens.iter().take_while(|t| **t == Token::Star).count();
        tokens = &tokens[stars..];
        let run_len = tokens
            .iter()
            .position(|t| *t == Token::Star)
            .unwrap_or(tokens.len());
        let (run, rest) = tokens.split_at(run_len);
        let last = rest.is_empty();
        if stars > 0 && run.is_empty() {
            // A trailing star takes the rest of the element.
            return !name.contains(&'/');
        }
        // Leftmost placement of the run: first right here, then (after a star) one character
        // further each time, never letting the star swallow a `/`.
        let mut placed = None;
        let limit = if stars > 0 {
            name.iter().position(|&c| c == '/').unwrap_or(name.len())
        } else {
            0
        };
        for skip in 0..=limit {
            if let Some(left) = match_run(run, &name[skip..])
                && (!last || left.is_empty())
            {
                placed = Some(left);
                break;
            }
        }
        match placed {
            Some(left) => name = left,
            None => return false,
        }
        tokens = rest;
    }
    name.is_empty()
}

/// Go's `module.MatchPrefixPatterns`: whether some comma-separated glob in `globs` matches a
/// leading part of `target` with as many path elements as the glob has. Empty globs and a
/// trailing `/` on a glob are ignored; malformed globs match nothing.
pub fn match_prefix_patterns(globs: &str, target: &str) -> bool {
    globs.split(',').any(|glob| {
        let glob = glob.strip_suffix('/').unwrap_or(glob);
        if glob.is_empty() {
            return false;
        }
        let elems = glob.matches('/').count() + 1;
        // The first `elems` elements of target, or None if it has fewer.
        let prefix = match target.match_indices('/').nth(elems - 1) {
            Some((i, _)) => &target[..i],
            None if target.matches('/').count() + 1 >= elems => target,
            None => return false,
        };
        path_match(glob, prefix) == Some(true)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn path_match_table() {
        // (pattern, name, Some(matched) or None for a malformed pattern)
        let table: &[(&str, &str, Option<bool>)] = &[
            ("", "", Some(true)),
            ("", "x", Some(false)),
            ("abc", "abc", Some(true)),
            ("abc", "abcd", Some(false)),
            ("abc", "ab", Some(false)),
            ("*", "", Some(true)),
            ("*", "anything", Some(true)),
            ("*", "a/b", Some(false)),
            ("*/b", "a/b", Some(true)),
            ("a*", "a", Some(true)),
            ("a*", "abc", Some(true)),
            ("a*c", "abxc", Some(true)),
            ("a*c", "abxcd", Some(false)),
            ("a*c", "ab/c", Some(false)),
            ("a*b*c", "axxbyybzzc", Some(true)),
            ("a*b*c", "axxcyyb", Some(false)),
            ("a**c", "abc", Some(true)),
            ("*x", "xxxx", Some(true)),
            ("*.go", "main.go", Some(true)),
            ("*.go", "main.go.txt", Some(false)),
            ("a?c", "abc", Some(true)),
            ("a?c", "a/c", Some(false)),
            ("a?c", "aéc", Some(true)),
            ("??", "é", Some(false)),
            ("[abc]", "b", Some(true)),
            ("[abc]", "d", Some(false)),
            ("[^abc]", "d", Some(true)),
            ("[^abc]", "a", Some(false)),
            ("[a-c]x", "bx", Some(true)),
            ("[a-c]x", "dx", Some(false)),
            ("[^a-c]", "/", Some(true)),
            ("[\\]]", "]", Some(true)),
            ("[\\-]", "-", Some(true)),
            ("[x\\-]", "x", Some(true)),
            ("[*]", "*", Some(true)),
            ("[*]", "a", Some(false)),
            ("\\*", "*", Some(true)),
            ("\\*", "a", Some(false)),
            ("\\?", "?", Some(true)),
            ("a\\", "a", None),
            ("[", "a", None),
            ("[]", "a", None),
            ("[]a]", "]", None),
            ("[^]", "a", None),
            ("[a-]", "a", None),
            ("[-a]", "a", None),
            ("[a", "a", None),
            ("[a-b", "a", None),
            ("x[", "y", None),
            ("*[", "abc", None),
            ("[é-ü]", "ö", Some(true)),
        ];
        for &(pat, name, want) in table {
            assert_eq!(path_match(pat, name), want, "path_match({pat:?}, {name:?})");
        }
    }

    #[test]
    fn prefix_patterns_table() {
        let table: &[(&str, &str, bool)] = &[
            ("", "example.com/m", false),
            (",", "example.com/m", false),
            ("example.com", "example.com", true),
            ("example.com", "example.com/m", true),
            ("example.com", "example.com/m/sub/v2", true),
            ("example.com", "example.comx/m", false),
            ("example.com/", "example.com/m", true),
            ("example.com/m", "example.com/m/v2", true),
            ("example.com/m", "example.com/mx", false),
            ("example.com/m", "example.com", false),
            ("*.corp.example", "git.corp.example/team/repo", true),
            ("*.corp.example", "corp.example/x", false),
            ("example.com/*", "example.com", false),
            ("example.com/*", "example.com/anything/deeper", true),
            ("*/private", "github.com/private/x", true),
            ("*/private", "github.com/public/x", false),
            ("other.org,example.com/m", "example.com/m/x", true),
            ("other.org,,example.com/m", "example.com/n", false),
            ("[", "example.com", false),
            ("[,example.com", "example.com", true),
            ("github.com/Org", "github.com/Org/repo", true),
            ("github.com/org", "github.com/Org/repo", false),
            ("*", "", true),
            ("x", "", false),
        ];
        for &(globs, target, want) in table {
            assert_eq!(
                match_prefix_patterns(globs, target),
                want,
                "match_prefix_patterns({globs:?}, {target:?})"
            );
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        let pat = "a*".repeat(200) + "b";
        let name = "a".repeat(5000);
        assert_eq!(path_match(&pat, &name), Some(false));
    }
}
