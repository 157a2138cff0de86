//! The one piece of go.mod the zip rules need: the language version of the `go` directive.
//!
//! The go command reads it with `modfile.ParseLax` and reduces it with `version.Lang`
//! (`1.24.1` → `go1.24`, `1.24rc1` → `go1.24`). This is a deliberately tiny, line-based scan;
//! when the crate's go.mod parser lands it can replace [`go_lang`] wholesale. Known difference:
//! a syntax error elsewhere in the file makes `ParseLax` fail (so the old vendor rule applies),
//! which this scan does not notice.

/// `(major, minor)` of the `go` directive, or None if there is none or it is malformed or repeated.
pub fn go_lang(go_mod: &[u8]) -> Option<(u64, u64)> {
    let text = String::from_utf8_lossy(go_mod);
    let mut found: Option<(u64, u64)> = None;
    let mut seen = false;
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut words = line.split_whitespace();
        if words.next() != Some("go") {
            continue;
        }
        if seen {
            // "repeated go statement" is a parse error even in lax mode.
            return None;
        }
        seen = true;
        let args: Vec<&str> = words.collect();
        if args.len() != 1 {
            return None;
        }
        found = Some(parse_version(args[0])?);
    }
    found
}

/// Whether the vendoring rules of Go 1.24 and later apply to a module with this go.mod.
pub fn uses_go124_vendor_rules(go_mod: Option<&[u8]>) -> bool {
    go_mod.and_then(go_lang).is_some_and(|v| v >= (1, 24))
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Strict `GoVersionRE` (`1.21`, `1.21.0`, `1.21rc1`, `1.21.0rc1`), then the lax fix-up that
/// accepts `v1.21` and `1.21<non-digit>…` by keeping `1.21`.
fn parse_version(v: &str) -> Option<(u64, u64)> {
    if let Some(r) = strict(v) {
        return Some(r);
    }
    let v = v.strip_prefix('v').unwrap_or(v);
    let (major, rest) = v.split_once('.')?;
    let major = number(major)?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (minor, tail) = rest.split_at(end);
    let minor = number(minor)?;
    if tail.is_empty() {
        return None;
    }
    if major == 0 {
        return None;
    }
    Some((major, minor))
}

fn strict(v: &str) -> Option<(u64, u64)> {
    // Split off a trailing prerelease like `rc1` / `beta2`.
    let core_end = v.find(|c: char| c.is_ascii_lowercase()).unwrap_or(v.len());
    let (core, pre) = v.split_at(core_end);
    if !pre.is_empty() {
        let letters = pre.bytes().take_while(u8::is_ascii_lowercase).count();
        let digits = &pre[letters..];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let major = number(parts[0])?;
    if major == 0 {
        return None;
    }
    let minor = number(parts[1])?;
    if let Some(p) = parts.get(2) {
        number(p)?;
    }
    Some((major, minor))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_go_line() {
        let cases: &[(&str, Option<(u64, u64)>)] = &[
            ("module m\n\ngo 1.24\n", Some((1, 24))),
            ("module m\ngo 1.23.4\n", Some((1, 23))),
            ("module m\ngo 1.25rc2 // comment\n", Some((1, 25))),
            ("module m\n  go   1.24.0  \n", Some((1, 24))),
            ("module m\n", None),
            ("module m\ngo\n", None),
            ("module m\ngo 1.21 1.22\n", None),
            ("module m\ngo 1.21\ngo 1.24\n", None),
            ("module m\ngo 1.x\n", None),
            ("module m\ngo v1.24\n", None),
            ("module m\ngo v1.24beta\n", Some((1, 24))),
            ("module m\ngo 1.24-beta\n", Some((1, 24))),
            ("module m\n// go 1.24\n", None),
            ("module m\ngopher 1.30\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(go_lang(text.as_bytes()), *want, "{text:?}");
        }
    }

    #[test]
    fn vendor_rule_switch() {
        assert!(!uses_go124_vendor_rules(None));
        assert!(!uses_go124_vendor_rules(Some(b"module m\ngo 1.23\n")));
        assert!(uses_go124_vendor_rules(Some(b"module m\ngo 1.24\n")));
        assert!(uses_go124_vendor_rules(Some(b"module m\ngo 2.0\n")));
        assert!(uses_go124_vendor_rules(Some(b"module m\ngo 1.100\n")));
    }
}
