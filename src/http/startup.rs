//! Builds the application on a listener it binds itself, so tests can ask for port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use tracing_actix_web::TracingLogger;

use super::handlers;
use super::span::RequestSpan;
use crate::admin::access::AdminEnabled;
use crate::auth::{self, Authenticator, Scope};
use crate::config::Settings;
use crate::error::ServiceError;
use crate::fetch::{Fetcher, FetcherOptions};
use crate::policy::{DirectRules, LiveRules};
use crate::service::{ProxyService, ServiceOptions};
use crate::store::{self, Store};
use crate::sumdb::SumdbProxy;
use crate::sumdb::verify::{SumdbVerifier, ZipVerifier};
use crate::upstream::Upstream;
use crate::upstream::chain::{Chain, Entry, Off};
use crate::upstream::direct::git::GitOptions;
use crate::upstream::direct::resolve::NetPolicy;
use crate::upstream::direct::{DirectOptions, DirectUpstream};
use crate::upstream::private::PrivatePatterns;
use crate::upstream::proxy::ProxyUpstream;
use crate::upstream::router::Router;
use crate::zipcache::ZipCache;

pub struct Application {
    port: u16,
    server: Server,
    store: Arc<dyn Store>,
}

impl Application {
    /// Connects to the configured store, migrates it unless told not to, and binds.
    pub async fn build(settings: &Settings, migrate: bool) -> anyhow::Result<Self> {
        let store = store::connect(settings).await?;
        if migrate {
            store.migrate().await?;
        }
        Self::build_with_store(settings, store)
    }

