//! The checks of a candidate that need no store: what its `.info` names, what its go.mod
//! declares, its digest.

use std::path::Path;

use crate::store::BlobRef;
use crate::upstream::Info;
use gomod::modfile::{Declared, declares};
use gomod::module::ModulePath;
use gomod::version::Version;

/// The `.info` must be a JSON object whose `Version` is `version` (the echo rule).
pub fn info_names(version: &Version, raw: &[u8]) -> Result<(), String> {
    let info = Info::parse(raw.to_vec()).map_err(|e| format!(".info of {version}: {e}"))?;
    if info.version != version.as_str() {
        return Err(format!(
            ".info names version {:?}, not {version}",
            info.version
        ));
    }
    Ok(())
}

/// `{"Version":"v1.2.3","Time":"2026-01-02T03:04:05Z"}`, the time being now.
pub fn generated_info(version: &Version) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let time = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string());
    serde_json::json!({ "Version": version.as_str(), "Time": time })
        .to_string()
        .into_bytes()
}

/// The go.mod must declare this module; a fetched one may declare a fork with the same major
/// version, as the go command's fetcher allows.
pub fn go_mod_declares(module: &ModulePath, go_mod: &[u8], allow_fork: bool) -> Result<(), String> {
    match declares(module.as_str(), go_mod).map_err(|e| e.to_string())? {
        Declared::Exact => Ok(()),
        Declared::SameMajor(declared) if allow_fork => {
            tracing::warn!(
                %declared,
                "go.mod declares another module path with the same major version; served as the go command would"
            );
            Ok(())
        }
        Declared::SameMajor(declared) => Err(format!(
            "go.mod declares module {declared:?}, not {:?}",
            module.as_str()
        )),
    }
}

/// The sha256 and size of a file, read in bounded pieces.
pub fn digest(path: &Path) -> Result<BlobRef, std::io::Error> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let sha = gomod::dirhash::sha256_reader(std::io::BufReader::new(file))?;
    Ok(BlobRef {
        sha256: hex::encode(sha),
        size,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn infos() {
        let v = Version::parse("v1.2.0").unwrap();
        let cases: &[(&str, Result<(), &str>)] = &[
            (
                r#"{"Version":"v1.2.0","Time":"2024-01-01T00:00:00Z"}"#,
                Ok(()),
            ),
            (r#"{"Version":"v1.2.0"}"#, Ok(())),
            (r#"{"Version":"v1.2.1"}"#, Err("names version")),
            (r#"{"Time":"x"}"#, Err(".info of v1.2.0")),
            ("not json", Err(".info of v1.2.0")),
            (r#"["v1.2.0"]"#, Err(".info of v1.2.0")),
        ];
        for (raw, want) in cases {
            match (info_names(&v, raw.as_bytes()), want) {
                (Ok(()), Ok(())) => {}
                (Err(e), Err(w)) => assert!(e.contains(w), "{raw}: {e}"),
                (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
        let generated = generated_info(&v);
        assert_eq!(info_names(&v, &generated), Ok(()));
    }

    #[test]
    fn forks_only_when_fetched() {
        let m = ModulePath::parse("example.com/fork").unwrap();
        let fork = b"module example.com/upstream\n";
        assert!(go_mod_declares(&m, fork, true).is_ok());
        assert!(go_mod_declares(&m, fork, false).is_err());
        assert!(go_mod_declares(&m, b"module example.com/fork\n", false).is_ok());
        assert!(go_mod_declares(&m, b"module example.com/fork/v2\n", true).is_err());
    }

    #[test]
    fn digests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z");
        std::fs::write(&path, b"abc").unwrap();
        let d = digest(&path).unwrap();
        assert_eq!(d.size, 3);
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
