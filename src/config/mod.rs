//! Settings, layered by the `config` crate: built-in defaults, then an optional TOML file
//! (`--config`), then `AGORA_*` environment variables (`__` separates nested keys, so
//! `AGORA_FETCH__LOCK_WAIT_SECS=30` sets `fetch.lock_wait_secs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::store::object::BlobLocation;
use serde::Deserialize;

pub mod net;
pub mod upstreams;

use net::{Cidrs, HostMap, PublicUrl};
use upstreams::UpstreamList;

#[derive(Debug, Deserialize)]
pub struct Settings {
    /// `host:port` to serve on.
    pub listen: String,
    /// `postgres://…` (the production store) or `sqlite://…` (the embedded store). Secret: it may
    /// carry a password.
    pub database_url: SecretString,
    /// A GOPROXY-style list of upstreams (`direct` reads version control itself). Its URLs may
    /// carry credentials: it shows them masked.
    pub upstream: UpstreamList,
    /// GOPRIVATE-style globs (comma-separated): matching modules are always fetched direct and
    /// never sent to a proxy upstream.
    pub private: String,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Directory for temporary downloads and the local zip cache.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub fetch: FetchSettings,
    pub cache: CacheSettings,
    pub direct: DirectSettings,
    pub log: LogSettings,
    pub otel: OtelSettings,
    pub policy: PolicySettings,
    pub sumdb: SumdbSettings,
    pub auth: AuthSettings,
    pub tls: TlsSettings,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_grace_secs: u64,
    pub admin: AdminSettings,
    pub blobs: BlobSettings,
    pub ui: UiSettings,
    /// This server's URL as its users reach it (`https://goproxy.example.com`): the front page's
    /// `go env -w` lines and the forms' origin check use it. Empty: the request's own `Host`.
    pub public_url: PublicUrl,
    /// Proxies (address blocks) whose `Forwarded` / `X-Forwarded-*` headers are believed: the
    /// client's address and, without `public_url`, the host and scheme.
    pub trusted_proxies: Cidrs,
}

/// The web pages.
#[derive(Debug, Deserialize)]
pub struct UiSettings {
    /// Serve `/` (how to use this proxy) and the catalog pages under `/ui/`.
    pub enabled: bool,
    /// A sign-in's absolute lifetime.
    pub session_secs: u64,
    /// A sign-in ends after this long without a request.
    pub session_idle_secs: u64,
    /// Failed sign-ins from one address within `login_window_secs` before it is refused (429)
    /// for the rest of the window.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// Longest time a form body may take to arrive (then 408).
    pub form_read_timeout_secs: u64,
}

/// Where zips are kept, and how they are served.
#[derive(Debug, Deserialize)]
pub struct BlobSettings {
    /// `database` (the default: the database's own tables), `s3://bucket/prefix` (credentials,
    /// region and endpoint from the standard `AWS_*` variables) or `file:///path` (a shared
    /// volume).
    pub url: String,
    /// Answer zip requests with a 307 to a presigned URL of the object store, so zip bytes never
    /// pass through agora (S3 only). `.info`, `.mod` and `list` are always served by agora.
    pub redirect: bool,
    /// How long a presigned URL stays valid.
    pub redirect_ttl_secs: u64,
}