    pub fn build_with_store(settings: &Settings, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let rules = crate::policy::rules_from(settings)?;
        let upstream = build_upstream_with(settings, rules.as_ref())?;
        let temp_dir = settings.data_dir.join("tmp");
        std::fs::create_dir_all(&temp_dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", temp_dir.display()))?;
        let timeout = settings.upstream_timeout();
        let sumdb_client = ProxyUpstream::client(timeout.min(Duration::from_secs(10)), timeout)?;
        let sumdb = Arc::new(SumdbProxy::new(settings, sumdb_client, store.clone()));
        let verifier: Option<Arc<dyn ZipVerifier>> = if settings.sumdb.verify_zips {
            SumdbVerifier::new(sumdb.clone(), settings.sumdb.verify_fail_closed)
                .map(|v| Arc::new(v) as Arc<dyn ZipVerifier>)
        } else {
            None
        };
        let hook = crate::policy::hook_from(settings)?;
        let fetcher = Arc::new(
            Fetcher::new(
                store.clone(),
                upstream.clone(),
                FetcherOptions {
                    max_concurrent: settings.fetch.max_concurrent,
                    lock_wait: Duration::from_secs(settings.fetch.lock_wait_secs),
                    max_zip_bytes: settings.fetch.max_zip_bytes,
                    temp_dir,
                },
            )
            .with_hook(hook.clone())
            .with_verifier(verifier),
        );
        let disk = if settings.cache.disk_bytes > 0 {
            let dir = settings.data_dir.join("zip-cache");
            let cache = ZipCache::open(dir.clone(), settings.cache.disk_bytes)
                .map_err(|e| anyhow::anyhow!("zip cache in {}: {e}", dir.display()))?;
            Some(Arc::new(cache))
        } else {
            None
        };
        let mut service = ProxyService::new(
            store.clone(),
            upstream,
            fetcher,
            ServiceOptions {
                list_ttl: Duration::from_secs(settings.cache.list_ttl_secs),
                list_bytes: settings.cache.list_bytes,
                negative_ttl: Duration::from_secs(settings.cache.negative_ttl_secs),
                max_lookups: settings.fetch.max_concurrent_lookups,
                lookup_wait: timeout,
                memory_bytes: settings.cache.memory_bytes,
                memory_zip_max: settings.cache.memory_zip_max_bytes,
                disk,
                usage_flush: Duration::from_secs(settings.admin.usage_flush_secs),
            },
        );
        if let Some(rules) = rules {
            service = service.with_rules(rules);
        }
        let service = web::Data::new(service);
        let sumdb = web::Data::from(sumdb);
        let authenticator = web::Data::new(Authenticator::new(
            settings.auth.enabled,
            &settings.auth.open_paths,
            store.clone(),
        ));
        let publish = web::Data::new(crate::publish::PublishOptions {
            max_bytes: settings.admin.max_publish_bytes,
            temp_dir: settings.data_dir.join("tmp"),
            patterns: settings.publish_patterns().to_string(),
            read_timeout: Duration::from_secs(settings.admin.publish_read_timeout_secs.max(1)),
            sumdb: Some(sumdb.clone().into_inner()),
            hook,
        });
        let admin_enabled = AdminEnabled(settings.admin.enabled);
        let readiness = web::Data::new(handlers::ReadinessTimeout(Duration::from_millis(
            settings.database.readiness_timeout_ms.max(1),
        )));
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| anyhow::anyhow!("listening on {}: {e}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(auth::require_token))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(service.clone())
                .app_data(sumdb.clone())
                .app_data(authenticator.clone())
                .app_data(publish.clone())
                .app_data(admin_enabled)
                .app_data(readiness.clone())
                .configure(crate::admin::configure)
                .route("/healthz", web::get().to(handlers::healthz))
                .route("/readyz", web::get().to(handlers::readyz))
                .route("/metrics", web::get().to(handlers::metrics))
                .route("/version", web::get().to(handlers::version))
                .default_service(web::to(dispatch))
        })
        .shutdown_timeout(settings.shutdown_grace_secs);
        let server = match tls_config(settings)? {
            Some(tls) => server.listen_rustls_0_23(listener, tls)?,
            None => server.listen(listener)?,
        }
        .run();
        Ok(Self {
            port,
            server,
            store,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, letting in-flight requests (and so their fetches) finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.store.close().await;
        result
    }
}

async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    service: web::Data<ProxyService>,
    sumdb: web::Data<SumdbProxy>,
) -> Result<HttpResponse, ServiceError> {
    if req.method() == Method::PUT {
        return crate::publish::put(req, payload, service).await;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(handlers::method_not_allowed().await);
    }
    auth::authorize(&req, Scope::Read).await?;
    if req.path().starts_with("/sumdb/") {
        let answer = sumdb.serve(req.uri().path()).await?;
        let cache = if answer.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let status = actix_web::http::StatusCode::from_u16(answer.status)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        return Ok(HttpResponse::build(status)
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
            .body(answer.body));
    }
    handlers::proxy(req, service).await
}

/// The TLS server configuration, when `tls.cert_file` and `tls.key_file` are set.
fn tls_config(settings: &Settings) -> anyhow::Result<Option<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (settings.tls.cert_file.trim(), settings.tls.key_file.trim());
    match (cert.is_empty(), key.is_empty()) {
        (true, true) => return Ok(None),
        (false, false) => {}
        _ => anyhow::bail!("tls: set both cert_file and key_file, or neither"),
    }
    crate::install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("tls: reading {cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("tls: reading {key}: {e}"))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow::anyhow!("tls: {e}"))?;
    Ok(Some(config))
}

/// The upstream chain the settings describe.
pub fn build_upstream(settings: &Settings) -> anyhow::Result<Arc<dyn Upstream>> {
    build_upstream_with(settings, None)
}

/// The upstream chain, routed by the policy rules when there are some: modules they send
/// `direct` go to version control only, so the direct upstream always exists with rules.
pub fn build_upstream_with(
    settings: &Settings,
    rules: Option<&Arc<LiveRules>>,
) -> anyhow::Result<Arc<dyn Upstream>> {
    crate::install_crypto_provider();
    let list = settings.upstreams()?;
    let timeout = settings.upstream_timeout();
    let client = ProxyUpstream::client(timeout.min(Duration::from_secs(10)), timeout)?;
    let private = settings.private.trim();
    let needs_direct = !private.is_empty()
        || rules.is_some()
        || list.entries.iter().any(|(e, _)| *e == Entry::Direct);
    let direct: Option<Arc<dyn Upstream>> = if needs_direct {
        Some(Arc::new(build_direct(settings, timeout)?))
    } else {
        None
    };
    let links = list
        .entries
        .iter()
        .map(|(entry, fallback)| {
            let link: Box<dyn Upstream> = match (entry, &direct) {
                (Entry::Proxy(url), _) => {
                    Box::new(ProxyUpstream::new(url, client.clone(), timeout))
                }
                (Entry::Direct, Some(d)) => Box::new(d.clone()),
                (Entry::Off, _) | (Entry::Direct, None) => Box::new(Off),
            };
            (link, *fallback)
        })
        .collect();
    let chain: Arc<dyn Upstream> = Arc::new(Chain::new(links));
    let split: Arc<dyn Upstream> = match &direct {
        Some(d) if !private.is_empty() => Arc::new(Router::new(
            PrivatePatterns(private.to_string()),
            d.clone(),
            chain,
        )),
        _ => chain,
    };
    Ok(match (rules, direct) {
        (Some(rules), Some(d)) => Arc::new(Router::new(DirectRules(rules.clone()), d, split)),
        _ => split,
    })
}

/// The git-reading upstream (`direct`), with its repository cache under `data_dir/git`.
fn build_direct(settings: &Settings, timeout: Duration) -> anyhow::Result<DirectUpstream> {
    let d = &settings.direct;
    let net = NetPolicy {
        allow_private_networks: d.allow_private_networks,
        allowed_cidrs: NetPolicy::parse_cidrs(&d.allowed_cidrs).map_err(anyhow::Error::msg)?,
        insecure: d.insecure.clone(),
        hosts: NetPolicy::parse_hosts(&d.hosts).map_err(anyhow::Error::msg)?,
    };
    let options = DirectOptions {
        git: GitOptions {
            program: d.git.clone().into(),
            timeout: Duration::from_secs(d.git_timeout_secs.max(1)),
            max_processes: d.max_git_processes,
            global_config: (!d.git_config_global.is_empty())
                .then(|| d.git_config_global.clone().into()),
        },
        cache_dir: settings.data_dir.join("git"),
        cache_bytes: d.cache_bytes,
        cache_max_repos: d.cache_max_repos,
        refresh: Duration::from_secs(d.refresh_secs),
        net,
        proxy_timeout: timeout,
        temp_dir: settings.data_dir.join("tmp"),
    };
    DirectUpstream::new(options).map_err(|e| {
        anyhow::anyhow!(
            "repository cache under {}: {e}",
            settings.data_dir.display()
        )
    })
}
