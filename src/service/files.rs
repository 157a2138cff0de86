//! A version's `.info`, `.mod` and `.zip`: from the store, fetched first on a miss as the rules'
//! mode says; `.info` of a query is resolved by the upstream.

use bytes::Bytes;
use futures::StreamExt;
use tracing::{Instrument, info_span};

use super::lists::{canonical_for, checked_query_answer, stored_only};
use super::{CacheResult, ProxyService, Reply, ZipAnswer};
use crate::error::Error;
use crate::fetch::{CheckedZip, Fetched, Part, Storing};
use crate::policy::{self, Mode, Passage};
use crate::store::{BlobBody, ByteStream, StoreError, StoredVersion, VersionStore};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// A stored version, or where to find it instead.
enum Located {
    Here(StoredVersion, CacheResult),
    /// The part asked for, checked by a fetch that is still storing the version.
    Fetching(Fetched),
    Elsewhere(String),
}

impl ProxyService {
    /// `.info` of a canonical version (stored, fetched on a miss) or of a query the upstream
    /// resolves.
    pub async fn info(&self, module: &ModulePath, query: &str) -> Result<Reply<Bytes>, Error> {
        if let Some(version) = canonical_for(module, query) {
            return Ok(match self.ensure(module, &version, Part::Info).await? {
                Located::Here(stored, cache) => Reply::found(stored.info, cache, true),
                Located::Fetching(Fetched::Info(info)) => {
                    Reply::found(info, CacheResult::Miss, true)
                }
                Located::Fetching(_) => return Err(wrong_part()),
                Located::Elsewhere(url) => Reply::Redirect(url),
            });
        }
        let escaped = module::escape_version(query).unwrap_or_else(|_| query.to_string());
        let file = format!("{}.info", crate::escape::path_segment(&escaped));
        match self.rules.for_module(module, &file)? {
            Passage::Redirect(url) => return Ok(Reply::Redirect(url)),
            Passage::Serve(Mode::None) => return Err(stored_only(module).into()),
            Passage::Serve(_) => {}
        }
        let info = self
            .lookups
            .run(
                module,
                format!("q:{query}"),
                self.upstream
                    .info(module, query)
                    .instrument(info_span!("upstream_info")),
            )
            .await?;
        let info = checked_query_answer(module, info)?;
        self.rules.refuse_denied(module, &info.version)?;
        Ok(Reply::found(
            Bytes::from(info.raw),
            CacheResult::Pass,
            false,
        ))
    }

    pub async fn go_mod(&self, module: &ModulePath, version: &str) -> Result<Reply<Bytes>, Error> {
        let version = require_canonical(module, version)?;
        Ok(match self.ensure(module, &version, Part::Mod).await? {
            Located::Here(stored, cache) => Reply::found(stored.go_mod, cache, true),
            Located::Fetching(Fetched::GoMod(go_mod)) => {
                Reply::found(go_mod, CacheResult::Miss, true)
            }
            Located::Fetching(_) => return Err(wrong_part()),
            Located::Elsewhere(url) => Reply::Redirect(url),
        })
    }

    pub async fn zip(&self, module: &ModulePath, version: &str) -> Result<Reply<ZipAnswer>, Error> {
        let version = require_canonical(module, version)?;
        let (stored, cache) = match self.ensure(module, &version, Part::Zip).await? {
            Located::Here(stored, cache) => (stored, cache),
            Located::Fetching(Fetched::Zip(zip, storing)) => {
                let answer = checked_zip(zip, storing).await?;
                return Ok(Reply::found(answer, CacheResult::Miss, true));
            }
            Located::Fetching(_) => return Err(wrong_part()),
            Located::Elsewhere(url) => return Ok(Reply::Redirect(url)),
        };
        if let Some(ttl) = self.zip_redirect
            && let Some(url) = self.blobs.presign(&stored.zip, ttl).await?
        {
            return Ok(Reply::Redirect(url));
        }
        let blob = self.blobs.open(&stored.zip).await?;
        let answer = ZipAnswer {
            size: blob.size,
            sha256: stored.zip.sha256,
            body: blob.body,
        };
        Ok(Reply::found(answer, cache, true))
    }

    /// The stored version, fetched first if this is its first request anywhere (as the rules'
    /// mode says: now, in the background, elsewhere or not at all); 410 with the reason if it
    /// is hidden. A version fetched just now is answered as soon as `part` passed its checks.
    async fn ensure(
        &self,
        module: &ModulePath,
        version: &Version,
        part: Part,
    ) -> Result<Located, Error> {
        let decision = self.rules.for_version(module, version.as_str())?;
        let (stored, cache) = match self
            .stored_or_fill(module, version, part, decision.mode)
            .await?
        {
            Located::Here(stored, cache) => (stored, cache),
            elsewhere => return Ok(elsewhere),
        };
        if let Some(reason) = self.hidden.reason(stored.id).await? {
            return Err(Error::Removed {
                what: format!("{module}@{version}"),
                reason: Some(reason.to_string()),
            });
        }
        self.usage.record(stored.id);
        Ok(Located::Here(stored, cache))
    }

