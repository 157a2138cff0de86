//! Checking fetched zips against the checksum database before they are stored
//! (`sumdb.verify_zips`).
//!
//! The record for `module@version` is looked up in the first configured database through the
//! [`SumdbProxy`], so the answer is kept in the store and later served to go commands verifying
//! the same version. Agora compares the record's `h1:` hashes with the ones it computed; it does
//! not check the tree note's signature or the record's inclusion proof: the go command does that
//! itself for every download, and this check is defence in depth in front of the cache, so a
//! proxy serving other bytes than the database vouches for never gets them stored.

use std::sync::Arc;

use async_trait::async_trait;
use gomod::module::{ModulePath, escape_path, escape_version};
use gomod::version::Version;

use super::SumdbProxy;

/// What the checksum database says about a fetched version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The database's hashes are the computed ones.
    Ok,
    /// The database vouches for other hashes: a one-line reason naming both.
    Mismatch(String),
    /// The database does not know the version (404/410).
    NotFound,
    /// The database could not be asked, or its answer was unusable: why.
    Unavailable(String),
    /// The module is private: the database is not asked.
    Private,
}

impl Verdict {
    /// The `result` label of `agora_sumdb_verifications_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Mismatch(_) => "mismatch",
            Verdict::NotFound => "not_found",
            Verdict::Unavailable(_) => "unavailable",
            Verdict::Private => "private",
        }
    }
}

/// Checks a version's computed hashes before it is stored.
#[async_trait]
pub trait ZipVerifier: Send + Sync {
    /// `zip_h1` and `mod_h1` are the `h1:…` hashes computed from the fetched zip and go.mod.
    async fn verify(
        &self,
        module: &ModulePath,
        version: &Version,
        zip_h1: &str,
        mod_h1: &str,
    ) -> Verdict;

    /// Whether a version the database cannot be asked about is refused rather than stored.
    fn fail_closed(&self) -> bool {
        false
    }
}

/// Verifies against the first database of `sumdb.names`, through the proxy and its store cache.
pub struct SumdbVerifier {
    proxy: Arc<SumdbProxy>,
    fail_closed: bool,
}

impl SumdbVerifier {
    /// `None` when the proxy has no database to ask.
    pub fn new(proxy: Arc<SumdbProxy>, fail_closed: bool) -> Option<Self> {
        proxy.first_name()?;
        Some(Self { proxy, fail_closed })
    }
}

#[async_trait]
impl ZipVerifier for SumdbVerifier {
    async fn verify(
        &self,
        module: &ModulePath,
        version: &Version,
        zip_h1: &str,
        mod_h1: &str,
    ) -> Verdict {
        let (m, v) = (module.as_str(), version.as_str());
        if self.proxy.is_private(m) {
            return Verdict::Private;
        }
        let (Ok(em), Ok(ev)) = (escape_path(m), escape_version(v)) else {
            return Verdict::Unavailable(format!("{m}@{v} cannot be named in a lookup"));
        };
        let answer = match self.proxy.lookup(&format!("lookup/{em}@{ev}")).await {
            Ok(a) => a,
            Err(e) => return Verdict::Unavailable(e.to_string()),
        };
        match answer.status {
            200 => {}
            404 | 410 => return Verdict::NotFound,
            s => return Verdict::Unavailable(format!("lookup answered status {s}")),
        }
        compare(&answer.body, m, v, zip_h1, mod_h1)
    }

    fn fail_closed(&self) -> bool {
        self.fail_closed
    }
}

/// Compares the record lines of a lookup answer (`<id>\n<m> <v> h1:…\n<m> <v>/go.mod h1:…\n\n…`)
/// with the computed hashes.
fn compare(body: &[u8], module: &str, version: &str, zip_h1: &str, mod_h1: &str) -> Verdict {
    let Ok(text) = std::str::from_utf8(body) else {
        return Verdict::Unavailable("lookup answer is not UTF-8".into());
    };
    let mod_version = format!("{version}/go.mod");
    let (mut zip_rec, mut mod_rec) = (None, None);
    for line in text.lines().skip(1).take_while(|l| !l.is_empty()) {
        let mut f = line.split(' ');
        let (Some(m), Some(v), Some(h), None) = (f.next(), f.next(), f.next(), f.next()) else {
            continue;
        };
        if m != module || !h.starts_with("h1:") {
            continue;
        }
        if v == version {
            zip_rec = Some(h);
        } else if v == mod_version {
            mod_rec = Some(h);
        }
    }
    let Some(zip_rec) = zip_rec else {
        return Verdict::Unavailable(format!(
            "lookup answer has no zip hash for {module}@{version}"
        ));
    };
    if zip_rec != zip_h1 {
        return Verdict::Mismatch(format!(
            "checksum mismatch for {module}@{version}: the upstream zip hashes to {zip_h1}, the checksum database records {zip_rec}"
        ));
    }
    match mod_rec {
        Some(rec) if rec != mod_h1 => Verdict::Mismatch(format!(
            "checksum mismatch for {module}@{version}: the upstream go.mod hashes to {mod_h1}, the checksum database records {rec}"
        )),
        _ => Verdict::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "42\nexample.com/m v1.0.0 h1:zip=\nexample.com/m v1.0.0/go.mod h1:mod=\n\ngo.sum database tree\n43\nroot\n\n— sum x\n";

    #[test]
    fn compares_both_hashes() {
        let c = |z: &str, m: &str| compare(BODY.as_bytes(), "example.com/m", "v1.0.0", z, m);
        assert_eq!(c("h1:zip=", "h1:mod="), Verdict::Ok);
        let Verdict::Mismatch(why) = c("h1:other=", "h1:mod=") else {
            panic!("zip mismatch not found");
        };
        assert!(
            why.contains("h1:other=") && why.contains("h1:zip="),
            "{why}"
        );
        assert!(!why.contains('\n'));
        let Verdict::Mismatch(why) = c("h1:zip=", "h1:other=") else {
            panic!("go.mod mismatch not found");
        };
        assert!(why.contains("go.mod") && why.contains("h1:mod="), "{why}");
    }

    #[test]
    fn records_of_other_versions_are_not_used() {
        let v = compare(
            BODY.as_bytes(),
            "example.com/m",
            "v1.0.1",
            "h1:zip=",
            "h1:mod=",
        );
        assert_eq!(v.label(), "unavailable");
        let v = compare(
            BODY.as_bytes(),
            "example.com/other",
            "v1.0.0",
            "h1:zip=",
            "h1:mod=",
        );
        assert_eq!(v.label(), "unavailable");
    }
}
