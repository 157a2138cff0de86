//! Thin handlers: parse, call the service, shape the response.

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures::TryStreamExt;

use super::request::{self, ProxyRequest};
use crate::error::ServiceError;
use crate::service::{Answer, CacheResult, ProxyService, ZipBody};
use crate::telemetry::metrics::METRICS;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=60";
/// Read size when serving a cached zip file.
const FILE_CHUNK: usize = 256 << 10;

/// Every proxy endpoint: `GET` and `HEAD` of `/{module}/@v/…` and `/{module}/@latest`.
pub async fn proxy(
    req: HttpRequest,
    service: web::Data<ProxyService>,
) -> Result<HttpResponse, ServiceError> {
    let parsed = request::parse(req.uri().path())?;
    let span = tracing::Span::current();
    span.record("module", tracing::field::display(parsed.module()));
    if let Some(v) = parsed.version() {
        span.record("version", v);
    }
    let response = match &parsed {
        ProxyRequest::List(m) => small(service.list(m).await?, "text/plain; charset=utf-8"),
        ProxyRequest::Latest(m) => small(service.latest(m).await?, "application/json"),
        ProxyRequest::Info(m, v) => small(service.info(m, v).await?, "application/json"),
        ProxyRequest::Mod(m, v) => small(service.go_mod(m, v).await?, "text/plain; charset=utf-8"),
        ProxyRequest::Zip(m, v) => {
            let answer = service.zip(m, v).await?;
            record_cache(answer.cache);
            let etag = format!("\"{}\"", answer.body.sha256);
            if if_none_match(&req, &etag) {
                return Ok(HttpResponse::NotModified()
                    .insert_header((header::ETAG, etag))
                    .finish());
            }
            let mut builder = HttpResponse::Ok();
            builder
                .insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/zip"),
                ))
                .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)))
                .insert_header((header::ETAG, etag));
            match answer.body.body {
                ZipBody::Memory(bytes) => builder.body(bytes),
                ZipBody::File(file) => {
                    let stream = tokio_util::io::ReaderStream::with_capacity(file, FILE_CHUNK);
                    builder.body(SizedStream::new(answer.body.size, stream))
                }
                ZipBody::Stream(stream) => {
                    let stream = stream.map_err(|e| {
                        tracing::error!(error = %e, "zip stream broke off");
                        actix_web::error::ErrorInternalServerError("zip stream broke off")
                    });
                    builder.body(SizedStream::new(answer.body.size, stream))
                }
            }
        }
    };
    Ok(response)
}

fn small(answer: Answer<Bytes>, content_type: &'static str) -> HttpResponse {
    record_cache(answer.cache);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(if answer.immutable { IMMUTABLE } else { SHORT }),
        ))
        .body(answer.body)
}

fn record_cache(cache: CacheResult) {
    tracing::Span::current().record("cache", cache.as_str());
    METRICS.cache.with_label_values(&[cache.as_str()]).inc();
}

fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// The process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// How long `/readyz` may take: shorter than the readiness probe's own timeout.
#[derive(Debug, Clone, Copy)]
pub struct ReadinessTimeout(pub std::time::Duration);

/// The database answers (through its own small pool) and its schema is current, within the
/// readiness timeout.
pub async fn readyz(
    service: web::Data<ProxyService>,
    timeout: Option<web::Data<ReadinessTimeout>>,
) -> HttpResponse {
    let store = service.store();
    let limit = timeout.map_or(std::time::Duration::from_secs(1), |t| t.0);
    let check = async {
        store.ping().await.map_err(|e| e.to_string())?;
        match store.migrations_current().await {
            Ok(true) => Ok(()),
            Ok(false) => {
                Err("database migrations are not current (run `agora migrate`)".to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    };
    let verdict = tokio::time::timeout(limit, check)
        .await
        .unwrap_or_else(|_| Err(format!("the database did not answer within {limit:?}")));
    match verdict {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready\n"),
        Err(reason) => {
            // The cause (which may name hosts, users or SQL) goes to the log, not to whoever asks.
            tracing::warn!(reason = %crate::redact::redact(&reason), "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body("not ready: the database is unreachable or its migrations are not current (see the server log)\n")
        }
    }
}

pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .content_type("text/plain; charset=utf-8")
        .body("method not allowed: the module proxy protocol is read-only\n")
}

/// Prometheus metrics; pool gauges are read now.
pub async fn metrics(service: web::Data<ProxyService>) -> HttpResponse {
    for pool in service.store().pool_stats() {
        METRICS
            .db_connections
            .with_label_values(&[pool.name, "idle"])
            .set(pool.idle as i64);
        METRICS
            .db_connections
            .with_label_values(&[pool.name, "in_use"])
            .set(i64::from(pool.size) - pool.idle as i64);
    }
    match METRICS.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "rendering metrics");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("metrics unavailable\n")
        }
    }
}

/// The build's version and commit.
pub async fn version() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": env!("AGORA_BUILD_COMMIT"),
    }))
}
