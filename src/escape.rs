//! Module paths and versions in URL paths: `!`-escaped as the protocol wants, then
//! percent-encoded as the go command does (`url.PathEscape`), so `#`, `?` and `%` in a query stay
//! part of the path wherever agora sends or points a client.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use gomod::module::ModulePath;

/// Bytes percent-encoded in one path segment of an upstream URL: everything a URL parser would
/// take as a delimiter, plus `%` itself. `!` stays: it is the protocol's own case escape.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One path segment (an escaped version or query) ready for an upstream URL.
pub fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A module path, `!`-escaped and percent-encoded segment by segment, for an upstream URL.
pub fn escaped_path(module: &ModulePath) -> String {
    module
        .escaped()
        .split('/')
        .map(path_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_delimiters_out() {
        let cases = [
            ("v1.0.0", "v1.0.0"),
            ("v1.0.0-!r!c1", "v1.0.0-!r!c1"),
            ("v1.0.0#x", "v1.0.0%23x"),
            ("a?b", "a%3Fb"),
            ("50%", "50%25"),
            ("a b", "a%20b"),
            ("x/y", "x%2Fy"),
            ("feature@{1}", "feature@%7B1%7D"),
            ("ü", "%C3%BC"),
        ];
        for (input, want) in cases {
            assert_eq!(path_segment(input), want, "path_segment({input:?})");
        }
    }
}
