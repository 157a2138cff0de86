//! `<meta name="go-import" content="prefix vcs url [subdir]">` tags, parsed as the go command's
//! `parseMetaGoImports` does, and matched to an import path.

use std::collections::HashMap;

use crate::coderepo::has_path_prefix;

/// One `<meta name="go-import" content="prefix vcs url [subdir]">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaImport {
    pub prefix: String,
    pub vcs: String,
    pub url: String,
    pub subdir: String,
}

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

/// `parseMetaGoImports`: the go-import tags in the page's head (reading stops at `<body>` or
/// `</head>`), `mod` entries first.
pub fn parse_meta_imports(html: &str) -> Vec<MetaImport> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix("!--") {
            rest = r.find("-->").map_or("", |j| &r[j + 3..]);
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end.min(rest.len())..];
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        if name == "body" || name == "/head" {
            break;
        }
        if name != "meta" {
            continue;
        }
        let attrs = parse_attrs(&tag[name_end..]);
        if attrs.get("name").map(String::as_str) != Some("go-import") {
            continue;
        }
        let Some(content) = attrs.get("content") else {
            continue;
        };
        let f: Vec<&str> = content.split_whitespace().collect();
        if f.len() != 3 && f.len() != 4 {
            continue;
        }
        out.push(MetaImport {
            prefix: f[0].to_string(),
            vcs: f[1].to_string(),
            url: f[2].to_string(),
            subdir: f.get(3).map(|s| s.to_string()).unwrap_or_default(),
        });
    }
    // Stable: mod entries before the others.
    out.sort_by_key(|m| m.vcs != "mod");
    out
}

fn parse_attrs(s: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = unescape_html(&s[vs..i]);
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = unescape_html(&s[vs..i]);
            }
        }
        if !name.is_empty() {
            map.entry(name).or_insert(value);
        }
    }
    map
}

/// `matchGoImport`: the tag whose prefix is a path prefix of `path`.
pub fn match_go_import(imports: &[MetaImport], path: &str) -> Result<Option<MetaImport>, String> {
    let mut found: Option<&MetaImport> = None;
    for im in imports {
        if !has_path_prefix(path, &im.prefix) {
            continue;
        }
        if let Some(m) = found {
            if m.vcs == "mod" && im.vcs != "mod" {
                break;
            }
            return Err(format!("multiple meta tags match import path {path:?}"));
        }
        found = Some(im);
    }
    Ok(found.cloned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn meta_tags() {
        let html = r#"<!DOCTYPE html><html><head>
<!-- <meta name="go-import" content="c.example/x git https://wrong"> -->
<meta name="go-import" content="example.com/x git https://code.example/x">
<META NAME="go-import" CONTENT='example.com/y mod https://proxy.example'>
<meta name="go-import" content="example.com/z git https://code.example/z sub/dir"/>
<meta name="go-import" content="too few">
<meta name="go-source" content="example.com/x a b c">
</head><body><meta name="go-import" content="example.com/late git https://x"></body></html>"#;
        let got = parse_meta_imports(html);
        let prefixes: Vec<&str> = got.iter().map(|m| m.prefix.as_str()).collect();
        assert_eq!(
            prefixes,
            ["example.com/y", "example.com/x", "example.com/z"]
        );
        assert_eq!(got[2].subdir, "sub/dir");
        assert_eq!(
            match_go_import(&got, "example.com/x/pkg")
                .unwrap()
                .unwrap()
                .url,
            "https://code.example/x"
        );
        assert!(match_go_import(&got, "example.com/q").unwrap().is_none());
        let two = [got[1].clone(), got[1].clone()];
        assert!(match_go_import(&two, "example.com/x").is_err());
    }
}
