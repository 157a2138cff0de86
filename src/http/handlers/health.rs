//! The process, its database and its blob store: `/healthz`, `/readyz`, `/metrics`, `/version`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::store::{BlobStore, Database};
use crate::telemetry::metrics::METRICS;

/// How long `/readyz` may take: shorter than the readiness probe's own timeout.
#[derive(Debug, Clone, Copy)]
pub struct ReadinessTimeout(pub Duration);

/// The process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// The database answers (through its own small pool) and its schema is current, and the blob
/// store answers, within the readiness timeout. Why not is logged, never told: strangers may ask.
pub async fn readyz(
    database: web::Data<Arc<dyn Database>>,
    blobs: web::Data<Arc<dyn BlobStore>>,
    timeout: web::Data<ReadinessTimeout>,
) -> HttpResponse {
    let limit = timeout.0;
    let check = async {
        let (db, blobs) = tokio::join!(database.ping(), blobs.ping());
        db.map_err(|e| e.to_string())?;
        blobs.map_err(|e| e.to_string())?;
        match database.migrations_current().await {
            Ok(true) => Ok(()),
            Ok(false) => {
                Err("database migrations are not current (run `agora migrate`)".to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    };
    let verdict = tokio::time::timeout(limit, check)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the database or the blob store did not answer within {limit:?}"
            ))
        });
    match verdict {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready\n"),
        Err(reason) => {
            tracing::warn!(reason = %crate::redact::redact(&reason), "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body("not ready: the database or the blob store is unreachable, or migrations are not current (see the server log)\n")
        }
    }
}

/// Prometheus metrics; pool gauges are read now.
pub async fn metrics(database: web::Data<Arc<dyn Database>>) -> HttpResponse {
    for pool in database.pool_stats() {
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