    async fn stored_or_fill(
        &self,
        module: &ModulePath,
        version: &Version,
        part: Part,
        mode: Mode,
    ) -> Result<Located, Error> {
        if let Some(stored) = self
            .versions
            .version(module, version)
            .instrument(info_span!("store_lookup"))
            .await?
        {
            return Ok(Located::Here(stored, CacheResult::Hit));
        }
        match mode {
            Mode::Sync | Mode::Async
                if let Some(missing) = self.lookups.missing(module, version) =>
            {
                Err(missing)
            }
            Mode::Sync => match self.fetcher.part(module, version, part).await {
                Ok(Fetched::Stored(stored)) => {
                    self.versions.remember(module, version, &stored);
                    Ok(Located::Here(stored, CacheResult::Miss))
                }
                Ok(early) => Ok(Located::Fetching(early)),
                Err(e) => {
                    self.lookups.remember_missing(module, version, &e);
                    Err(e)
                }
            },
            Mode::Async => {
                let (fetcher, m, v) = (self.fetcher.clone(), module.clone(), version.clone());
                tokio::spawn(async move {
                    if let Err(e) = fetcher.ensure(&m, &v).await {
                        tracing::warn!(module = %m, version = %v, error = %e, "background fetch failed");
                    }
                });
                Err(Error::not_found(format!(
                    "{module}@{version}: fetching in the background, retry shortly"
                )))
            }
            Mode::Redirect(base) => {
                let ext = match part {
                    Part::Info => "info",
                    Part::Mod => "mod",
                    Part::Zip => "zip",
                };
                let file = policy::version_file(version, ext);
                Ok(Located::Elsewhere(policy::redirect_url(
                    &base, module, &file,
                )))
            }
            Mode::None => Err(stored_only(module).into()),
        }
    }
}

/// A checked zip served from the fetch's own file while the version is being stored. The last
/// piece waits for the store: a response that completes means the version is stored, and one
/// whose version could not be stored breaks off instead of ending.
async fn checked_zip(zip: CheckedZip, storing: Storing) -> Result<ZipAnswer, Error> {
    let file = tokio::fs::File::open(zip.path())
        .await
        .map_err(|e| Error::internal(anyhow::anyhow!("fetched zip: {e}")))?;
    let blob = crate::cache::blobs::file_blob(&zip.blob, file);
    Ok(ZipAnswer {
        size: blob.size,
        sha256: zip.blob.sha256,
        body: BlobBody::Stream(last_piece_after(blob.into_stream(), storing)),
    })
}

/// `pieces`, the last one held back until `storing` is done.
fn last_piece_after(pieces: ByteStream, storing: Storing) -> ByteStream {
    struct State {
        pieces: ByteStream,
        held: Option<Bytes>,
        storing: Option<Storing>,
    }
    let state = State {
        pieces,
        held: None,
        storing: Some(storing),
    };
    Box::pin(futures::stream::unfold(state, |mut st| async move {
        loop {
            match st.pieces.next().await {
                Some(Ok(piece)) => {
                    if let Some(before) = st.held.replace(piece) {
                        return Some((Ok(before), st));
                    }
                }
                Some(Err(e)) => {
                    st.storing = None;
                    st.held = None;
                    return Some((Err(e), st));
                }
                None => {
                    let stored = st.storing.take()?.stored().await;
                    let last = st.held.take();
                    return match (stored, last) {
                        (Ok(_), Some(last)) => Some((Ok(last), st)),
                        (Ok(_), None) => None,
                        (Err(e), _) => {
                            tracing::warn!(error = %e, "the zip was sent but could not be stored; response broken off");
                            Some((Err(StoreError::Io(format!("not stored: {e}"))), st))
                        }
                    };
                }
            }
        }
    }))
}

/// A flight answers with the part it was asked for; anything else is a bug here.
fn wrong_part() -> Error {
    Error::internal(anyhow::anyhow!("a fetch answered with another part"))
}

/// `.mod` and `.zip` exist only for canonical versions valid for the path.
fn require_canonical(module: &ModulePath, version: &str) -> Result<Version, Error> {
    let v = Version::parse(version)
        .map_err(|e| Error::not_found(format!("{module}@{version}: invalid version: {e}")))?;
    module::check(module.as_str(), v.as_str()).map_err(|e| Error::not_found(e.to_string()))?;
    Ok(v)
}
