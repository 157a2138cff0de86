//! A per-replica cache of bare git repositories on local disk, one per repository URL, bounded in
//! size and evicted least-recently-used. A cached repository is brought up to date with one
//! `git ls-remote` and, only when a ref moved, one incremental `git fetch`; so a second version of
//! a repository fetches only what is new. Nothing here is authoritative: the store is. A replica
//! with an empty cache just clones again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use super::confine::{RemoteGuard, confinement, with_config};
use super::git::{Git, GitError};
pub use super::refs::{Refs, parse_ls_remote};
use crate::redact::redact;

/// The ref a fetch stores the remote's `HEAD` under.
const HEAD_REF: &str = "refs/agora/HEAD";

/// Fetches every branch and tag, moved ones included, dropping deleted ones.
const FETCH: [&str; 8] = [
    "fetch",
    "-q",
    "-f",
    "--prune",
    "--no-tags",
    "origin",
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
];

#[derive(Debug, Clone, thiserror::Error)]
pub enum RepoError {
    /// The repository cannot be read at all (does not exist, no access, unreachable). `url` is
    /// the shown form, `reason` git's own summary.
    #[error("git ls-remote {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The guard does not let git reach the repository.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("repository cache: {0}")]
    Io(String),
}

struct State {
    refreshed: Option<Instant>,
    refs: Arc<Refs>,
}

struct Entry {
    dir: PathBuf,
    /// Held (shared) while a request reads the repository; eviction needs it exclusively.
    in_use: Arc<RwLock<()>>,
    /// Serialises creation and fetches.
    state: tokio::sync::Mutex<State>,
    evicted: AtomicBool,
    size: AtomicU64,
    last_used: Mutex<SystemTime>,
}

/// A cached repository, up to date, held open until dropped.
pub struct Repo {
    pub dir: PathBuf,
    pub url: String,
    pub refs: Arc<Refs>,
    _in_use: OwnedRwLockReadGuard<()>,
}

/// How the cache is bounded and refreshed.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub max_bytes: u64,
    pub max_repos: usize,
    /// How long a repository's refs are trusted before the next `ls-remote`.
    pub refresh: Duration,
}

pub struct RepoCache {
    root: PathBuf,
    limits: CacheLimits,
    git: Git,
    guard: Arc<dyn RemoteGuard>,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl RepoCache {
    /// Opens the cache under `root`, counting what an earlier run left there. Git reaches only
    /// what `guard` allows.
    pub fn new(
        root: PathBuf,
        limits: CacheLimits,
        git: Git,
        guard: Arc<dyn RemoteGuard>,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        let mut entries = HashMap::new();
        for item in std::fs::read_dir(&root)? {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            let path = item.path();
            if name.contains(".tmp") {
                let _ = std::fs::remove_dir_all(&path);
                continue;
            }
            if !path.join("HEAD").is_file() {
                continue;
            }
            let used = item
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            entries.insert(
                name,
                Arc::new(Entry::new(path.clone(), dir_size(&path), used)),
            );
        }
        Ok(Self {
            root,
            limits,
            git,
            guard,
            entries: Mutex::new(entries),
        })
    }

    pub fn git(&self) -> &Git {
        &self.git
    }

    /// The repository at `url`, brought up to date unless that was done within the refresh
    /// interval. `force` refreshes anyway (a revision nobody has seen yet may be new);
    /// `insecure` lets git use plain http. Nothing is kept of a repository that could not be
    /// fetched.
    pub async fn open(&self, url: &str, force: bool, insecure: bool) -> Result<Repo, RepoError> {
        let key = key_of(url);
        loop {
            let entry = {
                let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                entries
                    .entry(key.clone())
                    .or_insert_with(|| {
                        Arc::new(Entry::new(self.root.join(&key), 0, SystemTime::now()))
                    })
                    .clone()
            };
            let guard = entry.in_use.clone().read_owned().await;
            if entry.evicted.load(Ordering::SeqCst) {
                continue;
            }
            *entry.last_used.lock().unwrap_or_else(|p| p.into_inner()) = SystemTime::now();
            let (refs, fetched) = match self.refresh(&entry, url, force, insecure).await {
                Ok(r) => r,
                Err(e) => {
                    drop(guard);
                    self.forget_if_absent(&key, &entry);
                    return Err(e);
                }
            };
            if fetched {
                let dir = entry.dir.clone();
                let size = tokio::task::spawn_blocking(move || dir_size(&dir))
                    .await
                    .unwrap_or(0);
                entry.size.store(size, Ordering::SeqCst);
                self.evict(&key).await;
            }
            return Ok(Repo {
                dir: entry.dir.clone(),
                url: url.to_string(),
                refs,
                _in_use: guard,
            });
        }
    }

    /// Drops the entry of a repository that was never created on disk (its first fetch failed),
    /// so requests for repositories that do not exist leave nothing behind.
    fn forget_if_absent(&self, key: &str, entry: &Arc<Entry>) {
        if entry.dir.join("HEAD").is_file() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.get(key).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            entries.remove(key);
        }
    }

