//! Whether a go.mod declares the module it was served for. The go command's fetcher accepts a
//! go.mod naming another path with the same major version (a fork, or a module whose path changed
//! case): it is the importer that later finds the mismatch. A go.mod without a module line, or one
//! naming another major version, is never served.

use super::parse_lax;
use crate::module::split_path_version;

/// What a go.mod's `module` line says about the path it was served for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// Exactly this module.
    Exact,
    /// Another path with the same major version suffix.
    SameMajor(String),
}

/// Why a go.mod cannot be served for a module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDeclared {
    #[error("go.mod of {module}: {reason}")]
    Unparsable { module: String, reason: String },
    #[error("go.mod of {module} has no module directive")]
    NoModule { module: String },
    #[error("go.mod declares module {declared:?}, whose major version does not match {module:?}")]
    OtherMajor { module: String, declared: String },
}

/// What `go_mod` declares, for `module`.
pub fn declares(module: &str, go_mod: &[u8]) -> Result<Declared, NotDeclared> {
    let parsed = parse_lax(go_mod).map_err(|e| NotDeclared::Unparsable {
        module: module.to_string(),
        reason: e.to_string(),
    })?;
    let Some(declared) = parsed.module_path() else {
        return Err(NotDeclared::NoModule {
            module: module.to_string(),
        });
    };
    if declared == module {
        return Ok(Declared::Exact);
    }
    let major =
        |p: &str| split_path_version(p).map(|(_, m)| m.trim_start_matches(['/', '.']).to_string());
    match (major(declared), major(module)) {
        (Some(a), Some(b)) if a == b => Ok(Declared::SameMajor(declared.to_string())),
        _ => Err(NotDeclared::OtherMajor {
            module: module.to_string(),
            declared: declared.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Want {
        Exact,
        Fork(&'static str),
        Refused(&'static str),
    }

    #[test]
    fn declarations() {
        use Want::*;
        let cases = [
            ("example.com/m", "module example.com/m\n", Exact),
            (
                "example.com/m",
                "module \"example.com/m\"\ngo 1.21\n",
                Exact,
            ),
            ("example.com/m/v2", "module example.com/m/v2\n", Exact),
            ("gopkg.in/yaml.v2", "module gopkg.in/yaml.v2\n", Exact),
            (
                "github.com/Sirupsen/logrus",
                "module github.com/sirupsen/logrus\n",
                Fork("github.com/sirupsen/logrus"),
            ),
            (
                "example.com/fork",
                "module example.com/upstream\n",
                Fork("example.com/upstream"),
            ),
            (
                "example.com/fork/v2",
                "module example.com/upstream/v2\n",
                Fork("example.com/upstream/v2"),
            ),
            (
                "example.com/m/v2",
                "module example.com/m\n",
                Refused("major version"),
            ),
            (
                "example.com/m",
                "module example.com/m/v3\n",
                Refused("major version"),
            ),
            (
                "gopkg.in/yaml.v2",
                "module gopkg.in/yaml.v3\n",
                Refused("major version"),
            ),
            ("example.com/m", "go 1.21\n", Refused("no module directive")),
            ("example.com/m", "module\n", Refused("")),
            ("example.com/m", "modul example.com/m\n", Refused("")),
        ];
        for (module, go_mod, want) in cases {
            let got = declares(module, go_mod.as_bytes());
            match want {
                Exact => assert_eq!(got, Ok(Declared::Exact), "{module} {go_mod:?}"),
                Fork(d) => assert_eq!(got, Ok(Declared::SameMajor(d.into())), "{module}"),
                Refused(why) => {
                    let e = got.expect_err(module);
                    assert!(e.to_string().contains(why), "{module}: {e}");
                }
            }
        }
    }
}