/// Publishing and administration (`/admin/…`, `PUT` of module zips, `/catalog`).
#[derive(Debug, Deserialize)]
pub struct AdminSettings {
    /// Serve the admin, catalog and publish endpoints at all.
    pub enabled: bool,
    /// Largest zip accepted by `PUT`, in bytes.
    pub max_publish_bytes: u64,
    /// Seconds between batched writes of when versions were last served.
    pub usage_flush_secs: u64,
    /// GOPRIVATE-style globs of the modules `PUT` may publish ("" : the `private` patterns).
    pub publish_patterns: String,
    /// Longest silence while reading a `PUT` body before the upload is refused.
    pub publish_read_timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
pub struct DatabaseSettings {
    /// Connections for serving requests.
    pub max_connections: u32,
    /// Connections for storing fetched versions, kept apart so hits never queue behind misses.
    pub fill_connections: u32,
    pub acquire_timeout_secs: u64,
    /// `/readyz` asks the database through a pool of its own and gives up after this long, so a
    /// busy serving pool never makes a replica look dead.
    pub readiness_timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
pub struct FetchSettings {
    /// Longest wait for another replica's fetch of the same version.
    pub lock_wait_secs: u64,
    /// Timeout of an upstream request for list, info and mod; for zips, the longest silence.
    pub upstream_timeout_secs: u64,
    /// Upstream fetches running at once in this replica.
    pub max_concurrent: usize,
    /// Upstream `list`, `@latest` and query lookups running at once in this replica; more wait
    /// (up to `upstream_timeout_secs`) and are then refused with 503.
    pub max_concurrent_lookups: usize,
    /// Largest zip accepted from an upstream, in bytes (the go command's limit is 500 MiB).
    pub max_zip_bytes: u64,
}

#[derive(Debug, Deserialize)]
pub struct CacheSettings {
    /// How long a merged `list` or `@latest` answer is reused.
    pub list_ttl_secs: u64,
    /// Bytes of `list` and `@latest` answers kept per replica.
    pub list_bytes: u64,
    /// How long an upstream's "not found" is remembered (0: not at all).
    pub negative_ttl_secs: u64,
    /// Bytes of `.info`, `.mod` and small zips kept in memory per replica.
    pub memory_bytes: u64,
    /// Zips up to this size are eligible for the memory cache.
    pub memory_zip_max_bytes: u64,
    /// Bytes of zips kept on local disk per replica (0 turns the disk cache off).
    pub disk_bytes: u64,
}

/// Fetching from version control (`direct` in `upstream`, and private modules).
#[derive(Debug, Deserialize)]
pub struct DirectSettings {
    /// The git program.
    pub git: String,
    /// The Mercurial program.
    pub hg: String,
    /// The Subversion program.
    pub svn: String,
    /// The Fossil program.
    pub fossil: String,
    /// `GOVCS` rules: which version control systems may be used for which modules
    /// (`pattern:git|hg,...`); the go command's default (`private:all,public:git|hg`) follows.
    pub vcs: String,
    /// Longest run of one git command.
    pub git_timeout_secs: u64,
    /// Git processes running at once in this replica.
    pub max_git_processes: usize,
    /// Bytes of bare repositories kept under `data_dir/git` (least recently used evicted).
    pub cache_bytes: u64,
    /// Most repositories kept under `data_dir/git`.
    pub cache_max_repos: usize,
    /// Seconds a repository's refs are trusted before the next `git ls-remote`.
    pub refresh_secs: u64,
    /// `GIT_CONFIG_GLOBAL` for git ("" keeps the environment's).
    pub git_config_global: String,
    /// Let meta-tag discovery reach loopback, private and other special-purpose addresses.
    pub allow_private_networks: bool,
    /// Special-purpose address blocks discovery may reach anyway (`10.0.0.0/8,fd00::/8`).
    pub allowed_cidrs: Cidrs,
    /// GOINSECURE-style globs: module paths whose discovery may use plain http.
    pub insecure: String,
    /// Host address overrides for discovery, `host=ip:port,...` (like curl's `--resolve`).
    pub hosts: HostMap,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive; `RUST_LOG` overrides it.
    pub level: String,
}

/// Trace export. The standard `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`,
/// `OTEL_TRACES_SAMPLER` (and the rest of the `OTEL_*` family) override these.
#[derive(Debug, Deserialize)]
pub struct OtelSettings {
    /// OTLP collector URL, e.g. `http://jaeger:4318` (http/protobuf) or `http://jaeger:4317`
    /// (grpc); none turns export off.
    pub endpoint: Option<String>,
    /// `grpc` or `http/protobuf` (`OTEL_EXPORTER_OTLP_PROTOCOL` wins).
    pub protocol: OtlpProtocol,
    pub service_name: String,
}

/// The OTLP transports agora speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OtlpProtocol {
    #[serde(rename = "grpc")]
    Grpc,
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The standard names (`OTEL_EXPORTER_OTLP_PROTOCOL`); anything else is refused, never
    /// silently replaced by another transport.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name.trim() {
            "grpc" => Ok(Self::Grpc),
            "http/protobuf" => Ok(Self::HttpProtobuf),
            other => Err(format!(
                "OTLP protocol {other:?} is not supported: use grpc or http/protobuf"
            )),
        }
    }
}