    async fn refresh(
        &self,
        entry: &Entry,
        url: &str,
        force: bool,
        insecure: bool,
    ) -> Result<(Arc<Refs>, bool), RepoError> {
        let mut state = entry.state.lock().await;
        if let Some(at) = state.refreshed
            && !force
            && at.elapsed() < self.limits.refresh
        {
            return Ok((state.refs.clone(), false));
        }
        let effective = self.git.effective_url(&self.root, url).await?;
        let mut net = confinement(insecure);
        net.extend(self.guard.confine(&effective, insecure).await?);
        let dir = &entry.dir;
        let fetched = if dir.join("HEAD").is_file() {
            self.sync(dir, url, &net, false).await?
        } else {
            // A new repository is built aside and moved into place only once it holds what
            // the remote has: a failed first fetch leaves nothing on disk.
            let tmp = self.create(dir, url).await?;
            match self.sync(&tmp, url, &net, true).await {
                Ok(_) => {}
                Err(e) => {
                    let _ = tokio::fs::remove_dir_all(&tmp).await;
                    return Err(e);
                }
            }
            let io = |e: std::io::Error| RepoError::Io(format!("{}: {e}", dir.display()));
            let _ = tokio::fs::remove_dir_all(dir).await;
            tokio::fs::rename(&tmp, dir).await.map_err(io)?;
            true
        };
        let refs = Arc::new(self.refs(dir).await?);
        state.refs = refs.clone();
        state.refreshed = Some(Instant::now());
        Ok((refs, fetched))
    }

    /// Brings the repository in `dir` up to date with the remote; whether anything was fetched.
    /// A new repository (`fresh`) first tries one fetch of everything without asking ls-remote;
    /// if that fails (an empty repository has no HEAD to fetch), the careful way decides.
    async fn sync(
        &self,
        dir: &Path,
        url: &str,
        net: &[String],
        fresh: bool,
    ) -> Result<bool, RepoError> {
        let head_spec = format!("+HEAD:{HEAD_REF}");
        if fresh {
            let mut args = FETCH.to_vec();
            args.push(&head_spec);
            match self.git.run(dir, &with_config(net, &args)).await {
                Ok(_) => return Ok(true),
                Err(e @ GitError::Timeout { .. }) => return Err(e.into()),
                Err(_) => {}
            }
        }
        let out = self
            .git
            .output(
                dir,
                &with_config(net, &["ls-remote", "-q", "origin"]),
                None,
                super::git::Sink::Memory(super::git::MAX_OUTPUT),
            )
            .await?;
        if !out.status.success() {
            return Err(RepoError::Unreachable {
                url: redact(url).into_owned(),
                reason: super::git::summary(&out),
            });
        }
        let remote = parse_ls_remote(&out.stdout);
        let local = self.local_refs(dir, false).await?;
        let mut fetched = false;
        if remote != local {
            let mut args = FETCH.to_vec();
            if remote.contains_key("HEAD") {
                args.push(&head_spec);
            }
            if !remote.is_empty() {
                self.git.run(dir, &with_config(net, &args)).await?;
                fetched = true;
            }
            if !remote.contains_key("HEAD") {
                let _ = self.git.run(dir, &["update-ref", "-d", HEAD_REF]).await;
            }
        }
        Ok(fetched)
    }

