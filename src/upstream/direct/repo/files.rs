//! Reading small files (go.mod, LICENSE) out of the repository: from an in-memory cache of
//! files at full commit hashes, else from the [`Host`](super::Host).

use std::sync::Arc;

use super::{CodeRepo, immutable};
use crate::upstream::UpstreamError;

impl CodeRepo {
    /// Reads each `(rev, path)`, from the cache or in one batch from the host; `None` where
    /// missing.
    pub async fn read_files(
        &self,
        specs: &[(String, String)],
    ) -> Result<Vec<Option<Vec<u8>>>, UpstreamError> {
        let key = |(rev, path): &(String, String)| {
            format!(
                "{}\0{}\0{rev}:{path}",
                self.host.kind().name(),
                self.repo.url
            )
        };
        let mut out: Vec<Option<Option<Vec<u8>>>> = specs
            .iter()
            .map(|s| {
                immutable(&s.0)
                    .then(|| self.blobs.get(&key(s)))
                    .flatten()
                    .map(|b| (*b).clone())
            })
            .collect();
        let missing: Vec<(String, String)> = specs
            .iter()
            .zip(&out)
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.clone())
            .collect();
        let mut read = if missing.is_empty() {
            Vec::new().into_iter()
        } else {
            self.host
                .read_files(self.dir(), &missing)
                .await
                .map_err(|e| self.git_err(e))?
                .into_iter()
        };
        for (spec, slot) in specs.iter().zip(out.iter_mut()) {
            if slot.is_none() {
                let data = read.next().flatten();
                if immutable(&spec.0) {
                    self.blobs.insert(key(spec), Arc::new(data.clone()));
                }
                *slot = Some(data);
            }
        }
        Ok(out.into_iter().map(Option::flatten).collect())
    }

    pub(super) async fn read_file(
        &self,
        rev: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, UpstreamError> {
        Ok(self
            .read_files(&[(rev.to_string(), path.to_string())])
            .await?
            .into_iter()
            .next()
            .flatten())
    }
}
