//! The go command's static table of code hosts (`vcsPaths`) and its VCS-suffix rule: module paths
//! whose repository is known without asking the network.

use super::{RepoRoot, Vcs};

fn word_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// The suffixes that name a version control system in a path (Go 1.27 dropped `.bzr`).
const VCS_SUFFIXES: [&str; 4] = [".git", ".hg", ".svn", ".fossil"];

fn https(root: &str) -> String {
    format!("https://{root}")
}

/// The static table (`vcsPaths`): `None` when no entry's prefix matches; `Some(Err)` when one
/// does but the path does not fit it (the go command stops there).
pub fn known_host(path: &str) -> Option<Result<RepoRoot, String>> {
    let elems: Vec<&str> = path.split('/').collect();
    let git = |root: String| {
        Ok(RepoRoot {
            url: https(&root),
            root,
            vcs: Vcs::Git,
            subdir: String::new(),
        })
    };
    let invalid = |host: &str| Err(format!("invalid {host} import path {path:?}"));
    match elems[0] {
        host @ ("github.com" | "bitbucket.org") => {
            if elems.len() < 3 || !elems[1..].iter().all(|e| word_chars(e)) {
                return Some(invalid(host));
            }
            let repo = elems[2];
            if let Some(s) = VCS_SUFFIXES.iter().find(|s| repo.ends_with(*s)) {
                return Some(Err(format!(
                    "invalid version control suffix in {host} path {path:?}: {s}"
                )));
            }
            Some(git(elems[..3].join("/")))
        }
        "hub.jazz.net" => {
            let ok = elems.len() >= 4
                && elems[1] == "git"
                && elems[2]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && !elems[2].is_empty()
                && elems[3..].iter().all(|e| word_chars(e));
            if !ok {
                return Some(invalid("hub.jazz.net"));
            }
            Some(git(elems[..4].join("/")))
        }
        "git.openstack.org" => {
            if elems.len() < 3 || !elems[1..].iter().all(|e| word_chars(e)) {
                return Some(invalid("git.openstack.org"));
            }
            Some(git(elems[..3].join("/")))
        }
        "git.apache.org" => {
            let Some(i) = elems.iter().position(|e| e.ends_with(".git")) else {
                return Some(invalid("git.apache.org"));
            };
            if i == 0 {
                return Some(invalid("git.apache.org"));
            }
            Some(git(elems[..=i].join("/")))
        }
        // Only the repository itself: the go command's pattern ends there, so a package path
        // under it is invalid.
        "chiselapp.com" => {
            let ok = elems.len() == 5
                && elems[1] == "user"
                && !elems[2].is_empty()
                && elems[2].bytes().all(|b| b.is_ascii_alphanumeric())
                && elems[3] == "repository"
                && word_chars(elems[4]);
            if !ok {
                return Some(invalid("chiselapp.com"));
            }
            Some(Ok(RepoRoot {
                url: https(path),
                root: path.to_string(),
                vcs: Vcs::Fossil,
                subdir: String::new(),
            }))
        }
        _ => vcs_suffix(path).map(|r| {
            r.map(|(root, repo, vcs)| RepoRoot {
                url: https(&repo),
                root,
                vcs,
                subdir: String::new(),
            })
        }),
    }
}

/// The generic `<host>/<path>.git` (or `.hg`, `.svn`, `.fossil`) rule: (root, repository without the suffix, its
/// system). The repository is reached over https, as the go command's first choice; plain
/// http and ssh are left to the operator's `insteadOf` rules or `direct.insecure`.
fn vcs_suffix(path: &str) -> Option<Result<(String, String, Vcs), String>> {
    let elems: Vec<&str> = path.split('/').collect();
    let host = elems[0];
    let host_ok = host.contains('.')
        && host.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b':'
        });
    if !host_ok || elems.len() < 2 {
        return None;
    }
    for (i, e) in elems.iter().enumerate().skip(1) {
        let e2 = e.strip_prefix('~').unwrap_or(e);
        if !word_chars(e2) {
            return None;
        }
        for s in VCS_SUFFIXES {
            if let Some(stem) = e.strip_suffix(s)
                && !stem.is_empty()
            {
                let Some(vcs) = Vcs::from_name(&s[1..]) else {
                    return Some(Err(format!(
                        "{path}: version control system {} is not supported",
                        &s[1..]
                    )));
                };
                let root = elems[..=i].join("/");
                let repo = format!("{}/{stem}", elems[..i].join("/"));
                return Some(Ok((root, repo, vcs)));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_hosts() {
        let ok = [
            ("github.com/o/r", "github.com/o/r", "https://github.com/o/r"),
            (
                "github.com/Agora-Test/Caps/sub/v2",
                "github.com/Agora-Test/Caps",
                "https://github.com/Agora-Test/Caps",
            ),
            (
                "bitbucket.org/o/r/x",
                "bitbucket.org/o/r",
                "https://bitbucket.org/o/r",
            ),
            (
                "hub.jazz.net/git/user1/r/x",
                "hub.jazz.net/git/user1/r",
                "https://hub.jazz.net/git/user1/r",
            ),
            (
                "git.apache.org/thrift.git/lib/go",
                "git.apache.org/thrift.git",
                "https://git.apache.org/thrift.git",
            ),
            (
                "example.com/foo.git/bar",
                "example.com/foo.git",
                "https://example.com/foo",
            ),
            (
                "example.com:8080/a/b.git",
                "example.com:8080/a/b.git",
                "https://example.com:8080/a/b",
            ),
            (
                "example.com/x.hg/y",
                "example.com/x.hg",
                "https://example.com/x",
            ),
            // Go 1.27 no longer knows Bazaar: not a suffix, not refused on GitHub.
            (
                "github.com/o/r.bzr",
                "github.com/o/r.bzr",
                "https://github.com/o/r.bzr",
            ),
        ];
        for (path, root, url) in ok {
            let r = known_host(path).unwrap().unwrap();
            assert_eq!((r.root.as_str(), r.url.as_str()), (root, url), "{path}");
        }
        assert_eq!(
            known_host("example.com/x.hg").unwrap().unwrap().vcs,
            Vcs::Hg
        );
        assert_eq!(
            known_host("example.com/x.git/y").unwrap().unwrap().vcs,
            Vcs::Git
        );
        for path in [
            "github.com/o",
            "github.com/o/r.git",
            "github.com/o/r.hg",
            "github.com/o/r/a b",
            "hub.jazz.net/git/User/r",
            "chiselapp.com/user/kyle/repository/fossilgg/pkg",
            "chiselapp.com/user/k_y/repository/r",
        ] {
            assert!(matches!(known_host(path), Some(Err(_))), "{path}");
        }
        for path in ["example.com/x", "golang.org/x/tools", "example.com/x.bzr/y"] {
            assert!(known_host(path).is_none(), "{path}");
        }
    }
}