    /// A new bare repository for `url` beside `dir`, not yet in place.
    async fn create(&self, dir: &Path, url: &str) -> Result<PathBuf, RepoError> {
        let io = |e: std::io::Error| RepoError::Io(format!("{}: {e}", dir.display()));
        let tmp = dir.with_extension(format!("tmp{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::create_dir_all(&tmp).await.map_err(io)?;
        let made = async {
            self.git.run(&tmp, &["init", "-q", "--bare"]).await?;
            self.git
                .run(&tmp, &["config", "remote.origin.url", url])
                .await?;
            // As the go command does before `git archive`: export-ignore and export-subst in the
            // repository's .gitattributes must not change a module's files.
            tokio::fs::write(
                tmp.join("info/attributes"),
                "\n* -export-subst -export-ignore\n",
            )
            .await
            .map_err(io)?;
            Ok::<(), RepoError>(())
        }
        .await;
        if let Err(e) = made {
            let _ = tokio::fs::remove_dir_all(&tmp).await;
            return Err(e);
        }
        Ok(tmp)
    }

    /// Local refs peeled to commits, with their commit times.
    async fn refs(&self, dir: &Path) -> Result<Refs, RepoError> {
        let (map, times) = self.read_refs(dir, true).await?;
        Ok(Refs { map, times })
    }

    /// Local refs as ref → object; peeled to commits (`peel`), or as they are, to compare with
    /// `ls-remote`.
    async fn local_refs(
        &self,
        dir: &Path,
        peel: bool,
    ) -> Result<BTreeMap<String, String>, RepoError> {
        Ok(self.read_refs(dir, peel).await?.0)
    }

    async fn read_refs(
        &self,
        dir: &Path,
        peel: bool,
    ) -> Result<(BTreeMap<String, String>, HashMap<String, i64>), RepoError> {
        let out = self
            .git
            .run(
                dir,
                &[
                    "for-each-ref",
                    "--format=%(refname) %(objectname) %(objecttype) %(*objectname) %(*objecttype) %(committerdate:unix) %(*committerdate:unix)",
                    "refs/heads",
                    "refs/tags",
                    HEAD_REF,
                ],
            )
            .await?;
        let mut map = BTreeMap::new();
        let mut times = HashMap::new();
        for line in String::from_utf8_lossy(&out).lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let [name, obj, ty, peeled, peeled_ty, time, peeled_time] = f[..] else {
                continue;
            };
            let name = if name == HEAD_REF { "HEAD" } else { name };
            let (commit, time) = if !peel || ty == "commit" {
                (obj, time)
            } else if ty == "tag" && peeled_ty == "commit" {
                (peeled, peeled_time)
            } else {
                continue;
            };
            map.insert(name.to_string(), commit.to_string());
            if let Ok(t) = time.parse::<i64>() {
                times.insert(commit.to_string(), t);
            }
        }
        Ok((map, times))
    }

    /// Drops least-recently-used repositories (other than `keep`) until the cache fits, in bytes
    /// and in number.
    async fn evict(&self, keep: &str) {
        let mut doomed = Vec::new();
        {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let mut total: u64 = entries
                .values()
                .map(|e| e.size.load(Ordering::SeqCst))
                .sum();
            let fits = |total: u64, count: usize| {
                total <= self.limits.max_bytes && count <= self.limits.max_repos.max(1)
            };
            if fits(total, entries.len()) {
                return;
            }
            let mut order: Vec<(SystemTime, String)> = entries
                .iter()
                .filter(|(k, _)| k.as_str() != keep)
                .map(|(k, e)| {
                    (
                        *e.last_used.lock().unwrap_or_else(|p| p.into_inner()),
                        k.clone(),
                    )
                })
                .collect();
            order.sort();
            for (_, key) in order {
                if fits(total, entries.len()) {
                    break;
                }
                let Some(entry) = entries.get(&key).cloned() else {
                    continue;
                };
                // In use: skip it this time.
                let Ok(write) = entry.in_use.clone().try_write_owned() else {
                    continue;
                };
                entry.evicted.store(true, Ordering::SeqCst);
                entries.remove(&key);
                total = total.saturating_sub(entry.size.load(Ordering::SeqCst));
                doomed.push((entry, write));
            }
        }
        for (entry, write) in doomed {
            tracing::info!(dir = %entry.dir.display(), "evicting cached repository");
            let dir = entry.dir.clone();
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
            drop(write);
        }
    }
}

impl Entry {
    fn new(dir: PathBuf, size: u64, used: SystemTime) -> Self {
        Self {
            dir,
            in_use: Arc::new(RwLock::new(())),
            state: tokio::sync::Mutex::new(State {
                refreshed: None,
                refs: Arc::new(Refs::default()),
            }),
            evicted: AtomicBool::new(false),
            size: AtomicU64::new(size),
            last_used: Mutex::new(used),
        }
    }
}

/// A directory name for a repository URL.
fn key_of(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    hex::encode(&digest[..16])
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(items) = std::fs::read_dir(&d) else {
            continue;
        };
        for item in items.flatten() {
            match item.metadata() {
                Ok(m) if m.is_dir() => stack.push(item.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
