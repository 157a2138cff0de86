//! A per-replica cache of repositories on local disk, one per version control system and URL,
//! bounded in size and evicted least-recently-used. Each system's [`Mirror`] brings a copy up to
//! date (git: one `ls-remote` and, only when a ref moved, one incremental `fetch`, shallow until
//! a request needs history; hg: one `pull`), so a second version of a repository fetches only
//! what is new. Nothing here is
//! authoritative: the store is. A replica with an empty cache just clones again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use super::confine::RemoteGuard;
use super::git::GitError;
use super::host::{Kind, Mirror};
pub use super::refs::{Refs, parse_ls_remote};

#[derive(Debug, Clone, thiserror::Error)]
pub enum RepoError {
    /// The repository cannot be read at all (does not exist, no access, unreachable). `url` is
    /// the shown form, `reason` git's own summary.
    #[error("{url}: {reason}")]
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
    /// The confinement of the last refresh, for fetches a request needs later.
    net: Arc<Vec<String>>,
}

struct Entry {
    dir: PathBuf,
    /// Held (shared) while a request reads the repository; eviction needs it exclusively.
    in_use: Arc<RwLock<()>>,
    /// Serialises creation and refreshes.
    state: tokio::sync::Mutex<State>,
    /// Held by every fetch into the repository (a refresh, a request deepening it), so two never
    /// write its refs at once.
    fetching: Arc<tokio::sync::Mutex<()>>,
    evicted: AtomicBool,
    size: AtomicU64,
    last_used: Mutex<SystemTime>,
}

/// A cached repository, up to date, held open until dropped.
pub struct Repo {
    pub dir: PathBuf,
    pub url: String,
    pub kind: Kind,
    pub refs: Arc<Refs>,
    /// What confines the tool's network commands for this repository.
    pub net: Arc<Vec<String>>,
    /// Held while fetching into the repository.
    pub fetching: Arc<tokio::sync::Mutex<()>>,
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
    mirrors: Vec<Arc<dyn Mirror>>,
    guard: Arc<dyn RemoteGuard>,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl RepoCache {
    /// Opens the cache under `root`, counting what an earlier run left there. The tools reach
    /// only what `guard` allows.
    pub fn new(
        root: PathBuf,
        limits: CacheLimits,
        mirrors: Vec<Arc<dyn Mirror>>,
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
            if !mirrors.iter().any(|m| m.present(&path)) {
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
            mirrors,
            guard,
            entries: Mutex::new(entries),
        })
    }

    /// The repository of version control system `kind` at `url`, brought up to date unless
    /// that was done within the refresh interval. `force` refreshes anyway (a revision nobody
    /// has seen yet may be new); `insecure` allows plain http. Nothing is kept of a repository
    /// that could not be fetched.
    pub async fn open(
        &self,
        kind: Kind,
        url: &str,
        force: bool,
        insecure: bool,
    ) -> Result<Repo, RepoError> {
        let mirror = self
            .mirrors
            .iter()
            .find(|m| m.kind() == kind)
            .cloned()
            .ok_or_else(|| RepoError::Refused(format!("{} is not enabled", kind.name())))?;
        let mirror = mirror.as_ref();
        let key = key_of(kind, url);
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
            let (refs, net, fetched) =
                match self.refresh(mirror, &entry, url, force, insecure).await {
                    Ok(r) => r,
                    Err(e) => {
                        drop(guard);
                        self.forget_if_absent(mirror, &key, &entry);
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
                kind,
                refs,
                net,
                fetching: entry.fetching.clone(),
                _in_use: guard,
            });
        }
    }

    /// Drops the entry of a repository that was never created on disk (its first fetch failed),
    /// so requests for repositories that do not exist leave nothing behind.
    fn forget_if_absent(&self, mirror: &dyn Mirror, key: &str, entry: &Arc<Entry>) {
        if mirror.present(&entry.dir) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.get(key).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            entries.remove(key);
        }
    }

    async fn refresh(
        &self,
        mirror: &dyn Mirror,
        entry: &Entry,
        url: &str,
        force: bool,
        insecure: bool,
    ) -> Result<(Arc<Refs>, Arc<Vec<String>>, bool), RepoError> {
        let mut state = entry.state.lock().await;
        if let Some(at) = state.refreshed
            && !force
            && at.elapsed() < self.limits.refresh
        {
            return Ok((state.refs.clone(), state.net.clone(), false));
        }
        let net = mirror
            .confine(&self.root, url, insecure, self.guard.as_ref())
            .await?;
        let _fetching = entry.fetching.lock().await;
        let dir = &entry.dir;
        let fetched = if mirror.present(dir) {
            mirror.sync(dir, url, &net, false).await?
        } else {
            // A new repository is built aside and moved into place only once it holds what
            // the remote has: a failed first fetch leaves nothing on disk.
            let tmp = self.create(mirror, dir, url).await?;
            match mirror.sync(&tmp, url, &net, true).await {
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
        let refs = Arc::new(mirror.refs(dir).await?);
        let net = Arc::new(net);
        state.refs = refs.clone();
        state.net = net.clone();
        state.refreshed = Some(Instant::now());
        Ok((refs, net, fetched))
    }

    /// A new, empty repository for `url` beside `dir`, not yet in place.
    async fn create(
        &self,
        mirror: &dyn Mirror,
        dir: &Path,
        url: &str,
    ) -> Result<PathBuf, RepoError> {
        let io = |e: std::io::Error| RepoError::Io(format!("{}: {e}", dir.display()));
        let tmp = dir.with_extension(format!("tmp{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::create_dir_all(&tmp).await.map_err(io)?;
        if let Err(e) = mirror.create(&tmp, url).await {
            let _ = tokio::fs::remove_dir_all(&tmp).await;
            return Err(e);
        }
        Ok(tmp)
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
                net: Arc::new(Vec::new()),
            }),
            fetching: Arc::new(tokio::sync::Mutex::new(())),
            evicted: AtomicBool::new(false),
            size: AtomicU64::new(size),
            last_used: Mutex::new(used),
        }
    }
}

/// A directory name for a repository URL (git's keep the names they had before other systems
/// were added).
fn key_of(kind: Kind, url: &str) -> String {
    let digest = match kind {
        Kind::Git => Sha256::digest(url.as_bytes()),
        other => Sha256::digest(format!("{}:{url}", other.name()).as_bytes()),
    };
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
