//! `@v/list` and `@latest`: the upstream's answer merged with (or, when it is down, replaced by)
//! what is stored, without hidden or denied versions.

use bytes::Bytes;
use tracing::{Instrument, info_span};

use super::lookups::Failed;
use super::{CacheResult, ProxyService, Reply};
use crate::cache::ListKind;
use crate::error::Error;
use crate::policy::{Mode, Passage};
use crate::store::{StoredVersion, VersionStore};
use crate::upstream::{Info, UpstreamError};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

impl ProxyService {
    /// `@v/list`: the upstream's versions merged with the stored ones; the stored ones alone
    /// when the upstream is down.
    pub async fn list(&self, module: &ModulePath) -> Result<Reply<Bytes>, Error> {
        let mode = match self.rules.for_module(module, "list")? {
            Passage::Redirect(url) => return Ok(Reply::Redirect(url)),
            Passage::Serve(mode) => mode,
        };
        if let Some(body) = self.lists.get(module, ListKind::List) {
            let body = self.rules.without_denied(module, body);
            return Ok(Reply::found(body, CacheResult::Hit, false));
        }
        let stored = self
            .versions
            .versions(module)
            .instrument(info_span!("store_lookup"))
            .await?;
        let upstream = self
            .ask(
                &mode,
                module,
                "list",
                self.upstream
                    .list(module)
                    .instrument(info_span!("upstream_list")),
            )
            .await;
        let mut versions: Vec<String> = match upstream {
            Ok(body) => body
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect(),
            Err(e) if stored.is_empty() => return Err(e.into()),
            Err(e) => {
                if !e.is_not_found() {
                    tracing::warn!(error = %e, "upstream list failed; serving stored versions");
                }
                Vec::new()
            }
        };
        versions.extend(stored);
        let hidden = self.hidden.of_module(module).await?;
        let major = path_major(module);
        versions.retain(|v| listable(major, v) && !hidden.contains(v));
        gomod::semver::sort(&mut versions);
        versions.dedup();
        let mut body = versions.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        let body = Bytes::from(body);
        self.lists.keep(module, ListKind::List, &body);
        let body = self.rules.without_denied(module, body);
        Ok(Reply::found(body, CacheResult::Miss, false))
    }

    /// `@latest`: the upstream's answer, or the highest stored version when it has none.
    pub async fn latest(&self, module: &ModulePath) -> Result<Reply<Bytes>, Error> {
        let mode = match self.rules.for_module(module, "@latest")? {
            Passage::Redirect(url) => return Ok(Reply::Redirect(url)),
            Passage::Serve(mode) => mode,
        };
        if let Some(body) = self.lists.get(module, ListKind::Latest) {
            self.names_allowed(module, &body)?;
            return Ok(Reply::found(body, CacheResult::Hit, false));
        }
        let upstream = self
            .ask(
                &mode,
                module,
                "latest",
                self.upstream
                    .latest(module)
                    .instrument(info_span!("upstream_latest")),
            )
            .await;
        let body = match upstream {
            Ok(info) => {
                let hidden = self.hidden.of_module(module).await?;
                if hidden.contains(&info.version) {
                    // The upstream's latest was hidden here: answer with the best visible one.
                    match self.latest_stored(module).await? {
                        Some(stored) => stored.info.clone(),
                        None => {
                            return Err(Error::Removed {
                                what: format!("{module}@{}", info.version),
                                reason: None,
                            });
                        }
                    }
                } else {
                    Bytes::from(checked_query_answer(module, info)?.raw)
                }
            }
            Err(e) => match self.latest_stored(module).await? {
                Some(stored) => {
                    if !e.is_not_found() {
                        tracing::warn!(error = %e, "upstream latest failed; serving the highest stored version");
                    }
                    stored.info.clone()
                }
                None => return Err(e.into()),
            },
        };
        self.lists.keep(module, ListKind::Latest, &body);
        self.names_allowed(module, &body)?;
        Ok(Reply::found(body, CacheResult::Miss, false))
    }

    /// The version the go command would pick among the stored ones: releases over
    /// pre-releases over pseudo-versions, skipping what the newest stored go.mod retracts.
    async fn latest_stored(&self, module: &ModulePath) -> Result<Option<StoredVersion>, Error> {
        let mut versions = self.versions.versions(module).await?;
        let hidden = self.hidden.of_module(module).await?;
        versions.retain(|v| !hidden.contains(v));
        let pick = |retracted: &dyn Fn(&str) -> bool| {
            gomod::latest::pick_latest_with_pseudo(versions.iter().map(String::as_str), retracted)
                .and_then(|v| Version::parse(&v).ok())
        };
        let Some(newest) = pick(&|_| false) else {
            return Ok(None);
        };
        let Some(newest_stored) = self.versions.version(module, &newest).await? else {
            return Ok(None);
        };
        let chosen = match gomod::modfile::parse_lax(&newest_stored.go_mod) {
            Ok(file) => pick(&|v| file.is_retracted(v)),
            Err(_) => Some(newest),
        };
        match chosen {
            Some(v) => Ok(self.versions.version(module, &v).await?),
            None => Ok(None),
        }
    }

    /// The upstream's answer to a module-wide lookup (`what`), unless the mode fetches nothing.
    async fn ask<T>(
        &self,
        mode: &Mode,
        module: &ModulePath,
        what: &str,
        call: impl std::future::Future<Output = Result<T, UpstreamError>>,
    ) -> Result<T, Failed> {
        if *mode == Mode::None {
            return Err(Failed::Upstream(stored_only(module)));
        }
        self.lookups.run(module, what.to_string(), call).await
    }

    /// An `@latest` answer must not name a denied version.
    fn names_allowed(&self, module: &ModulePath, info: &[u8]) -> Result<(), Error> {
        if let Ok(info) = Info::parse(info.to_vec()) {
            self.rules.refuse_denied(module, &info.version)?;
        }
        Ok(())
    }
}

/// A miss under mode `none`.
pub(super) fn stored_only(module: &ModulePath) -> UpstreamError {
    UpstreamError::NotFound(format!(
        "not found: {module}: not stored, and policy mode \"none\" fetches nothing"
    ))
}

/// `query` as a version the module can have, if it is canonical and passes `module.Check`.
/// Anything else is a query for the upstream to resolve (`v2.0.0` of an unsuffixed path may
/// become `v2.0.0+incompatible`).
pub(super) fn canonical_for(module: &ModulePath, query: &str) -> Option<Version> {
    let v = Version::parse(query).ok()?;
    module::check(module.as_str(), v.as_str()).ok()?;
    Some(v)
}

/// What `list` may contain: canonical versions of this module, and no pseudo-versions. The path
/// is valid already (a `ModulePath`), so only the version is checked against its major suffix,
/// computed once per list: a list may hold thousands of versions.
fn listable(path_major: &str, v: &str) -> bool {
    Version::parse(v).is_ok_and(|v| module::check_path_major(v.as_str(), path_major).is_ok())
        && !gomod::pseudo::is_pseudo_version(v)
}

fn path_major(module: &ModulePath) -> &str {
    module::split_path_version(module.as_str()).map_or("", |(_, major)| major)
}

/// The upstream's answer to a query must name a canonical version valid for this module.
pub(super) fn checked_query_answer(module: &ModulePath, info: Info) -> Result<Info, Error> {
    if canonical_for(module, &info.version).is_none() {
        return Err(UpstreamError::Invalid(format!(
            "upstream answered {module} with version {:?}, which is not a canonical version of it",
            info.version
        ))
        .into());
    }
    Ok(info)
}
