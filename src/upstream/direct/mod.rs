//! `direct`: modules read from their version control repositories, as the go command does with
//! `GOPROXY=direct`, with zips whose `h1:` hashes equal the go command's.
//!
//! - `resolve`: `?go-get=1` discovery (known hosts and the `.git`/`.hg` suffix rule are
//!   `gomod::vcs`); `mod` meta tags delegate to a GOPROXY.
//! - `guard`: the one guarded way to the network, for discovery, `mod` proxies and the tools.
//! - `git`: running the tools (git, hg), never interactive, bounded in time and number.
//! - `host`: what each version control system does (`Mirror`: keep a local copy; `Host`: read it).
//! - `cache`: those copies on local disk, LRU-evicted (`refs`: what they hold); `confine`: what
//!   git may reach.
//! - `repo`: the go command's `codeRepo`, the same for every system (its pure rules are
//!   `gomod::coderepo`).
//! - `archive`: the tool's archive → module zip.

pub mod archive;
pub mod cache;
pub mod confine;
pub mod egress;
pub mod git;
pub mod guard;
pub mod host;
pub mod intercept;
pub mod refs;
pub mod repo;
pub mod resolve;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::proxy::ProxyUpstream;
use super::{Info, Upstream, UpstreamError, ZipDownload};
use crate::upstream::trust::Trust;
use cache::{CacheLimits, RepoCache, RepoError};
use git::{Git, GitError, GitOptions, Tool};
use gomod::coderepo::Layout;
use gomod::module::ModulePath;
use gomod::vcs::Govcs;
use gomod::version::Version;
use guard::{Guard, NetPolicy};
use host::fossil::FossilHost;
use host::git::GitHost;
use host::hg::HgHost;
use host::svn::SvnHost;
use host::{Host, Kind, Mirror};
use repo::CodeRepo;
use resolve::{Discovery, RepoRoot, Vcs};

pub struct DirectOptions {
    pub git: GitOptions,
    /// The Mercurial program.
    pub hg: PathBuf,
    /// The Subversion program.
    pub svn: PathBuf,
    /// The Fossil program.
    pub fossil: PathBuf,
    /// Which version control systems may be used for which modules.
    pub vcs: Govcs,
    /// GOPRIVATE-style globs: the modules `vcs`'s `private` names.
    pub private: String,
    /// Where the bare repositories are kept.
    pub cache_dir: PathBuf,
    pub cache_bytes: u64,
    pub cache_max_repos: usize,
    /// How long a repository's refs are trusted before the next `ls-remote`.
    pub refresh: Duration,
    pub net: NetPolicy,
    /// The authorities TLS connections trust.
    pub trust: Trust,
    /// Timeout of discovery and of `mod` meta tags' proxies.
    pub proxy_timeout: Duration,
    /// Temporary files (git archives).
    pub temp_dir: PathBuf,
}

pub struct DirectUpstream {
    cache: RepoCache,
    git: Arc<GitHost>,
    hg: Arc<HgHost>,
    svn: Arc<SvnHost>,
    fossil: Arc<FossilHost>,
    vcs: Govcs,
    private: String,
    /// The one guarded way to the network: discovery, `mod` proxies and git all pass it.
    guard: Arc<Guard>,
    discovery: Discovery,
    roots: moka::sync::Cache<String, RepoRoot>,
    blobs: repo::Blobs,
    proxy_timeout: Duration,
    temp_dir: PathBuf,
}

/// Where one module's code comes from.
enum Target {
    Code(CodeRepo),
    Proxy(ProxyUpstream),
}

fn repo_err(e: RepoError) -> UpstreamError {
    match e {
        RepoError::Unreachable { .. } | RepoError::Refused(_) => {
            UpstreamError::NotFound(e.to_string())
        }
        RepoError::Git(GitError::Timeout { .. }) => UpstreamError::Timeout(e.to_string()),
        RepoError::Git(GitError::TooLarge { .. }) => UpstreamError::Invalid(e.to_string()),
        RepoError::Git(other) => UpstreamError::Transport {
            url: "git".into(),
            reason: other.to_string(),
        },
        RepoError::Io(m) => UpstreamError::Io(m),
    }
}

