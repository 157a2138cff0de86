//! The one way into the store. A candidate version, fetched from an upstream, published by a
//! client or imported from a tree, is checked as the go command would check it (the `.info`
//! names the version, the go.mod declares the module, the zip passes every module-zip rule, the
//! hashes are computed, and a fetched one agrees with the checksum database), then stored: the
//! zip's blob first, the version row last.

mod checks;

use std::path::Path;
use std::sync::Arc;

use tracing::{Instrument, info_span};

use crate::error::Error;
use crate::policy::LiveRules;
use crate::policy::hook::Hook;
use crate::store::{BlobRef, BlobStore, Inserted, NewVersion, StoredVersion, VersionStore};
use crate::sumdb::verify::{Verdict, ZipVerifier};
use crate::telemetry::metrics::METRICS;
use crate::upstream::UpstreamError;
pub use checks::generated_info;
use gomod::module::ModulePath;
use gomod::version::Version;

/// Where a candidate comes from, which decides whose fault a refusal is and how strict the
/// go.mod rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// From an upstream (`source` names it): a refusal is the upstream's fault (502); a go.mod of
    /// a fork with the same major version is served, as the go command's fetcher does; the
    /// checksum database is asked.
    Fetched { source: String },
    /// By a client with a publish token.
    Published { by: String },
    /// From a GOPROXY tree by `agora import`.
    Imported { by: String },
}

impl Origin {
    /// The stored `source` column.
    pub fn source(&self) -> String {
        match self {
            Self::Fetched { source } => source.clone(),
            Self::Published { by } => format!("publish:{by}"),
            Self::Imported { by } => format!("import:{by}"),
        }
    }

    /// A refusal, worded as whose fault it is.
    fn refuse(&self, reason: String) -> Error {
        match self {
            Self::Fetched { .. } => Error::Upstream(UpstreamError::Invalid(reason)),
            Self::Published { .. } | Self::Imported { .. } => Error::invalid(reason),
        }
    }
}

/// A version about to be stored.
pub struct Candidate<'a> {
    pub module: &'a ModulePath,
    pub version: &'a Version,
    /// The `.info` as received; generated (`Version`, and now as `Time`) when absent.
    pub info: Option<Vec<u8>>,
    /// The `.mod` as received; the zip's root go.mod (or `module PATH`) when absent.
    pub go_mod: Option<Vec<u8>>,
    /// The zip, in a local file.
    pub zip: &'a Path,
    /// Its sha256 and size, when computed while it was written; computed here otherwise.
    pub digest: Option<BlobRef>,
    /// The `h1:` the zip must have (an import's `.ziphash`).
    pub expect_h1: Option<String>,
    pub origin: Origin,
}

/// What was stored (or found stored already).
#[derive(Debug, Clone)]
pub struct Admitted {
    pub stored: StoredVersion,
    /// False when the version was stored already: nothing changed.
    pub new: bool,
    /// The `h1:` of the candidate's zip (the stored one's when `new`).
    pub checked_h1: String,
}

pub struct Intake {
    versions: Arc<dyn VersionStore>,
    blobs: Arc<dyn BlobStore>,
    rules: Arc<LiveRules>,
    hook: Option<Arc<Hook>>,
    verifier: Option<Arc<dyn ZipVerifier>>,
}

impl Intake {
    pub fn new(
        versions: Arc<dyn VersionStore>,
        blobs: Arc<dyn BlobStore>,
        rules: Arc<LiveRules>,
    ) -> Self {
        Self {
            versions,
            blobs,
            rules,
            hook: None,
            verifier: None,
        }
    }

    /// Asks `hook` about every version before it is stored.
    pub fn with_hook(mut self, hook: Option<Arc<Hook>>) -> Self {
        self.hook = hook;
        self
    }

    /// Checks every fetched version with `verifier` before storing it.
    pub fn with_verifier(mut self, verifier: Option<Arc<dyn ZipVerifier>>) -> Self {
        self.verifier = verifier;
        self
    }

    /// What may be known before any byte is downloaded or read: the version is valid for the
    /// path, no rule denies it, and the validation hook allows it.
    pub async fn may_store(&self, module: &ModulePath, version: &Version) -> Result<(), Error> {
        gomod::module::check(module.as_str(), version.as_str())
            .map_err(|e| Error::invalid(e.to_string()))?;
        self.rules.refuse_denied(module, version.as_str())?;
        if let Some(hook) = &self.hook {
            hook.check(module.as_str(), version.as_str())
                .instrument(info_span!("validation_hook"))
                .await?;
        }
        Ok(())
    }

    /// Checks `c` and stores it, unless a version of that name is stored already (then nothing
    /// changes). Nothing is stored unless every check passed.
    pub async fn admit(&self, c: Candidate<'_>) -> Result<Admitted, Error> {
        let checked = self.check(c).await?;
        self.store(checked).await
    }

