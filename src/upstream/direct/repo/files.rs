//! Reading small files (go.mod, LICENSE) out of the repository, from an in-memory cache of
//! blobs at full commit hashes or with `git cat-file`.

use std::sync::Arc;

use super::{CodeRepo, MAX_FILE, immutable};
use crate::upstream::UpstreamError;
use crate::upstream::direct::git::{GitError, Sink};

impl CodeRepo {
    /// Reads `rev:path` for each spec, from the blob cache or with one `git cat-file --batch`;
    /// `None` where missing.
    pub async fn read_files(
        &self,
        specs: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, UpstreamError> {
        let key = |s: &str| format!("{}\0{s}", self.repo.url);
        let mut out: Vec<Option<Option<Vec<u8>>>> = specs
            .iter()
            .map(|s| {
                immutable(s)
                    .then(|| self.blobs.get(&key(s)))
                    .flatten()
                    .map(|b| (*b).clone())
            })
            .collect();
        let missing: Vec<String> = specs
            .iter()
            .zip(&out)
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.clone())
            .collect();
        let mut read = self.read_files_git(&missing).await?.into_iter();
        for (spec, slot) in specs.iter().zip(out.iter_mut()) {
            if slot.is_none() {
                let data = read.next().flatten();
                if immutable(spec) {
                    self.blobs.insert(key(spec), Arc::new(data.clone()));
                }
                *slot = Some(data);
            }
        }
        Ok(out.into_iter().map(Option::flatten).collect())
    }

    /// Two `git cat-file` runs: `--batch-check` for the kinds and sizes, then `--batch` for the
    /// blobs small enough to want, with the output bounded by exactly what they add up to. A
    /// repository cannot make agora read more than `MAX_FILE` per file.
    async fn read_files_git(
        &self,
        specs: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, UpstreamError> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let lines = |items: &mut dyn Iterator<Item = &str>| {
            let mut input = Vec::new();
            for s in items {
                input.extend_from_slice(s.as_bytes());
                input.push(b'\n');
            }
            input
        };
        let check_args = ["cat-file", "--batch-check"];
        let input = lines(&mut specs.iter().map(String::as_str));
        let check_limit = input.len() + specs.len() * 128;
        let out = self
            .git
            .output(
                self.dir(),
                &check_args,
                Some(input),
                Sink::Memory(check_limit),
            )
            .await
            .map_err(|e| self.git_err(e))?;
        if !out.status.success() {
            return Err(self.git_err(crate::upstream::direct::git::failed(&check_args, &out)));
        }
        // Per spec: the blob's object name and size, if it is a blob worth reading.
        let text = String::from_utf8_lossy(&out.stdout);
        let mut wanted: Vec<Option<(String, usize)>> = Vec::with_capacity(specs.len());
        let mut checked = text.lines();
        for _ in specs {
            let line = checked
                .next()
                .ok_or_else(|| self.short_output("--batch-check"))?;
            let f: Vec<&str> = line.split(' ').collect();
            wanted.push(match f[..] {
                [oid, "blob", size] => size
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_FILE)
                    .map(|n| (oid.to_string(), n)),
                _ => None,
            });
        }
        let blobs: Vec<&(String, usize)> = wanted.iter().flatten().collect();
        if blobs.is_empty() {
            return Ok(vec![None; specs.len()]);
        }
        let batch_args = ["cat-file", "--batch"];
        let input = lines(&mut blobs.iter().map(|(oid, _)| oid.as_str()));
        let limit: usize = blobs.iter().map(|(oid, n)| n + oid.len() + 32).sum();
        let out = self
            .git
            .output(self.dir(), &batch_args, Some(input), Sink::Memory(limit))
            .await
            .map_err(|e| self.git_err(e))?;
        if !out.status.success() {
            return Err(self.git_err(crate::upstream::direct::git::failed(&batch_args, &out)));
        }
        let data = out.stdout;
        let mut pos = 0;
        let mut bodies = Vec::with_capacity(blobs.len());
        for (_, size) in &blobs {
            let nl = data[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| self.short_output("--batch"))?;
            pos += nl + 1;
            let end = pos + size;
            if end > data.len() {
                return Err(self.short_output("--batch"));
            }
            bodies.push(data[pos..end].to_vec());
            pos = end + 1;
        }
        let mut bodies = bodies.into_iter();
        Ok(wanted
            .iter()
            .map(|w| w.as_ref().and_then(|_| bodies.next()))
            .collect())
    }

    fn short_output(&self, mode: &str) -> UpstreamError {
        self.git_err(GitError::Spawn {
            args: format!("cat-file {mode}"),
            reason: "short output".into(),
        })
    }

    pub(super) async fn read_file(
        &self,
        rev: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, UpstreamError> {
        Ok(self
            .read_files(&[format!("{rev}:{path}")])
            .await?
            .into_iter()
            .next()
            .flatten())
    }
}