/// Evaluates `$body` with `$t` bound to the module's code; a revision not found in refs that may
/// be stale is tried once more after a forced refresh.
macro_rules! with_target {
    ($self:ident, $module:expr, |$t:ident| $body:expr) => {{
        let $t = $self.target($module, false).await?;
        let first: Result<_, UpstreamError> = async { $body }.await;
        match first {
            Err(UpstreamError::NotFound(m)) if m.contains("unknown revision") => {
                let $t = $self.target($module, true).await?;
                async { $body }.await
            }
            other => other,
        }
    }};
}

impl DirectUpstream {
    pub fn new(options: DirectOptions) -> std::io::Result<Self> {
        let git = Git::new(options.git);
        let guard = Arc::new(Guard {
            policy: options.net,
            timeout: options.proxy_timeout,
            trust: options.trust,
        });
        let hg = Arc::new(HgHost::new(git.other(Tool::Hg, options.hg), guard.clone()));
        let svn = Arc::new(SvnHost::new(
            git.other(Tool::Svn, options.svn),
            guard.clone(),
        ));
        let fossil = Arc::new(FossilHost::new(
            git.other(Tool::Fossil, options.fossil),
            guard.clone(),
        ));
        let git = Arc::new(GitHost::new(git));
        let mirrors: Vec<Arc<dyn Mirror>> =
            vec![git.clone(), hg.clone(), svn.clone(), fossil.clone()];
        let discovery = Discovery {
            guard: guard.clone(),
            timeout: options.proxy_timeout,
        };
        std::fs::create_dir_all(&options.temp_dir)?;
        let limits = CacheLimits {
            max_bytes: options.cache_bytes,
            max_repos: options.cache_max_repos,
            refresh: options.refresh,
        };
        Ok(Self {
            cache: RepoCache::new(options.cache_dir, limits, mirrors, guard.clone())?,
            git,
            hg,
            svn,
            fossil,
            vcs: options.vcs,
            private: options.private,
            guard,
            discovery,
            roots: moka::sync::Cache::builder()
                .max_capacity(4 << 20)
                .weigher(|k: &String, v: &RepoRoot| {
                    let n = k.len() + v.root.len() + v.url.len() + v.subdir.len() + 64;
                    u32::try_from(n).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(600))
                .build(),
            blobs: repo::blob_cache(32 << 20),
            proxy_timeout: options.proxy_timeout,
            temp_dir: options.temp_dir,
        })
    }

    async fn repo_root(&self, module: &ModulePath) -> Result<RepoRoot, UpstreamError> {
        let path = module.as_str();
        if let Some(r) = self.roots.get(path) {
            return Ok(r);
        }
        let root = match gomod::vcs::known_host(path) {
            Some(r) => r.map_err(UpstreamError::NotFound)?,
            None => self.discovery.discover(path).await?,
        };
        self.roots.insert(path.to_string(), root.clone());
        Ok(root)
    }

    async fn target(&self, module: &ModulePath, force: bool) -> Result<Target, UpstreamError> {
        let root = self.repo_root(module).await?;
        let insecure =
            gomod::module::match_prefix_patterns(&self.guard.policy.insecure, module.as_str());
        match root.vcs {
            Vcs::Mod => {
                let url = url::Url::parse(&root.url).map_err(|e| {
                    UpstreamError::NotFound(format!(
                        "mod URL {:?}: {e}",
                        crate::redact::redact(&root.url)
                    ))
                })?;
                let client = self.guard.proxy_client(&url, insecure).await?;
                Ok(Target::Proxy(ProxyUpstream::new(
                    &url,
                    client,
                    self.proxy_timeout,
                )))
            }
            Vcs::Git | Vcs::Hg | Vcs::Svn | Vcs::Fossil => {
                let private = gomod::module::match_prefix_patterns(&self.private, module.as_str());
                if !self.vcs.allows(root.vcs.name(), &root.root, private) {
                    return Err(UpstreamError::NotFound(format!(
                        "{module}: {}",
                        Govcs::refusal(root.vcs.name(), &root.root, private)
                    )));
                }
                let (kind, host): (Kind, Arc<dyn Host>) = match root.vcs {
                    Vcs::Hg => (Kind::Hg, self.hg.clone()),
                    Vcs::Svn => (Kind::Svn, self.svn.clone()),
                    Vcs::Fossil => (Kind::Fossil, self.fossil.clone()),
                    _ => (Kind::Git, self.git.clone()),
                };
                let layout = Layout::new(module.as_str(), &root.root, &root.subdir)
                    .map_err(UpstreamError::NotFound)?;
                let repo = self
                    .cache
                    .open(kind, &root.url, force, insecure)
                    .await
                    .map_err(repo_err)?;
                Ok(Target::Code(CodeRepo {
                    host,
                    repo,
                    layout,
                    blobs: self.blobs.clone(),
                }))
            }
        }
    }

    async fn build_zip(
        &self,
        code: &CodeRepo,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        let (info, found) = code.locate(version.as_str()).await?;
        let vcs_zip = tempfile::Builder::new()
            .prefix("vcs-archive-")
            .suffix(".zip")
            .tempfile_in(&self.temp_dir)
            .map_err(|e| UpstreamError::Io(format!("temporary file: {e}")))?;
        // The archive holds the directory's every file, some of which the module zip leaves out
        // (vendor, nested modules): room for twice the zip limit, and not a byte more on disk.
        let archive_limit = max_bytes.saturating_mul(2);
        code.host
            .archive(
                &code.repo.dir,
                &info.hash,
                &found.dir,
                vcs_zip.path(),
                archive_limit,
            )
            .await
            .map_err(|e| {
                host::archive_err(e, &code.repo.url, max_bytes, &format!("{module}@{version}"))
            })?;
        let license = if found.dir.is_empty() {
            None
        } else {
            code.root_license(&info.hash).await?
        };
        let (archive, subdir, m, v, d) = (
            vcs_zip.path().to_path_buf(),
            found.dir.clone(),
            module.to_string(),
            version.to_string(),
            dest.to_path_buf(),
        );
        let built = tokio::task::spawn_blocking(move || {
            archive::build(&archive, &subdir, license, &m, &v, &d)
        })
        .await
        .map_err(|e| UpstreamError::Io(format!("zip task: {e}")))?
        .map_err(|e| match e {
            archive::BuildError::Module(m) => {
                UpstreamError::NotFound(format!("{module}@{version}: {m}"))
            }
            archive::BuildError::Io(m) => UpstreamError::Io(m),
        })?;
        drop(vcs_zip);
        if built.size > max_bytes {
            return Err(UpstreamError::TooLarge(max_bytes));
        }
        Ok(ZipDownload {
            size: built.size,
            sha256: built.sha256,
            source: format!("direct {}", crate::redact::redact(&code.repo.url)),
        })
    }
}

#[async_trait]
impl Upstream for DirectUpstream {
    fn name(&self) -> String {
        "direct".into()
    }

    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        with_target!(self, module, |t| match &t {
            Target::Proxy(p) => p.list(module).await,
            Target::Code(code) => {
                let list = code.versions().await?;
                Ok(list.iter().map(|v| format!("{v}\n")).collect())
            }
        })
    }

    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        with_target!(self, module, |t| match &t {
            Target::Proxy(p) => p.latest(module).await,
            Target::Code(code) => Info::parse(code.info_json(&code.latest_query().await?)),
        })
    }

    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        with_target!(self, module, |t| match &t {
            Target::Proxy(p) => p.info(module, query).await,
            Target::Code(code) => Info::parse(code.info_json(&code.stat_version(query).await?)),
        })
    }

    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        with_target!(self, module, |t| match &t {
            Target::Proxy(p) => p.go_mod(module, version).await,
            Target::Code(code) => code.go_mod(version.as_str()).await,
        })
    }

    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        with_target!(self, module, |t| match &t {
            Target::Proxy(p) => p.zip(module, version, dest, max_bytes).await,
            Target::Code(code) => self.build_zip(code, module, version, dest, max_bytes).await,
        })
    }
}
