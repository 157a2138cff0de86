//! Credentials written into configured URLs (`https://user:token@host/`) stay out of everything
//! agora shows or keeps: error bodies, logs, spans, metric labels and the stored `source` of a
//! version. The whole user-info part is masked, since hosting sites put tokens in the user name
//! as often as in the password (`https://<token>@github.com`).

use std::borrow::Cow;

/// What stands in for masked credentials.
pub const MASK: &str = "***";

/// `text` with the user-info of every `scheme://user:pass@host` in it replaced by [`MASK`]. Text
/// without credentials is returned as it is.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first path, query or fragment character, or whitespace.
        let end = tail
            .find(|c: char| {
                matches!(
                    c,
                    '/' | '?' | '#' | '"' | '\'' | '<' | '>' | ',' | '|' | ';' | '(' | ')'
                ) || c.is_whitespace()
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(MASK);
                out.push_str(&authority[at..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether a URL carries credentials (a user name or a password).
pub fn has_credentials(url: &url::Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn masks_user_info() {
        let cases = [
            ("https://proxy.golang.org", "https://proxy.golang.org"),
            ("https://u:p@h.example/x", "https://***@h.example/x"),
            ("https://tok@h.example", "https://***@h.example"),
            ("http://u:p@h:8080?q=1", "http://***@h:8080?q=1"),
            ("https://a:b@c@h/p", "https://***@h/p"),
            (
                "upstream https://u:p@a.example answered 500; then http://b.example:1/x",
                "upstream https://***@a.example answered 500; then http://b.example:1/x",
            ),
            (
                "https://u:p@a/x,https://v:q@b|direct",
                "https://***@a/x,https://***@b|direct",
            ),
            (
                "https://u:p@a,https://v:q@b|https://w@c",
                "https://***@a,https://***@b|https://***@c",
            ),
            ("mail me@example.com", "mail me@example.com"),
            ("https://h/p@v1.0.0", "https://h/p@v1.0.0"),
            ("s3://key:secret@bucket", "s3://***@bucket"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "redact({input:?})");
        }
    }

    #[test]
    fn detects_credentials() {
        let yes = ["https://u@h", "https://u:p@h", "https://:p@h"];
        let no = ["https://h", "https://h/u@v"];
        for u in yes {
            assert!(has_credentials(&url::Url::parse(u).unwrap()), "{u}");
        }
        for u in no {
            assert!(!has_credentials(&url::Url::parse(u).unwrap()), "{u}");
        }
    }
}