    /// Every check of [`Intake::admit`], storing nothing: what passes may be served while it is
    /// being stored.
    pub async fn check<'a>(&self, c: Candidate<'a>) -> Result<Checked<'a>, Error> {
        let (module, version) = (c.module, c.version);
        let info = match c.info {
            Some(raw) => {
                checks::info_names(version, &raw).map_err(|e| c.origin.refuse(e))?;
                raw
            }
            None => generated_info(version),
        };
        let (path, m, v) = (c.zip.to_path_buf(), module.to_string(), version.to_string());
        let digest = c.digest.clone();
        let (checked, blob) = tokio::task::spawn_blocking(move || {
            let checked = gomod::zip::check_zip(&path, &m, &v).map_err(|e| e.to_string());
            let blob = match digest {
                Some(d) => Ok(d),
                None => checks::digest(&path),
            };
            (checked, blob)
        })
        .instrument(info_span!("verify"))
        .await
        .map_err(Error::internal)?;
        let checked =
            checked.map_err(|e| c.origin.refuse(format!("zip for {module}@{version}: {e}")))?;
        let blob = blob.map_err(Error::internal)?;
        if let Some(want) = c.expect_h1.as_deref().filter(|h| !h.is_empty())
            && want != checked.h1
        {
            return Err(c.origin.refuse(format!(
                "zip hash {} does not match the expected {want} (.ziphash)",
                checked.h1
            )));
        }
        let go_mod = match (c.go_mod, &checked.go_mod) {
            (Some(given), _) => given,
            (None, Some(root)) => root.clone(),
            (None, None) => format!("module {module}\n").into_bytes(),
        };
        self.go_mod_acceptable(module, &go_mod, &c.origin)?;
        let mod_h1 = gomod::dirhash::hash_go_mod(&go_mod);
        if let (Some(verifier), Origin::Fetched { .. }) = (&self.verifier, &c.origin) {
            verify(verifier.as_ref(), module, version, &checked.h1, &mod_h1)
                .instrument(info_span!("sumdb_verify"))
                .await?;
        }
        Ok(Checked {
            module,
            version,
            zip: c.zip,
            source: c.origin.source(),
            info,
            go_mod,
            blob,
            zip_h1: checked.h1,
            mod_h1,
        })
    }

    /// Whether `go_mod` may be served for `module` (the go.mod rule of [`Intake::check`]).
    pub fn go_mod_acceptable(
        &self,
        module: &ModulePath,
        go_mod: &[u8],
        origin: &Origin,
    ) -> Result<(), Error> {
        let allow_fork = matches!(origin, Origin::Fetched { .. });
        checks::go_mod_declares(module, go_mod, allow_fork).map_err(|e| origin.refuse(e))
    }

    /// Whether a checked go.mod still waits for the checksum database: then it is not served
    /// before the zip's checks are done.
    pub fn verifies(&self, origin: &Origin) -> bool {
        self.verifier.is_some() && matches!(origin, Origin::Fetched { .. })
    }

    /// Stores what passed [`Intake::check`]: the blob first, the version row last.
    pub async fn store(&self, c: Checked<'_>) -> Result<Admitted, Error> {
        let (module, version) = (c.module, c.version);
        let new = NewVersion {
            module,
            version,
            info: &c.info,
            go_mod: &c.go_mod,
            zip: &c.blob,
            zip_h1: &c.zip_h1,
            mod_h1: &c.mod_h1,
            source: &c.source,
        };
        let span = info_span!("store_write", bytes = c.blob.size);
        let inserted = async {
            self.blobs.put(&c.blob, c.zip).await?;
            self.versions.insert_version(&new).await
        }
        .instrument(span)
        .await?;
        match inserted {
            Inserted::New { id } => Ok(Admitted {
                checked_h1: c.zip_h1.clone(),
                stored: StoredVersion {
                    id,
                    info: c.info.into(),
                    go_mod: c.go_mod.into(),
                    zip: c.blob,
                    zip_h1: c.zip_h1,
                    mod_h1: c.mod_h1,
                },
                new: true,
            }),
            Inserted::AlreadyStored => {
                tracing::info!("already stored; kept the stored copy");
                let stored = self
                    .versions
                    .version(module, version)
                    .await?
                    .ok_or_else(|| {
                        Error::internal(anyhow::anyhow!(
                            "{module}@{version} was stored by someone else and is gone"
                        ))
                    })?;
                Ok(Admitted {
                    stored,
                    new: false,
                    checked_h1: c.zip_h1,
                })
            }
        }
    }
}

/// A candidate that passed every check, not yet stored.
pub struct Checked<'a> {
    module: &'a ModulePath,
    version: &'a Version,
    zip: &'a Path,
    source: String,
    info: Vec<u8>,
    go_mod: Vec<u8>,
    blob: BlobRef,
    zip_h1: String,
    mod_h1: String,
}

impl Checked<'_> {
    pub fn go_mod(&self) -> &[u8] {
        &self.go_mod
    }

    pub fn blob(&self) -> &BlobRef {
        &self.blob
    }
}

/// Asks the checksum database about a fetched version: a mismatch is refused. A database that
/// cannot be asked lets the version through with a warning unless the verifier fails closed: the
/// go command checks every download against the database itself, so this check is defence in
/// depth, and an outage of the database should not stop the proxy.
async fn verify(
    verifier: &dyn ZipVerifier,
    module: &ModulePath,
    version: &Version,
    zip_h1: &str,
    mod_h1: &str,
) -> Result<(), Error> {
    let verdict = verifier.verify(module, version, zip_h1, mod_h1).await;
    METRICS
        .sumdb_verifications
        .with_label_values(&[verdict.label()])
        .inc();
    match verdict {
        Verdict::Ok => {
            tracing::info!("checksum database agrees");
            Ok(())
        }
        Verdict::Private | Verdict::NotFound => Ok(()),
        Verdict::Mismatch(reason) => {
            tracing::error!(%reason, "refused: the checksum database disagrees with the upstream");
            Err(UpstreamError::Invalid(reason).into())
        }
        Verdict::Unavailable(why) if verifier.fail_closed() => {
            tracing::error!(reason = %why, "refused: the checksum database could not be asked");
            Err(UpstreamError::Invalid(format!(
                "{module}@{version} could not be checked against the checksum database: {why}"
            ))
            .into())
        }
        Verdict::Unavailable(why) => {
            tracing::warn!(reason = %why, "checksum database could not be asked; stored unverified");
            Ok(())
        }
    }
}