/// Rules per module pattern and the validation hook (docs/policy.md).
#[derive(Debug, Deserialize)]
pub struct PolicySettings {
    /// The TOML rules file ("" : everything allowed, fetched on a miss).
    pub rules_file: String,
    /// How often the rules file is checked for changes.
    pub reload_secs: u64,
    /// Asked before a version new to the store is stored ("" : no hook). Secret: it may carry
    /// credentials.
    pub hook_url: SecretString,
    pub hook_timeout_secs: u64,
    /// Allow when the hook fails or times out (otherwise refuse the fetch).
    pub hook_fail_open: bool,
    /// How long the hook's answers are reused.
    pub hook_cache_secs: u64,
}

/// Checksum databases proxied under `/sumdb/<name>/`.
#[derive(Debug, Deserialize)]
pub struct SumdbSettings {
    /// Comma-separated database names (`sum.golang.org`); empty proxies none.
    pub names: String,
    /// Per-name base URLs, `name=url,name=url`; a name not listed uses `https://<name>`. Secret:
    /// the URLs may carry credentials.
    pub upstream: SecretString,
    /// Check versions fetched for public modules against the first checksum database before
    /// storing them; a mismatch is refused.
    pub verify_zips: bool,
    /// With `verify_zips`: refuse (502) a version when the database cannot be asked, instead of
    /// storing it with a warning.
    pub verify_fail_closed: bool,
    /// GOPRIVATE-style globs whose lookups are refused with 403 besides `private`.
    pub private: String,
}

impl SumdbSettings {
    pub fn names(&self) -> Vec<String> {
        self.names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect()
    }

    /// The base URL of database `name`.
    pub fn upstream_of(&self, name: &str) -> String {
        self.upstream
            .expose_secret()
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, url)| url.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("https://{name}"))
    }
}

/// Serving https: both files set turns TLS on for `listen`.
#[derive(Debug, Deserialize)]
pub struct TlsSettings {
    /// PEM certificate chain ("" serves plain http).
    pub cert_file: String,
    /// PEM private key.
    pub key_file: String,
    /// PEM certificate authorities trusted for outgoing TLS, besides the system's ("": none).
    pub ca_file: String,
}

/// Client authentication.
#[derive(Debug, Deserialize)]
pub struct AuthSettings {
    /// Require a token for everything but `open_paths`.
    pub enabled: bool,
    /// Comma-separated paths served without a token (a trailing `/` makes a prefix).
    pub open_paths: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error(
        "configuration: database_url must start with postgres:// or sqlite:// (got scheme {0:?})"
    )]
    DatabaseScheme(String),
    #[error("configuration: {0}")]
    Blobs(String),
}

/// Where the settings come from; tests pass the environment explicitly.
pub struct Sources<'a> {
    pub file: Option<&'a Path>,
    pub env: Option<config::Map<String, String>>,
}

impl Settings {
    /// Defaults, then the file, then `AGORA_*` from the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_from(Sources { file, env: None })
    }

    pub fn load_from(sources: Sources<'_>) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder()
            .set_default("listen", "127.0.0.1:3000")?
            .set_default("database_url", "sqlite://agora-data/agora.db")?
            .set_default("upstream", "https://proxy.golang.org")?
            .set_default("migrate_on_start", true)?
            .set_default("data_dir", "agora-data")?
            .set_default("database.max_connections", 16)?
            .set_default("database.fill_connections", 4)?
            .set_default("database.acquire_timeout_secs", 10)?
            .set_default("database.readiness_timeout_ms", 1000)?
            .set_default("fetch.lock_wait_secs", 120)?
            .set_default("fetch.upstream_timeout_secs", 60)?
            .set_default("fetch.max_concurrent", 16)?
            .set_default("fetch.max_concurrent_lookups", 32)?
            .set_default("fetch.max_zip_bytes", gomod::zip::MAX_ZIP_FILE)?
            .set_default("cache.list_ttl_secs", 60)?
            .set_default("cache.list_bytes", 16u64 << 20)?
            .set_default("cache.negative_ttl_secs", 30)?
            .set_default("cache.memory_bytes", 64u64 << 20)?
            .set_default("cache.memory_zip_max_bytes", 1u64 << 20)?
            .set_default("cache.disk_bytes", 2u64 << 30)?
            .set_default("private", "")?
            .set_default("direct.git", "git")?
            .set_default("direct.hg", "hg")?
            .set_default("direct.svn", "svn")?
            .set_default("direct.fossil", "fossil")?
            .set_default("direct.vcs", "")?
            .set_default("direct.git_timeout_secs", 300)?
            .set_default("direct.max_git_processes", 8)?
            .set_default("direct.cache_bytes", 4u64 << 30)?
            .set_default("direct.cache_max_repos", 2000)?
            .set_default("direct.refresh_secs", 15)?
            .set_default("direct.git_config_global", "")?
            .set_default("direct.allow_private_networks", false)?
            .set_default("direct.allowed_cidrs", "")?
            .set_default("direct.insecure", "")?
            .set_default("direct.hosts", "")?
            .set_default("log.format", "text")?
            .set_default("log.level", "info")?
            .set_default("otel.service_name", "agora")?
            .set_default("otel.protocol", "http/protobuf")?
            .set_default("policy.rules_file", "")?
            .set_default("policy.reload_secs", 5)?
            .set_default("policy.hook_url", "")?
            .set_default("policy.hook_timeout_secs", 5)?
            .set_default("policy.hook_fail_open", false)?
            .set_default("policy.hook_cache_secs", 300)?
            .set_default("shutdown_grace_secs", 30)?
            .set_default("sumdb.names", "sum.golang.org")?
            .set_default("sumdb.upstream", "")?
            .set_default("sumdb.verify_zips", true)?
            .set_default("sumdb.verify_fail_closed", false)?
            .set_default("sumdb.private", "")?
            .set_default("tls.cert_file", "")?
            .set_default("tls.key_file", "")?
            .set_default("tls.ca_file", "")?
            .set_default("auth.enabled", false)?
            .set_default("auth.open_paths", "/healthz,/readyz,/metrics")?
            .set_default("admin.enabled", true)?
            .set_default("admin.max_publish_bytes", gomod::zip::MAX_ZIP_FILE)?
            .set_default("admin.usage_flush_secs", 60)?
            .set_default("admin.publish_patterns", "")?
            .set_default("admin.publish_read_timeout_secs", 30)?
            .set_default("blobs.url", "database")?
            .set_default("blobs.redirect", false)?
            .set_default("blobs.redirect_ttl_secs", 300)?
            .set_default("ui.enabled", true)?
            .set_default("ui.session_secs", 28800)?
            .set_default("ui.session_idle_secs", 3600)?
            .set_default("ui.login_max_failures", 10)?
            .set_default("ui.login_window_secs", 900)?
            .set_default("ui.form_read_timeout_secs", 10)?
            .set_default("public_url", "")?
            .set_default("trusted_proxies", "")?;
        if let Some(file) = sources.file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let env = config::Environment::with_prefix("AGORA")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(sources.env);
        let settings: Settings = builder.add_source(env).build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.database_kind()?;
        let blobs = self.blob_location()?;
        if self.blobs.redirect && !matches!(blobs, BlobLocation::S3 { .. }) {
            return Err(SettingsError::Blobs(
                "blobs.redirect needs an s3:// blobs.url (only an object store can presign URLs)"
                    .into(),
            ));
        }
        if self.blobs.redirect && !(1..=7 * 24 * 3600).contains(&self.blobs.redirect_ttl_secs) {
            return Err(SettingsError::Blobs(
                "blobs.redirect_ttl_secs must be between 1 and 604800 (S3's limit)".into(),
            ));
        }
        Ok(())
    }

    pub fn blob_location(&self) -> Result<BlobLocation, SettingsError> {
        BlobLocation::parse(&self.blobs.url).map_err(SettingsError::Blobs)
    }

    /// The modules `PUT` may publish: `admin.publish_patterns`, else the `private` patterns.
    pub fn publish_patterns(&self) -> &str {
        match self.admin.publish_patterns.trim() {
            "" => self.private.trim(),
            own => own,
        }
    }

    pub fn database_kind(&self) -> Result<DatabaseKind, SettingsError> {
        let url = self.database_url.expose_secret();
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        match scheme {
            "postgres" | "postgresql" => Ok(DatabaseKind::Postgres),
            "sqlite" => Ok(DatabaseKind::Sqlite),
            other => Err(SettingsError::DatabaseScheme(other.to_string())),
        }
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.fetch.upstream_timeout_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres,
    Sqlite,
}

#[cfg(test)]
mod tests;
